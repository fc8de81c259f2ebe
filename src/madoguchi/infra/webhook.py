"""The outgoing webhook: the call center's own tools hear of each new handoff.

A JSON POST signed with HMAC-SHA256 (header `X-Madoguchi-Signature: sha256=<hex>` over the raw
body), never delaying the customer. The ticket itself is already in the database; the webhook
only announces it.

Delivery is durable: an announcement is first written to the `webhook_outbox` table, in the same
database as the tickets, and a worker thread in each action server sends what is due, with
growing pauses between attempts (1 s, 2 s, 4 s … at most 5 minutes) for as long as the endpoint
is down. An endpoint that is down for an hour, or an action server restarted meanwhile, delays
the announcement but does not lose it: whichever action server runs next picks it up. Several
workers share the table safely: each claims due rows with `FOR UPDATE SKIP LOCKED` (PostgreSQL)
or under SQLite's write lock, and a claim is a lease (a worker that dies mid-send leaves the row
to be retried after it). Delivery is therefore at least once; `X-Madoguchi-Delivery` (the
outbox id) lets a receiver drop a repeat.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, Integer, String, Text, func, select
from sqlalchemy.orm import Session, sessionmaker

from madoguchi.infra.db import Base, UTCDateTime, utcnow, write_session
from madoguchi.infra.settings import SettingsError, settings

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Madoguchi-Signature"
EVENT_HEADER = "X-Madoguchi-Event"
DELIVERY_HEADER = "X-Madoguchi-Delivery"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """For receivers (and tests): does the signature match the body?"""
    return hmac.compare_digest(sign(secret, body), signature)


@dataclass(frozen=True)
class Webhook:
    url: str
    secret: str
    attempts: int = 4
    first_delay: float = 1.0
    timeout: float = 5.0

    @classmethod
    def from_env(cls) -> Webhook | None:
        """MADOGUCHI_WEBHOOK_URL (+ MADOGUCHI_WEBHOOK_SECRET); None when not configured.

        A URL without a secret is refused (`SettingsError`, from the settings): the action
        server does not start rather than send announcements anyone could have forged."""
        current = settings()
        if not current.webhook_url:
            return None
        if not current.webhook_secret.strip():
            raise SettingsError("MADOGUCHI_WEBHOOK_SECRET must be set when "
                                "MADOGUCHI_WEBHOOK_URL is")
        return cls(url=current.webhook_url, secret=current.webhook_secret)

    def _post(self, event: str, body: bytes, delivery: int | None = None) -> bool:
        headers = {"Content-Type": "application/json", EVENT_HEADER: event,
                   SIGNATURE_HEADER: sign(self.secret, body)}
        if delivery is not None:
            headers[DELIVERY_HEADER] = str(delivery)
        request = urllib.request.Request(self.url, data=body, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return 200 <= response.status < 300
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def deliver(self, event: str, payload: Mapping[str, Any],
                sleep: Callable[[float], None] = time.sleep) -> bool:
        """Send, retrying with growing pauses; True once the endpoint accepted it."""
        body = encode(event, payload)
        delay = self.first_delay
        for attempt in range(1, self.attempts + 1):
            if self._post(event, body):
                return True
            if attempt < self.attempts:
                sleep(delay)
                delay *= 2
        # Only the event and the reference: never the customer's data in a log line.
        logger.warning("webhook %s for %s not delivered after %d attempts",
                       event, payload.get("reference"), self.attempts)
        return False


def encode(event: str, payload: Mapping[str, Any]) -> bytes:
    return json.dumps({"event": event, **payload}, ensure_ascii=False, default=str).encode()


def handoff_payload(ticket: Mapping[str, Any],
                    summary: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What a handoff announces: enough to route it, no contact data (the desk has that).

    `summary` is the ticket's summary (`madoguchi.assist.summary.Summary.as_dict()`), which
    names the kinds of contact data given but never their values."""
    keys = ("reference", "request_types", "priority", "status", "due_at", "created_at",
            "conversation_id")
    payload = {key: ticket.get(key) for key in keys}
    if summary is not None:
        payload["summary"] = dict(summary)
    return payload


# --- the durable outbox --------------------------------------------------------------------------


