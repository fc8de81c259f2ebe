"""Retention: conversations and closed tickets older than the limit lose their personal data;
counts, NLU results, figures and everything newer stay exactly as they were."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from madoguchi.conversation.table import EVENTS
from madoguchi.infra import db
from madoguchi.review import filters as flt
from madoguchi.review import retention
from madoguchi.review.service import SupervisorReview
from madoguchi.runtime import cli
from madoguchi.tickets import ServiceTarget, TicketDraft
from madoguchi.tickets import TicketService as TicketRepository
from tests.test_review_support import NAME, PHONE, SECRETS, fixed_now, write_scenarios

NOW = fixed_now()
OLD = NOW - timedelta(days=40)


def events(engine) -> dict[int, tuple]:
    with engine.connect() as conn:
        return {row.id: tuple(row) for row in conn.execute(select(EVENTS))}


def readable(data: str) -> str:
    """Rasa stores JSON with \\u escapes: decode before looking for words."""
    return json.dumps(json.loads(data), ensure_ascii=False)


def ticket(sessions, at, conversation_id: str, close: bool):
    repo = TicketRepository(sessions, service_target=ServiceTarget(business_days=3),
                            clock=lambda: at)
    created = repo.create(TicketDraft(
        request_types=["disclosure"], customer_name=NAME, customer_phone=PHONE,
        customer_email="taro.yamada@example.jp", customer_words="開示してほしい",
        conversation_id=conversation_id))
    if close:
        repo.transition(created.reference, "withdrawn", "sato")
    return created.reference


@pytest.fixture
def store(db_url):
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    old_ids = write_scenarios(db_url, OLD, prefix="old-")
    new_ids = write_scenarios(db_url, NOW, prefix="new-")
    sessions = db.session_factory(engine)
    refs = {
        "old_closed": ticket(sessions, OLD, old_ids["disclosure-today"], close=True),
        "old_open": ticket(sessions, OLD, "old-handoff-today", close=False),
        "new_closed": ticket(sessions, NOW, new_ids["disclosure-today"], close=True),
    }
    yield engine, sessions, old_ids, new_ids, refs
    engine.dispose()


def test_retention_anonymises_old_conversations_and_keeps_the_figures(store):
    engine, sessions, old_ids, _, refs = store
    review = SupervisorReview(engine, sessions)
    everything = flt.parse_filters({})
    metrics_before = review.metrics(everything)
    listed_before = review.list(everything, limit=100)["conversations"]
    before = events(engine)

    result = retention.run(engine, 30, now=NOW)

    after = events(engine)
    assert result.conversations == len(old_ids) and result.tickets == 1
    assert after.keys() == before.keys()  # not one event more or less
    old_senders = set(old_ids.values())
    for event_id, row in after.items():
        old_row = before[event_id]
        # id, sender, type, timestamp, intent and action columns never change
        assert row[:6] == old_row[:6]
        if row[1] in old_senders:
            text = readable(row[6])
            for secret in SECRETS:
                assert secret not in text
            was, now = json.loads(old_row[6]), json.loads(row[6])
            if was.get("event") == "user":
                assert now["parse_data"]["intent"] == was["parse_data"]["intent"]
                assert now["parse_data"]["intent_ranking"] == was["parse_data"]["intent_ranking"]
        else:
            assert row == old_row  # newer conversations are untouched

    assert review.metrics(everything) == metrics_before
    listed_after = review.list(everything, limit=100)["conversations"]
    assert [c["id"] for c in listed_after] == [c["id"] for c in listed_before]
    assert {c["id"] for c in listed_after if c["anonymised"]} == old_senders

    tickets = TicketRepository(sessions)
    old_closed = tickets.get(refs["old_closed"])
    assert old_closed.customer_phone is None and old_closed.contact_purged_at is not None
    assert old_closed.request_types == ["disclosure"]
    assert tickets.get(refs["old_open"]).customer_phone == PHONE      # open: still worked on
    assert tickets.get(refs["new_closed"]).customer_phone == PHONE    # within the limit

    transcript = review.conversation("old-disclosure-today")["transcript"]
    first_words = transcript[0]["customer"]["text"]
    assert first_words.startswith("個人情報を開示してほしい。電話は［電話番号］")
    audit = [a for a in review.audit() if a["action"] == "retention"]
    assert audit[0]["details"]["conversations"] == len(old_ids)

    again = retention.run(engine, 30, now=NOW)
    assert (again.conversations, again.events, again.tickets) == (0, 0, 0)
    assert events(engine) == after


def test_retention_command(store, db_url, capsys):
    _, _, old_ids, _, _ = store
    assert cli.main(["--database-url", db_url, "retention", "--days", "30"]) == 0
    out = capsys.readouterr().out
    assert f"{len(old_ids)} conversations" in out and "1 closed tickets" in out
    assert cli.main(["--database-url", db_url, "retention", "--days", "0"]) == 2


def test_retention_days_from_the_environment(monkeypatch):
    monkeypatch.delenv("MADOGUCHI_RETENTION_DAYS", raising=False)
    assert retention.retention_days() == retention.DEFAULT_DAYS
    monkeypatch.setenv("MADOGUCHI_RETENTION_DAYS", "90")
    assert retention.retention_days() == 90
    monkeypatch.setenv("MADOGUCHI_RETENTION_DAYS", "off")
    assert retention.retention_days() is None
    assert retention.start_schedule("sqlite://") is None


def test_the_daily_schedule_runs_retention(store, db_url):
    engine, sessions, old_ids, _, _ = store
    thread = retention.start_schedule(db_url, days=30, first_delay=0.01)
    assert thread is not None and thread.daemon
    review = SupervisorReview(engine, sessions)
    for _ in range(600):  # the thread's first run; it then sleeps for a day
        if any(a["action"] == "retention" for a in review.audit()):
            break
        thread.join(0.1)
    runs = [a for a in review.audit() if a["action"] == "retention"]
    assert runs and runs[0]["details"]["conversations"] == len(old_ids)
    assert runs[0]["details"]["days"] == 30
