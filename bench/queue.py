"""Queue bench: the desk's queue with 10,000 tickets in PostgreSQL, measured over HTTP.

For each store size (the named baseline of 100 tickets, then 10,000) a throwaway PostgreSQL
database is created, migrated and filled in bulk with a realistic mix (request types, statuses,
priorities and ages over a year: most old tickets closed, recent ones open, audit entries and
notes as operators leave them), then a few more tickets arrive through `TicketService.create`
as the assistant makes them. The real desk (uvicorn, as `make run` starts it) answers
`GET /api/tickets` and the console's queue page `/desk`, unfiltered and filtered, and the live
refresh `/desk/partials/queue`; each is asked N times, interleaved, over one keep-alive
connection. Printed: p50/p95/mean ms per call and size, and the ratio 10,000 / 100 of p50.
The live queue's change check (`Desk.queue_version`, run every 2 s per open console) is timed
in-process too. Every database is dropped afterwards.

    python -m bench queue          # MADOGUCHI_BENCH_QUEUE_REQUESTS=N (default 100)
"""

from __future__ import annotations

import http.client
import os
import random
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from statistics import mean
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from bench.common import OUT, ROOT, percentile, table, write_json
from madoguchi.infra import db
from madoguchi.infra.settings import load_settings
from madoguchi.runtime.launcher import Launcher, desk_service, free_port
from madoguchi.tickets import ServiceTarget, TicketDraft, TicketService, UserRepository
from madoguchi.tickets.models import AuditEntry, Note, Ticket, TicketCounter
from madoguchi.tickets.references import format_reference
from madoguchi.tickets.service_target import jst_date

PG_ADMIN_URL = os.environ.get(
    "MADOGUCHI_BENCH_PG_URL",
    os.environ.get("MADOGUCHI_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"),
)
BASELINE_TICKETS = 100
TICKETS = 10_000
REQUESTS = int(os.environ.get("MADOGUCHI_BENCH_QUEUE_REQUESTS", "100"))
WARMUP_ROUNDS = 10
ARRIVING = 5  # tickets made through the repository after the bulk fill
OPERATOR = "bench-operator"

# (label, path, kind): kind "api" sends the bearer token, "page" the console's login cookie.
CALLS: list[tuple[str, str, str]] = [
    ("api open queue", "/api/tickets", "api"),
    ("api all statuses", "/api/tickets?status=all", "api"),
    ("api type=correction", "/api/tickets?type=correction", "api"),
    ("api assignee=me", "/api/tickets?assignee=me", "api"),
    ("api new,assigned complaint", "/api/tickets?status=new,assigned&type=complaint", "api"),
    ("api limit=500", "/api/tickets?limit=500", "api"),
    ("page /desk", "/desk", "page"),
    ("page status=all", "/desk?status=all", "page"),
    ("page type=disclosure", "/desk?type=disclosure", "page"),
    ("page assignee=me", "/desk?assignee=me", "page"),
    ("page live rows", "/desk/partials/queue", "page"),
]

# --- a realistic store -------------------------------------------------------------------------

