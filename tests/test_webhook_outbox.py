"""The webhook outbox: an announcement survives an endpoint that is down and a restarted process."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from madoguchi.infra.webhook import DELIVERY_HEADER, SIGNATURE_HEADER, Outbox, Webhook, verify


class Endpoint:
    """A receiver that can be switched between refusing (503) and accepting (204)."""

    def __init__(self) -> None:
        self.accepting = False
        self.received: list[tuple[dict[str, str], bytes]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if endpoint.accepting:
                    endpoint.received.append((dict(self.headers), body))
                self.send_response(204 if endpoint.accepting else 503)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    endpoint = Endpoint()
    yield endpoint
    endpoint.server.shutdown()


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def test_an_announcement_waits_in_the_database_until_the_endpoint_accepts_it(
        db_sessions, endpoint: Endpoint) -> None:
    clock = Clock()
    hook = Webhook(endpoint.url, "s3cret")
    first = Outbox(db_sessions, hook, clock=clock)
    first.enqueue("handoff", {"reference": "PRV-20261126-0001"})

    assert first.deliver_due() == 0  # the endpoint is down
    assert first.pending() == 1
    assert first.deliver_due() == 0  # not due again before its pause is over
    clock.now += timedelta(seconds=1)
    assert first.deliver_due() == 0  # second attempt, still down: the pause grows
    clock.now += timedelta(seconds=1)
    assert first.deliver_due() == 0  # not yet: 2 s this time

    # The process dies; a new one (another action server, after a restart) takes over.
    endpoint.accepting = True
    clock.now += timedelta(seconds=2)
    second = Outbox(db_sessions, hook, clock=clock)
    assert second.deliver_due() == 1
    assert second.pending() == 0
    assert second.deliver_due() == 0  # delivered once, never again

    headers, body = endpoint.received[0]
    assert verify("s3cret", body, headers[SIGNATURE_HEADER])
    assert headers[DELIVERY_HEADER] == "1"
    assert b"PRV-20261126-0001" in body


def test_the_pause_between_attempts_grows_to_a_ceiling(db_sessions) -> None:
    outbox = Outbox(db_sessions, Webhook("http://127.0.0.1:9/", ""), first_delay=1.0,
                    max_delay=300.0)
    assert [outbox.backoff(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    assert outbox.backoff(30) == 300.0


def test_two_workers_never_claim_the_same_announcement(db_sessions, endpoint: Endpoint) -> None:
    endpoint.accepting = True
    hook = Webhook(endpoint.url, "")
    outboxes = [Outbox(db_sessions, hook) for _ in range(2)]
    for i in range(10):
        outboxes[0].enqueue("handoff", {"reference": f"PRV-20261126-{i:04d}"})
    results: list[int] = []
    threads = [threading.Thread(target=lambda o=o: results.append(o.deliver_due()))
               for o in outboxes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 10
    ids = sorted(int(h[DELIVERY_HEADER]) for h, _ in endpoint.received)
    assert ids == list(range(1, 11))


def test_the_worker_delivers_as_soon_as_the_endpoint_is_back(
        db_sessions, endpoint: Endpoint) -> None:
    outbox = Outbox(db_sessions, Webhook(endpoint.url, ""), first_delay=0.05, max_delay=0.2)
    outbox.start_worker()
    try:
        outbox.enqueue("handoff", {"reference": "PRV-20261126-0042"})
        done = threading.Event()

        def watch() -> None:
            while outbox.pending():
                threading.Event().wait(0.05)
            done.set()

        threading.Thread(target=watch, daemon=True).start()
        assert not done.wait(0.5)  # down: nothing delivered, nothing dropped
        assert outbox.pending() == 1
        endpoint.accepting = True
        assert done.wait(30)
    finally:
        outbox.stop_worker()
    assert len(endpoint.received) == 1
