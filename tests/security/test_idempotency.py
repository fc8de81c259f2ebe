"""Issue 15, item 10: a confirmed request makes one ticket, however often the confirmation
arrives.

Before: the idempotency key was the confirmation's timestamp, so a second 「はい」 made a
second ticket: after a lost answer (the action server made the ticket, its answer never
reached Rasa, the customer was asked to send it again), or after `/back` then 「はい」. Now the
key is the conversation, the request types and a hash of the summary the customer confirmed
(requests/ticketing.py `request_key`).

Through the real Rasa server, action server and database (tests/e2e/conftest.py).
"""

from __future__ import annotations

import time

import pytest
import requests

from madoguchi.runtime.launcher import run_secrets
from tests.e2e.conftest import Servers, sender, servers, webhook_sink  # noqa: F401
from tests.e2e.test_requests import ANSWERS, OPENING, fill_form, tickets_of
from tests.security.conftest import post_message

pytestmark = [pytest.mark.server]


def at_the_summary(servers: Servers, sender: str) -> None:  # noqa: F811
    servers.say(sender, OPENING["marketing_optout"])
    servers.say(sender, "はい")
    assert "以下の内容で受け付けます" in str(fill_form(servers, sender, ANSWERS))


def confirm(servers: Servers, sender: str) -> str:  # noqa: F811
    response = post_message(servers, sender, "はい")
    assert response.status_code == 200
    return "\n".join(m.get("text", "") for m in response.json())


def action_call_whose_answer_is_lost(servers: Servers, sender: str) -> None:  # noqa: F811
    """What Rasa sends the action server for 「はい」 at the summary; the answer never gets
    back (Rasa timed out, a balancer dropped it), so Rasa's tracker stays at the summary."""
    tracker = servers.tracker(sender)
    parse = {"text": "はい", "intent": {"name": "affirm", "confidence": 1.0}, "entities": [],
             "intent_ranking": [{"name": "affirm", "confidence": 1.0}]}
    tracker["events"].append({"event": "user", "timestamp": time.time(), "text": "はい",
                              "parse_data": parse, "input_channel": "rest"})
    tracker["latest_message"] = parse
    domain = servers._request("GET", "/domain")
    action_url = servers.actions.health_url.rsplit("/health", 1)[0]
    response = requests.post(action_url + "/webhook",
                             params={"token": run_secrets().action_token}, timeout=120,
                             json={"next_action": "action_create_ticket", "sender_id": sender,
                                   "tracker": tracker, "domain": domain,
                                   "version": "3.6.21"})
    assert response.status_code == 200  # the ticket is made; only the answer is lost


def test_a_resend_after_a_lost_answer_finds_the_first_ticket(
    servers: Servers, sender: str  # noqa: F811
) -> None:
    at_the_summary(servers, sender)
    action_call_whose_answer_is_lost(servers, sender)
    [first] = tickets_of(servers, sender)
    assert servers.slot(sender, "request_stage") == "summary"

    reply = confirm(servers, sender)  # 「同じ内容をもう一度」: the customer sends it again

    assert [t["reference"] for t in tickets_of(servers, sender)] == [first["reference"]]
    assert first["reference"] in reply


def test_back_then_yes_again_is_the_same_ticket(servers: Servers, sender: str) -> None:  # noqa: F811
    at_the_summary(servers, sender)
    confirm(servers, sender)
    first = servers.slot(sender, "ticket_reference")
    assert first

    servers._request("POST", "/conversations/" + sender + "/trigger_intent",
                     {"name": "back"})  # Rasa's action_back: the 「はい」 is undone
    assert servers.slot(sender, "request_stage") == "summary"
    reply = confirm(servers, sender)

    assert [t["reference"] for t in tickets_of(servers, sender)] == [first]
    assert first in reply


def test_a_corrected_request_is_a_new_one(servers: Servers, sender: str) -> None:  # noqa: F811
    """The key follows what was confirmed: the same conversation confirming other content is
    not swallowed by the first ticket."""
    at_the_summary(servers, sender)
    action_call_whose_answer_is_lost(servers, sender)
    servers.say(sender, "/deny")
    servers.say(sender, '/deny{"fix_slot": "phone"}')
    servers.say(sender, "080-9999-0000")

    confirm(servers, sender)

    phones = sorted(t["customer_phone"] for t in tickets_of(servers, sender))
    assert len(phones) == 2 and phones[0] == "080-9999-0000"