# Request types as they come in (weights), a few two-type requests, plain handoffs without a type.
TYPE_MIX: list[tuple[list[str], int]] = [
    (["disclosure"], 20), (["correction"], 18), (["marketing_optout"], 20),
    (["suspension"], 10), (["third_party_stop"], 7), (["purpose_notice"], 4),
    (["complaint"], 8), ([], 8), (["correction", "suspension"], 2),
    (["marketing_optout", "third_party_stop"], 3),
]
DETAILS: dict[str, dict[str, Any]] = {
    "correction": {"item": "住所", "value": "大阪府大阪市北区梅田1-2-3"},
    "marketing_optout": {"channels": ["phone", "email"]},
    "third_party_stop": {"recipients": ["提携カード会社"]},
    "suspension": {"scope": "all", "cancel_membership": True},
    "complaint": {"details": "電話で住所を大声で読み上げられた"},
}
WORDS = [
    "登録している住所が古いので直してください",
    "私の個人データを開示してください",
    "電話での勧誘をやめてほしい",
    "第三者に提供しないでください",
    "退会して情報を全部消してほしい",
    "担当者と話したいです",
    "個人情報の扱いについて苦情があります",
]
SURNAMES = ["山田", "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "中村", "小林", "加藤"]
GIVEN = ["太郎", "花子", "一郎", "美咲", "健太", "陽菜", "翔", "さくら"]
OPERATORS = [OPERATOR, *(f"op{n:02d}" for n in range(1, 12))]
CLOSED = [("resolved", 85), ("rejected", 6), ("withdrawn", 9)]
OPEN = [("new", 50), ("assigned", 35), ("waiting_customer", 15)]


def _pick(rng: random.Random, mix: list[tuple[Any, int]]) -> Any:
    return rng.choices([v for v, _ in mix], weights=[w for _, w in mix])[0]


def _status(rng: random.Random, age: timedelta) -> str:
    """Recent tickets are mostly open, old ones almost all closed."""
    open_share = 0.85 if age < timedelta(days=3) else 0.3 if age < timedelta(days=30) else 0.02
    return _pick(rng, OPEN if rng.random() < open_share else CLOSED)


def _tickets(count: int, now: datetime, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    target = ServiceTarget(business_days=3)
    rows = []
    for _ in range(count):
        # Skewed to recent: the square of a uniform number puts half the tickets in 3 months.
        age = timedelta(hours=rng.random() ** 2 * 365 * 24)
        created = now - age
        types = list(_pick(rng, TYPE_MIX))
        status = _status(rng, age)
        priority = ("high" if "complaint" in types else
                    "urgent" if rng.random() < 0.03 else "normal")
        assignee = None if status == "new" else rng.choice(OPERATORS)
        updated = created + (now - created) * rng.random() ** 3
        name = rng.choice(SURNAMES) + " " + rng.choice(GIVEN)
        rows.append({
            "request_types": types,
            "status": status,
            "priority": priority,
            "due_at": target.due_at(created),
            "created_at": created,
            "updated_at": max(updated, created),
            "customer_name": name,
            "customer_phone": f"090-{rng.randrange(10000):04d}-{rng.randrange(10000):04d}",
            "customer_email": f"user{rng.randrange(10**6)}@example.jp",
            "customer_postal_address": "東京都江東区東陽1-2-3",
            "preferred_contact": rng.choice(["phone", "email", "post"]),
            "preferred_time": "平日の午前中",
            "details": {t: DETAILS[t] for t in types if t in DETAILS},
            "is_agent": rng.random() < 0.05,
            "customer_words": rng.choice(WORDS),
            "nlu_intent": f"request_{types[0]}" if types else "human_handoff",
            "nlu_confidence": round(rng.uniform(0.5, 0.99), 2),
            "notice_sections": ["4.1", "4.2"] if types else [],
            "next_steps": "請求書を郵送いたします。",
            "conversation_id": f"bench-{secrets.token_hex(6)}",
            "assignee": assignee,
        })
    rows.sort(key=lambda r: r["created_at"])
    return rows


def _history(ticket_id: int, row: dict[str, Any], rng: random.Random) -> tuple[list, list]:
    """The audit entries and notes such a ticket has after its life so far."""
    audit = [{"ticket_id": ticket_id, "at": row["created_at"], "actor": "assistant",
              "action": "created",
              "changes": {"status": {"old": None, "new": "new"},
                          "priority": {"old": None, "new": row["priority"]}}}]
    notes = []
    if row["assignee"]:
        audit.append({"ticket_id": ticket_id, "at": row["updated_at"], "actor": row["assignee"],
                      "action": "claimed",
                      "changes": {"assignee": {"old": None, "new": row["assignee"]},
                                  "status": {"old": "new", "new": "assigned"}}})
        if row["status"] not in ("new", "assigned"):
            audit.append({"ticket_id": ticket_id, "at": row["updated_at"],
                          "actor": row["assignee"], "action": "status_changed",
                          "changes": {"status": {"old": "assigned", "new": row["status"]}}})
        if rng.random() < 0.4:
            notes.append({"ticket_id": ticket_id, "at": row["updated_at"],
                          "author": row["assignee"], "body": "お客様に折り返し電話済み。"})
            audit.append({"ticket_id": ticket_id, "at": row["updated_at"],
                          "actor": row["assignee"], "action": "note_added",
                          "changes": {"note": {"old": None, "new": len(notes)}}})
    return audit, notes


def fill(database_url: str, count: int, now: datetime, seed: int = 5) -> float:
    """`count` tickets with their history, inserted in bulk; seconds taken."""
    started = time.perf_counter()
    rows = _tickets(count, now, seed)
    rng = random.Random(seed + 1)
    counters: dict[Any, int] = {}
    audit: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    for ticket_id, row in enumerate(rows, start=1):
        day = jst_date(row["created_at"])
        counters[day] = counters.get(day, 0) + 1
        row["id"] = ticket_id
        row["reference"] = format_reference(day, counters[day])
        more_audit, more_notes = _history(ticket_id, row, rng)
        audit += more_audit
        notes += more_notes
    engine = db.make_engine(database_url)
    try:
        with engine.begin() as conn:
            for start in range(0, len(rows), 2000):
                conn.execute(insert(Ticket.__table__), rows[start:start + 2000])
            for start in range(0, len(audit), 5000):
                conn.execute(insert(AuditEntry.__table__), audit[start:start + 5000])
            if notes:
                conn.execute(insert(Note.__table__), notes)
            conn.execute(insert(TicketCounter.__table__),
                         [{"day": day, "last": last} for day, last in counters.items()])
            if engine.dialect.name == "postgresql":
                for name in ("tickets", "audit_entries", "ticket_notes"):
                    conn.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT max(id) FROM {name}))"))
            if engine.dialect.name == "postgresql":
                conn.execute(text("ANALYZE"))
    finally:
        engine.dispose()
    # Today's handoffs arrive as the assistant makes them (and prove the counters still fit).
    engine = db.make_engine(database_url)
    try:
        repo = TicketService(db.session_factory(engine),
                             service_target=ServiceTarget(business_days=3))
        for words in WORDS[:ARRIVING]:
            repo.create(TicketDraft(request_types=["disclosure"], customer_name="木村 拓也",
                                    customer_words=words, conversation_id=f"bench-{words}"))
    finally:
        engine.dispose()
    return time.perf_counter() - started


