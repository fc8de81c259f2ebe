"""Each new handoff is announced to the call center's tools, signed, without delaying the chat."""

from __future__ import annotations

import json
import time

from madoguchi.infra.webhook import SIGNATURE_HEADER, verify
from tests.e2e.conftest import WEBHOOK_SECRET, Servers, WebhookSink


def test_a_handoff_is_posted_signed_to_the_webhook(
    servers: Servers, sender: str, webhook_sink: WebhookSink
) -> None:
    servers.say(sender, "担当者につないでもらえますか")
    reference = servers.slot(sender, "ticket_reference")

    deadline = time.monotonic() + 15
    mine: list[tuple[dict[str, str], bytes]] = []
    while not mine and time.monotonic() < deadline:
        mine = [(h, b) for h, b in webhook_sink.received
                if json.loads(b).get("reference") == reference]
        time.sleep(0.2)

    assert mine, "the handoff was not announced"
    headers, body = mine[0]
    assert verify(WEBHOOK_SECRET, body, headers[SIGNATURE_HEADER])
    payload = json.loads(body)
    assert payload["event"] == "handoff" and payload["conversation_id"] == sender
    assert "customer_phone" not in payload
