"""Security regressions on the real path: the e2e session's Rasa and action servers (started
once, shared with tests/e2e, tests/fuzz and tests/browser in one run), and requests as an
attacker would send them."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tests.e2e.conftest import Servers, servers, session_token, webhook_sink  # noqa: F401

pytestmark = [pytest.mark.server]

WEBHOOK = "/webhooks/rest/webhook"


def post_message(servers: Servers, sender: str, message: str, *, signed: bool = True,  # noqa: F811
                 headers: dict[str, str] | None = None, timeout: float = 120,
                 **extra: Any) -> requests.Response:
    """A customer's REST message, with the session token the server issued for `sender`."""
    payload: dict[str, Any] = {"sender": sender, "message": message, **extra}
    if signed:
        payload.setdefault("session_token", session_token(sender))
    return requests.post(servers.rasa_url + WEBHOOK,
                         data=json.dumps(payload, ensure_ascii=False).encode(),
                         headers={"Content-Type": "application/json", **(headers or {})},
                         timeout=timeout)


def user_texts(servers: Servers, sender: str) -> list[str]:  # noqa: F811
    return [e.get("text") or "" for e in servers.tracker(sender)["events"]
            if e["event"] == "user"]