# --- databases and the desk ----------------------------------------------------------------


@contextmanager
def throwaway_database(label: str) -> Iterator[str]:
    admin = create_engine(PG_ADMIN_URL, future=True, isolation_level="AUTOCOMMIT",
                          connect_args={"connect_timeout": 5})
    name = f"madoguchi_bench_{label}_{secrets.token_hex(4)}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        raise SystemExit(
            f"queue bench needs PostgreSQL at {make_url(PG_ADMIN_URL)!r}: {exc}") from exc
    try:
        url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        db.upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def running_desk(database_url: str, work_label: str) -> Iterator[int]:
    port = free_port()
    nobody = f"http://127.0.0.1:{free_port()}"  # the queue needs neither Rasa nor actions
    launcher = Launcher(ROOT, OUT / "queue" / work_label, env={
        "MADOGUCHI_DB_URL": database_url,
        "MADOGUCHI_RASA_URL": nobody,
        "MADOGUCHI_ACTION_URL": nobody,
    })
    service = launcher.start(desk_service(port=port))
    try:
        launcher.wait_ready([service], timeout=120)
        yield port
    finally:
        launcher.stop_all()


def _get(conn: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> tuple[
        float, bytes]:
    start = time.perf_counter()
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - start) * 1000
    if response.status != 200:
        raise RuntimeError(f"GET {path} answered {response.status}: {body[:200]!r}")
    return elapsed, body


def _rows(kind: str, body: bytes) -> int:
    if kind == "api":
        import json

        return len(json.loads(body)["tickets"])
    return body.count(b"data-reference=")


