"""Issue 15, item 5: customer commands and rate limits.

Only the commands the chat's buttons send reach Rasa; none while an operator holds the
conversation (Rasa honours "/restart" even then, and each restart made a new ticket). A
conversation and an address send at most so many messages a minute: 429 with a reason.
"""

from __future__ import annotations

from collections.abc import Callable

import requests
from sqlalchemy import create_engine, text

from madoguchi.infra.settings import settings
from tests.e2e.conftest import Servers, new_sender
from tests.security.conftest import post_message, user_texts


def open_tickets(servers: Servers, sender: str) -> int:
    engine = create_engine(servers.database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(
                "SELECT count(*) FROM tickets WHERE conversation_id = :c"
                " AND status IN ('new', 'assigned', 'waiting_customer')"), {"c": sender}).scalar()
    finally:
        engine.dispose()


def test_restart_while_an_operator_holds_the_conversation_changes_nothing(
    servers: Servers,
) -> None:
    sender = new_sender()
    servers.say(sender, "担当者と話したいです")
    assert servers.tracker(sender)["paused"] is True

    for _ in range(3):
        servers.say(sender, "/restart")
        servers.say(sender, "担当者と話したいです")

    tracker = servers.tracker(sender)
    assert tracker["paused"] is True
    assert not [e for e in tracker["events"] if e["event"] == "restart"]
    assert "／restart" in user_texts(servers, sender)  # kept for the operator, as words
    assert open_tickets(servers, sender) == 1


def test_restart_is_not_a_command_the_chat_sends(servers: Servers) -> None:
    sender = new_sender()
    servers.say(sender, "個人情報の利用目的を教えてください")

    servers.say(sender, "/restart")

    assert not [e for e in servers.tracker(sender)["events"] if e["event"] == "restart"]


def test_the_chats_button_commands_still_work(servers: Servers) -> None:
    sender = new_sender()

    servers.say(sender, "/request_disclosure")

    assert servers.tracker(sender)["latest_message"]["intent"]["name"] == "request_disclosure"


def until_refused(
    send: Callable[[], requests.Response], limit: int
) -> tuple[int, requests.Response]:
    """How many messages went through before the first refusal (the bucket refills as the
    minute passes, so a slow machine gets a few more than `limit`), and the refusal."""
    for sent in range(limit * 2):
        response = send()
        if response.status_code != 200:
            return sent, response
    raise AssertionError(f"no refusal after {limit * 2} messages")


def test_a_conversation_sending_too_fast_is_told_to_wait(servers: Servers) -> None:
    sender = new_sender()
    limit = settings().rate_per_sender

    # Blank messages are the cheapest turn (answered without NLU); they count all the same.
    accepted, refused = until_refused(lambda: post_message(servers, sender, " "), limit)

    assert accepted >= limit
    assert refused.status_code == 429
    assert refused.json()["error"] == "too_many_messages"
    assert "お送りください" in refused.json()["detail"]


def test_an_address_sending_too_fast_is_told_to_wait(servers: Servers) -> None:
    limit = settings().rate_per_address
    # As HAProxy (on this machine) forwards a customer's address.
    through_proxy = {"X-Forwarded-For": "198.51.100.23"}

    accepted, refused = until_refused(
        lambda: post_message(servers, new_sender(), " ", headers=through_proxy), limit)
    spoofed = post_message(servers, new_sender(), " ",
                           headers={"X-Forwarded-For": "198.51.100.24, 198.51.100.23"})
    other = post_message(servers, new_sender(), " ", headers={"X-Forwarded-For": "198.51.100.24"})

    assert accepted >= limit
    assert (refused.status_code, refused.json()["error"]) == (429, "too_many_from_address")
    assert spoofed.status_code == 429  # only the proxy's own (last) entry counts
    assert other.status_code == 200