class OutboxMessage(Base):
    """One announcement to deliver: the exact body that is signed and sent, and its progress."""

    __tablename__ = "webhook_outbox"

    id = Column(Integer, primary_key=True)
    event = Column(String(50), nullable=False)
    reference = Column(String(32))
    body = Column(Text, nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    attempts = Column(Integer, nullable=False, default=0)
    # When a worker may (re)try next; a claim pushes it forward by the lease.
    next_attempt_at = Column(UTCDateTime, nullable=False, index=True)
    delivered_at = Column(UTCDateTime)
    last_error = Column(String(200))


@dataclass(eq=False, repr=False)  # one outbox is one worker: compared and shown as itself
class Outbox:
    """Write announcements durably; deliver what is due with backoff (any number of workers)."""

    sessions: sessionmaker
    webhook: Webhook
    _: KW_ONLY
    first_delay: float = 1.0
    max_delay: float = 300.0
    lease: float = 60.0
    batch: int = 20
    clock: Callable[[], datetime] = utcnow
    _wake: threading.Event = field(default_factory=threading.Event, init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)

    def enqueue(self, event: str, payload: Mapping[str, Any]) -> int:
        """Store the announcement (committed before this returns) and wake the worker."""
        with write_session(self.sessions) as session:
            message_id = self.add(session, event, payload)
        self._wake.set()
        return message_id

    def add(self, session: Session, event: str, payload: Mapping[str, Any]) -> int:
        """The announcement in the caller's transaction (stored with what it announces, or
        not at all); the worker finds it when it is committed (call `wake` then)."""
        message = OutboxMessage(event=event, reference=payload.get("reference"),
                                body=encode(event, payload).decode(),
                                next_attempt_at=self.clock())
        session.add(message)
        session.flush()
        return int(message.id)

    def wake(self) -> None:
        self._wake.set()

    def backoff(self, attempts: int) -> float:
        return min(self.first_delay * 2 ** max(attempts - 1, 0), self.max_delay)

    def _claim(self) -> list[tuple[int, str, str, int]]:
        now = self.clock()
        with write_session(self.sessions) as session:
            rows = session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.delivered_at.is_(None),
                       OutboxMessage.next_attempt_at <= now)
                .order_by(OutboxMessage.id)
                .limit(self.batch)
                .with_for_update(skip_locked=True)
            ).scalars().all()
            claimed = []
            for row in rows:
                row.attempts += 1
                row.next_attempt_at = now + timedelta(seconds=self.lease)
                claimed.append((row.id, row.event, row.body, row.attempts))
            return claimed

    def deliver_due(self) -> int:
        """Send everything that is due once; returns how many the endpoint accepted."""
        delivered = 0
        for message_id, event, body, attempts in self._claim():
            ok = self.webhook._post(event, body.encode(), delivery=message_id)
            now = self.clock()
            with write_session(self.sessions) as session:
                row = session.get(OutboxMessage, message_id)
                if row is None:
                    continue
                if ok:
                    row.delivered_at = now
                    row.last_error = None
                    delivered += 1
                else:
                    row.next_attempt_at = now + timedelta(seconds=self.backoff(attempts))
                    row.last_error = "endpoint did not accept the delivery"
                    # Only the event and the reference: never the customer's data in a log.
                    logger.warning("webhook %s for %s not delivered (attempt %d); retrying in "
                                   "%.0fs", event, row.reference, attempts,
                                   self.backoff(attempts))
        return delivered

    def pending(self) -> int:
        with self.sessions() as session:
            return int(session.execute(
                select(func.count()).select_from(OutboxMessage)
                .where(OutboxMessage.delivered_at.is_(None))
            ).scalar_one())

    def next_due_in(self) -> float | None:
        """Seconds until the earliest undelivered announcement is due (None: nothing waits)."""
        with self.sessions() as session:
            due = session.execute(
                select(func.min(OutboxMessage.next_attempt_at))
                .where(OutboxMessage.delivered_at.is_(None))
            ).scalar_one()
        if due is None:
            return None
        if due.tzinfo is None:  # func.min bypasses the column type on SQLite
            due = due.replace(tzinfo=self.clock().tzinfo)
        return max((due - self.clock()).total_seconds(), 0.0)

    def run_worker(self, idle: float = 5.0) -> None:
        """Deliver until stopped: at once when woken, otherwise when the next one is due."""
        while not self._stop.is_set():
            try:
                wait = self.next_due_in()  # a read: idle workers never take the write lock
                if wait is not None and wait <= 0:
                    self.deliver_due()
                    wait = self.next_due_in()
            except Exception:  # the database restarting: try again shortly
                logger.warning("webhook outbox unavailable; retrying", exc_info=True)
                wait = idle
            self._wake.wait(idle if wait is None else min(max(wait, 0.05), idle))
            self._wake.clear()

    def start_worker(self) -> threading.Thread:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self.run_worker, name="webhook-outbox",
                                            daemon=True)
            self._thread.start()
        return self._thread

    def stop_worker(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