def measure(port: int, token: str, requests: int) -> dict[str, dict[str, float]]:
    """Each call `requests` times, interleaved (so a noisy neighbour hits all alike)."""
    headers = {"api": {"Authorization": f"Bearer {token}", "Accept": "application/json"},
               "page": {"Cookie": f"madoguchi_desk={token}", "Accept": "text/html"}}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times: dict[str, list[float]] = {label: [] for label, _, _ in CALLS}
    rows: dict[str, int] = {}
    sizes: dict[str, int] = {}
    try:
        for round_ in range(WARMUP_ROUNDS + requests):
            for label, path, kind in CALLS:
                elapsed, body = _get(conn, path, headers[kind])
                if round_ >= WARMUP_ROUNDS:
                    times[label].append(elapsed)
                rows[label], sizes[label] = _rows(kind, body), len(body)
    finally:
        conn.close()
    return {
        label: {"p50": percentile(v, 0.5), "p95": percentile(v, 0.95), "mean": mean(v),
                "rows": rows[label], "kb": sizes[label] / 1024}
        for label, v in times.items()
    }


def version_check(database_url: str, repeats: int = 200) -> dict[str, float]:
    """The live queue's change check, in-process: every open console runs it every 2 s."""
    from madoguchi.desk.service import Desk

    desk = Desk.from_settings(replace(load_settings(), database_url=database_url))
    try:
        desk.queue_version()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            desk.queue_version()
            times.append((time.perf_counter() - start) * 1000)
    finally:
        desk.engine.dispose()
    return {"p50": percentile(times, 0.5), "p95": percentile(times, 0.95), "mean": mean(times)}


def run_size(count: int, now: datetime, requests: int) -> dict[str, Any]:
    with throwaway_database(f"{count}") as url:
        fill_s = fill(url, count, now)
        engine = db.make_engine(url)
        try:
            _, token = UserRepository(db.session_factory(engine)).create_user(OPERATOR, "operator")
        finally:
            engine.dispose()
        with running_desk(url, f"{count}") as port:
            calls = measure(port, token, requests)
        version = version_check(url)
    return {"tickets": count + ARRIVING, "fill_s": fill_s, "calls": calls, "queue_version": version}


def main() -> dict:
    now = datetime.now(timezone.utc)
    requests = REQUESTS
    print(f"\nQueue bench: the desk over HTTP (uvicorn, one worker) on PostgreSQL, "
          f"{requests} requests per call, interleaved")
    baseline = run_size(BASELINE_TICKETS, now, requests)
    full = run_size(TICKETS, now, requests)
    rows = []
    for label, _, _ in CALLS:
        b, f = baseline["calls"][label], full["calls"][label]
        rows.append({
            "call": label,
            "rows": f"{b['rows']} / {f['rows']}",
            "KB": f"{f['kb']:.0f}",
            "base p50": f"{b['p50']:.1f}",
            "base p95": f"{b['p95']:.1f}",
            "10k p50": f"{f['p50']:.1f}",
            "10k p95": f"{f['p95']:.1f}",
            "10k mean": f"{f['mean']:.1f}",
            "ratio p50": f"{f['p50'] / b['p50']:.2f}",
        })
    bv, fv = baseline["queue_version"], full["queue_version"]
    rows.append({"call": "queue_version (in-process)", "rows": "", "KB": "",
                 "base p50": f"{bv['p50']:.1f}", "base p95": f"{bv['p95']:.1f}",
                 "10k p50": f"{fv['p50']:.1f}", "10k p95": f"{fv['p95']:.1f}",
                 "10k mean": f"{fv['mean']:.1f}", "ratio p50": f"{fv['p50'] / bv['p50']:.2f}"})
    print(f"baseline: {baseline['tickets']:,} tickets (filled in {baseline['fill_s']:.1f} s); "
          f"measured: {full['tickets']:,} tickets (filled in {full['fill_s']:.1f} s); ms")
    print("rows: rows in the answer, baseline / 10k; KB: answer size with 10k")
    print(table(rows, ["call", "rows", "KB", "base p50", "base p95", "10k p50", "10k p95",
                       "10k mean", "ratio p50"]))
    result = {"requests": requests, "baseline": baseline, "full": full}
    write_json(OUT / "queue.json", result)
    return result


if __name__ == "__main__":
    main()
