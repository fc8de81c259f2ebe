"""Issue 15, item 14: an error inside the channel's guard writes no customer words to rasa.log.

The guard reads the conversation before every message (a split card number, the form's question
for a contact datum). Here that read really fails: a Rasa server of its own keeps its
conversations in a throwaway PostgreSQL database, which stops taking connections (as during a
restart) for longer than the tracker store waits (MADOGUCHI_TRACKER_PATIENCE=1). A message
with a phone number, an e-mail address and words of its own then arrives: the customer is
asked, politely and without a 5xx, to send it again, and rasa.log names where it failed but
holds none of the message (the client-disconnect case is in test_channel_input.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from madoguchi.infra.db import upgrade
from madoguchi.infra.settings import project_root
from madoguchi.rasa_adapters.resilience import retry_text
from madoguchi.runtime.launcher import Launcher, free_port, rasa_service
from madoguchi.runtime.training import ensure_model
from tests.conftest import PG_ADMIN_URL, throwaway_pg_database
from tests.e2e.conftest import new_sender, session_token
from tests.security.conftest import WEBHOOK

pytestmark = [pytest.mark.server]

ROOT = project_root()
PHONE, MAIL = "090-7365-2210", "hanako.guard.check@example.jp"
WORDS = "ガード内の失敗を確かめるための文面です"


@dataclass(frozen=True)
class OwnRasa:
    url: str
    log: Path
    database: str  # the tracker store's PostgreSQL database

    def say(self, sender: str, message: str) -> requests.Response:
        body = json.dumps({"sender": sender, "message": message,
                           "session_token": session_token(sender)}, ensure_ascii=False)
        return requests.post(self.url + WEBHOOK, data=body.encode(), timeout=120,
                             headers={"Content-Type": "application/json"})


@contextmanager
def outage(database: str) -> Iterator[None]:
    """The database refuses connections and drops the ones it had, until the block ends."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false'))
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :name AND pid <> pg_backend_pid()"),
                         {"name": database})
        yield
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true'))
        admin.dispose()


@pytest.fixture(scope="module")
def own_rasa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnRasa]:
    with throwaway_pg_database("madoguchi_guard") as tracker_url:
        work = tmp_path_factory.mktemp("guard-failure")
        database_url = f"sqlite:///{work / 'madoguchi.db'}"
        upgrade(database_url)
        endpoints = work / "endpoints.yml"
        endpoints.write_text(
            f'action_endpoint:\n  url: "http://127.0.0.1:{free_port()}/webhook"\n'
            "  token: ${MADOGUCHI_ACTION_TOKEN}\n"
            "tracker_store:\n  type: madoguchi.rasa_adapters.tracker_store.DurableSQLTrackerStore"
            f'\n  url: "{tracker_url}"\n', encoding="utf-8")
        port = free_port()
        launcher = Launcher(ROOT, work / "logs", env={
            "MADOGUCHI_DB_URL": database_url,
            "MADOGUCHI_TRACKER_PATIENCE": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
        })
        rasa = launcher.start(rasa_service(
            ROOT, ensure_model(ROOT, ROOT / "config.yml", link_as=None), endpoints, port=port))
        try:
            launcher.wait_ready([rasa], timeout=300)
            yield OwnRasa(f"http://127.0.0.1:{port}", rasa.log_path,
                          tracker_url.rsplit("/", 1)[1])
        finally:
            launcher.stop_all()


def test_an_error_inside_the_guard_logs_none_of_the_message(own_rasa: OwnRasa) -> None:
    sender = new_sender()
    assert own_rasa.say(sender, "こんにちは").status_code == 200  # the conversation exists
    message = f"{WORDS}。電話は{PHONE}、メールは{MAIL}です。開示してください。"

    with outage(own_rasa.database):
        answer = own_rasa.say(sender, message)

    assert answer.status_code == 200, answer.text[:300]
    assert retry_text() in [m.get("text") for m in answer.json()]
    log = own_rasa.log.read_text(encoding="utf-8", errors="replace")
    assert "the message could not be read" in log  # the guard's own failure line
    for leaked in (PHONE, MAIL, WORDS, "7365", "hanako.guard"):
        assert leaked not in log
