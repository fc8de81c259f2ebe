"""Customers and fault drills against a running scale profile (used by tests/scale and bench).

A `Customer` talks to the balancer the way the web chat does (Rasa's REST channel) and keeps
every reference number it was shown: a request is *confirmed* when the customer saw its
reference. `confirmed_lost` compares those with the tickets in the database; every drill ends
with that count, which must be 0.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import create_engine, select

from madoguchi.infra.db import database_ok, make_engine
from madoguchi.infra.rasa_auth import bearer
from madoguchi.rasa_adapters import sessions
from madoguchi.rasa_adapters.resilience import retry_text
from madoguchi.runtime.launcher import run_secrets
from madoguchi.runtime.scale import Cluster
from madoguchi.tickets.models import Ticket

REFERENCE = re.compile(r"PRV-\d{8}-\d{4}")
# What a customer types, per question of the request form (bench/requests.py uses the same).
ANSWERS = {
    "customer_name": "山田花子です",
    "phone": "090-1234-5678",
    "postal_address": "〒135-0016 東京都江東区東陽1-2-3",
    "member_number": "なし",
    "preferred_time": "平日の午前中",
    "is_agent": "本人です",
    "email": "hanako@example.com",
    "preferred_contact": "電話",
}
OPENING = "私の個人データを開示してください"
GREETING = "こんにちは"
NOTICE_QUESTION = "個人情報の利用目的を教えてください"


class NoAnswer(RuntimeError):
    """The customer kept getting the retry message or an HTTP error."""


@dataclass
class Customer:
    base_url: str
    sender: str = field(default_factory=lambda: f"drill-{uuid.uuid4().hex[:12]}")
    seen: list[str] = field(default_factory=list)
    references: set[str] = field(default_factory=set)
    retry_messages: int = 0
    http_errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    def _call(self, method: str, path: str, payload: object | None = None,
              timeout: float = 120.0) -> object:
        data = None if payload is None else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json",
                   "Authorization": bearer(run_secrets().rasa_token)}
        request = urllib.request.Request(f"{self.base_url}{path}", data=data, method=method,
                                         headers=headers)
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def say(self, text: str) -> list[dict] | None:
        """One message; the bot's replies, or None when the HTTP call itself failed."""
        start = time.perf_counter()
        try:
            messages = self._call("POST", "/webhooks/rest/webhook",
                                  {"sender": self.sender, "message": text,
                                   "session_token": sessions.sign(
                                       self.sender, secret=run_secrets().session_secret)})
        except (urllib.error.URLError, OSError, ValueError):
            self.http_errors += 1
            return None
        finally:
            self.latencies_ms.append((time.perf_counter() - start) * 1000)
        assert isinstance(messages, list)
        for message in messages:
            words = str(message.get("text") or "")
            self.seen.append(words)
            self.references.update(REFERENCE.findall(words))
            if words == retry_text():
                self.retry_messages += 1
        return messages

    def say_until_answered(self, text: str, attempts: int = 30, pause: float = 1.0,
                           between: Callable[[], None] | None = None) -> list[dict]:
        """What a patient customer does: send the same words again after the retry message."""
        for _ in range(attempts):
            messages = self.say(text)
            if messages is not None and not any(m.get("text") == retry_text()
                                                for m in messages):
                return messages
            if between:
                between()
            time.sleep(pause)
        raise NoAnswer(f"{self.sender}: no answer to {text!r} after {attempts} attempts")

    def tracker(self) -> dict:
        for _ in range(30):
            try:
                result = self._call("GET", f"/conversations/{self.sender}/tracker")
                assert isinstance(result, dict)
                return result
            except (urllib.error.URLError, OSError):
                time.sleep(1)
        raise NoAnswer(f"{self.sender}: the tracker could not be read")

    def asked(self) -> str | None:
        return self.tracker()["slots"].get("requested_slot")

    def start_request(self) -> None:
        self.say_until_answered(OPENING)
        self.say_until_answered("はい")

    def answer_form(self, max_questions: int = 12) -> None:
        for _ in range(max_questions):
            slot = self.asked()
            if slot is None:
                return
            self.say_until_answered(ANSWERS.get(slot, "なし"))

    def confirm(self) -> str | None:
        """Confirm the summary; the reference the customer was shown (None if none)."""
        before = set(self.references)
        self.say_until_answered("/affirm")
        new = self.references - before
        return next(iter(new)) if new else None

    def request_to_ticket(self) -> str | None:
        self.start_request()
        self.answer_form()
        return self.confirm()

    def handoff(self) -> str | None:
        before = set(self.references)
        self.say_until_answered("担当者と話したい")
        new = self.references - before
        return next(iter(new)) if new else None


