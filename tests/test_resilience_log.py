"""Specification: a failed turn is logged by where it failed, never by what it was about.

An exception's message may quote the customer's words: SQLAlchemy's states the failed
statement's parameters, which hold the event's JSON. The log keeps the exception's type and
where it was raised; the customer is still asked to resend.
"""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

from madoguchi.rasa_adapters.resilience import (
    TrackerStoreUnavailable,
    resilient,
    retry_text,
)

WORDS = "090-1234-5678 の山田花子です。住所を直してください"


class _Channel:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[str] = []
        self.fail = fail

    async def send_text_message(self, recipient: str, text: str) -> None:
        if self.fail:
            raise ConnectionError(f"could not deliver {text!r} after {WORDS!r}")
        self.sent.append(text)


def _message(channel: _Channel) -> SimpleNamespace:
    return SimpleNamespace(sender_id="c0ffee", text=WORDS, output_channel=channel)


def _run(exc: BaseException, channel: _Channel, caplog) -> str:
    async def failing(message):
        raise exc

    with caplog.at_level(logging.DEBUG):
        asyncio.run(resilient(failing)(_message(channel)))
    return caplog.text


def test_a_failed_turn_logs_where_it_failed_not_the_words(caplog):
    statement = ("(sqlite3.OperationalError) database is locked [SQL: INSERT INTO events ...] "
                 f"[parameters: ('{{\"text\": \"{WORDS}\"}}',)]")
    channel = _Channel()
    log = _run(RuntimeError(statement), channel, caplog)
    assert channel.sent == [retry_text()]
    assert "RuntimeError" in log and "c0ffee" in log and "failing" in log
    assert "090-1234-5678" not in log and "山田" not in log and "database is locked" not in log


def test_a_store_outage_and_a_lost_resend_log_no_words_either(caplog):
    log = _run(TrackerStoreUnavailable(f"events of {WORDS}"), _Channel(fail=True), caplog)
    assert "TrackerStoreUnavailable" in log and "ConnectionError" in log
    assert "090-1234-5678" not in log and "山田" not in log
