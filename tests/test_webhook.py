"""The outgoing webhook signs what it sends, retries, and gives up without raising."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from madoguchi.infra.webhook import SIGNATURE_HEADER, Webhook, handoff_payload, sign, verify
from madoguchi.runtime.launcher import free_port


@pytest.fixture
def flaky_endpoint() -> Iterator[tuple[str, list[bytes], list[int]]]:
    """Answers 500 to the first two posts, then 204; records every body."""
    bodies: list[bytes] = []
    statuses = [500, 500]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            assert verify("s3cret", body, self.headers[SIGNATURE_HEADER])
            bodies.append(body)
            self.send_response(statuses.pop(0) if statuses else 204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/", bodies, statuses
    server.shutdown()


def test_the_signature_is_an_hmac_of_the_exact_body() -> None:
    body = b'{"reference": "PRV-20261125-0001"}'

    assert sign("k", body).startswith("sha256=")
    assert verify("k", body, sign("k", body))
    assert not verify("other", body, sign("k", body))
    assert not verify("k", body + b" ", sign("k", body))


def test_a_failing_endpoint_is_retried_until_it_accepts(flaky_endpoint) -> None:
    url, bodies, _ = flaky_endpoint
    pauses: list[float] = []

    ok = Webhook(url, "s3cret").deliver("handoff", {"reference": "PRV-1"}, sleep=pauses.append)

    assert ok
    assert len(bodies) == 3
    assert pauses == [1.0, 2.0]
    assert json.loads(bodies[-1]) == {"event": "handoff", "reference": "PRV-1"}


def test_an_endpoint_that_is_down_is_given_up_on_quietly() -> None:
    hook = Webhook(f"http://127.0.0.1:{free_port()}/", "s", attempts=3, timeout=1)

    assert hook.deliver("handoff", {"reference": "PRV-2"}, sleep=lambda _: None) is False


def test_the_handoff_announcement_carries_no_contact_data() -> None:
    ticket = {"reference": "PRV-3", "request_types": ["disclosure"], "priority": "normal",
              "status": "new", "customer_name": "山田花子", "customer_phone": "090-1234-5678",
              "customer_email": "h@example.jp", "conversation_id": "abc"}

    payload = handoff_payload(ticket)

    assert payload["reference"] == "PRV-3"
    assert not {"customer_name", "customer_phone", "customer_email"} & set(payload)


def test_without_a_url_there_is_no_webhook(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MADOGUCHI_WEBHOOK_URL", raising=False)

    assert Webhook.from_env() is None