def confirmed_lost(database_url: str, customers: Iterable[Customer]) -> tuple[int, int]:
    """(confirmed, lost): references customers saw, and how many of them have no ticket."""
    seen = {ref for customer in customers for ref in customer.references}
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            stored = set(conn.execute(
                select(Ticket.reference).where(Ticket.reference.in_(sorted(seen)))
            ).scalars()) if seen else set()
    finally:
        engine.dispose()
    return len(seen), len(seen - stored)


def wait_until(condition: Callable[[], bool], timeout: float, what: str,
               pause: float = 0.5) -> None:
    """Wait for something the drill caused (a restart, a delivery); fail with what it was."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout:.0f}s")
        time.sleep(pause)


# --- drills: each breaks one thing for real and counts confirmed requests lost ----------------


@dataclass
class DrillResult:
    name: str
    confirmed: int
    lost: int
    retry_messages: int
    http_errors: int
    note: str = ""


def _finish(name: str, cluster: Cluster, customers: list[Customer], note: str = "") -> DrillResult:
    for customer in customers:
        customer.answer_form()
        customer.confirm()
    confirmed, lost = confirmed_lost(cluster.database_url, customers)
    return DrillResult(name, confirmed, lost, sum(c.retry_messages for c in customers),
                       sum(c.http_errors for c in customers), note)


def _midway(base_url: str, count: int) -> list[Customer]:
    customers = [Customer(base_url) for _ in range(count)]
    for customer in customers:
        customer.start_request()
        customer.say_until_answered(ANSWERS["customer_name"])
    return customers


def drill_action_servers(cluster: Cluster, customers: int = 3) -> DrillResult:
    """Every action server killed mid-form, then started again; customers resend."""
    people = _midway(cluster.rasa_url, customers)
    for service in cluster.actions:
        cluster.launcher.kill(service)
    for person in people:
        person.say(ANSWERS["phone"])  # answered with the retry message
    for service in list(cluster.actions):
        cluster.restart(service)
    cluster.launcher.wait_ready(cluster.actions)
    cluster.wait_balanced()
    return _finish("action servers killed", cluster, people)


def restart_postgresql(database_url: str) -> None:
    """Restart the machine's PostgreSQL cluster and wait until it answers again."""
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "restart"],
                   check=True, timeout=120, capture_output=True)

    def answers() -> bool:
        engine = create_engine(database_url, future=True, connect_args={"connect_timeout": 2})
        try:
            return database_ok(engine)
        finally:
            engine.dispose()

    wait_until(answers, 120, "PostgreSQL coming back")


def drill_database_restart(cluster: Cluster, customers: int = 3) -> DrillResult:
    people = _midway(cluster.rasa_url, customers)
    restart_postgresql(cluster.database_url)
    return _finish("PostgreSQL restarted", cluster, people)


def drill_replica(cluster: Cluster, customers: int = 4) -> DrillResult:
    """A Rasa replica killed between turns; the others carry its conversations on."""
    people = _midway(cluster.rasa_url, customers)
    victim = cluster.rasa[0]
    cluster.launcher.kill(victim)
    cluster.wait_down(victim)
    return _finish("Rasa replica killed", cluster, people)
