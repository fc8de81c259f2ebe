"""Tickets through the repository, on SQLite and PostgreSQL: creation, references, claims,
the queue, edits, notes and retention, each change with its audit entry."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from madoguchi.tickets import (
    CONTACT_FIELDS,
    Conflict,
    InvalidField,
    InvalidTransition,
    NotFound,
    ServiceTarget,
    Ticket,
    TicketDraft,
)
from madoguchi.tickets import (
    TicketService as TicketRepository,
)
from madoguchi.tickets.models import TicketCounter
from madoguchi.tickets.references import format_reference
from madoguchi.tickets.service_target import JST

REFERENCE = re.compile(r"^PRV-\d{8}-\d{4,}$")


def draft(**overrides) -> TicketDraft:
    values = dict(
        request_types=["correction"],
        customer_name="山田 太郎",
        customer_phone="090-1234-5678",
        customer_email="taro@example.jp",
        customer_postal_address="東京都千代田区1-1-1",
        customer_member_number="M123456",
        preferred_contact="email",
        preferred_time="平日 18時以降",
        details={"item": "住所", "new_value": "大阪府大阪市北区2-2-2"},
        customer_words="登録している住所が古いので直してください",
        nlu_intent="request_correction",
        nlu_confidence=0.93,
        notice_sections=["4.1", "4.2"],
        next_steps="請求書を郵送します。",
        conversation_id="conv-1",
    )
    values.update(overrides)
    return TicketDraft(**values)


def count_tickets(db_sessions) -> int:
    with db_sessions() as session:
        return session.execute(select(func.count()).select_from(Ticket)).scalar_one()


def run_at_once(count: int, fn):
    """Run fn(i) for i < count from `count` threads released together; return the results."""
    barrier = threading.Barrier(count)

    def task(i):
        barrier.wait(timeout=30)
        return fn(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(task, range(count)))


# --- creating -------------------------------------------------------------------------------


def test_create_fills_the_ticket_from_the_draft(ticket_repo):
    ticket = ticket_repo.create(draft())
    assert REFERENCE.match(ticket.reference)
    stored = ticket_repo.get(ticket.reference)
    assert stored.status == "new"
    assert stored.priority == "normal"
    assert stored.assignee is None
    assert stored.request_types == ["correction"]
    assert stored.details == {"item": "住所", "new_value": "大阪府大阪市北区2-2-2"}
    assert stored.customer_name == "山田 太郎"
    assert stored.notice_sections == ["4.1", "4.2"]
    assert stored.nlu_confidence == pytest.approx(0.93)
    assert stored.conversation_id == "conv-1"
    assert stored.created_at == stored.updated_at
    assert stored.due_at > stored.created_at
    [created] = stored.audit
    assert (created.action, created.actor) == ("created", "assistant")
    assert created.changes["status"] == {"old": None, "new": "new"}


def test_reference_has_the_japanese_date_and_a_daily_running_number(db_sessions):
    moments = iter(
        [
            datetime(2026, 11, 24, 14, 59, tzinfo=timezone.utc),  # 23:59 JST on the 24th
            datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc),  # 00:00 JST on the 25th
            datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc),
        ]
    )
    ticket_repo = TicketRepository(db_sessions, clock=lambda: next(moments))
    refs = [ticket_repo.create(draft()).reference for _ in range(3)]
    assert refs == ["PRV-20261124-0001", "PRV-20261125-0001", "PRV-20261125-0002"]


def test_reference_numbers_grow_past_9999(db_sessions):
    now = datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)
    with db_sessions.begin() as session:
        session.add(TicketCounter(day=date(2026, 11, 25), last=9999))
    ticket_repo = TicketRepository(db_sessions, clock=lambda: now)
    assert ticket_repo.create(draft()).reference == "PRV-20261125-10000"
    assert format_reference(date(2026, 1, 2), 7) == "PRV-20260102-0007"


def test_complaints_are_created_with_high_priority(ticket_repo):
    ticket = ticket_repo.create(draft(request_types=["complaint"], details={}))
    assert ticket.priority == "high"


def test_create_refuses_unknown_request_types_and_bad_values(ticket_repo, db_sessions):
    with pytest.raises(InvalidField, match="request type"):
        ticket_repo.create(draft(request_types=["refund"]))
    with pytest.raises(InvalidField, match="nlu_confidence"):
        ticket_repo.create(draft(nlu_confidence=3))
    with pytest.raises(InvalidField, match="priority"):
        ticket_repo.create(draft(priority="asap"))
    assert count_tickets(db_sessions) == 0


def test_same_idempotency_key_twice_gives_one_ticket(ticket_repo, db_sessions):
    first = ticket_repo.create(draft(), idempotency_key="conv-1:handoff:1")
    second = ticket_repo.create(draft(customer_name="別人"), idempotency_key="conv-1:handoff:1")
    assert second.reference == first.reference
    assert second.customer_name == "山田 太郎"
    assert count_tickets(db_sessions) == 1
    third = ticket_repo.create(draft(), idempotency_key="conv-1:handoff:2")
    assert third.reference != first.reference


def test_same_idempotency_key_from_ten_threads_at_once_gives_one_ticket(ticket_repo, db_sessions):
    tickets = run_at_once(
        10, lambda i: ticket_repo.create(draft(), idempotency_key="conv-9:handoff")
    )
    assert len({t.reference for t in tickets}) == 1
    assert count_tickets(db_sessions) == 1
    # The losers gave their numbers back: the next ticket of the day is number 2.
    assert ticket_repo.create(draft()).reference.endswith("-0002")


def test_fifty_concurrent_creates_get_fifty_distinct_references(ticket_repo, db_sessions):
    tickets = run_at_once(50, lambda i: ticket_repo.create(draft(conversation_id=f"conv-{i}")))
    references = {t.reference for t in tickets}
    assert len(references) == 50
    assert all(REFERENCE.match(r) for r in references)
    assert count_tickets(db_sessions) == 50
    numbers = sorted(int(r.rsplit("-", 1)[1]) for r in references)
    assert numbers == list(range(1, 51))


# --- reading --------------------------------------------------------------------------------


def test_get_unknown_reference_is_none_and_changes_say_not_found(ticket_repo):
    assert ticket_repo.get("PRV-20000101-0001") is None
    with pytest.raises(NotFound):
        ticket_repo.claim("PRV-20000101-0001", "alice")


def test_get_accepts_a_lowercase_reference(ticket_repo):
    ticket = ticket_repo.create(draft())
    assert ticket_repo.get(ticket.reference.lower()).id == ticket.id


def test_queue_lists_most_urgent_then_earliest_due_then_oldest(db_sessions):
    start = datetime(2026, 11, 25, 1, 0, tzinfo=timezone.utc)
    ticks = iter(start + timedelta(minutes=i) for i in range(100))
    ticket_repo = TicketRepository(
        db_sessions, service_target=ServiceTarget(), clock=lambda: next(ticks)
    )
    normal_old = ticket_repo.create(draft())
    normal_new = ticket_repo.create(draft())
    complaint = ticket_repo.create(draft(request_types=["complaint"]))
    urgent = ticket_repo.create(draft(priority="urgent"))
    normal_due_soon = ticket_repo.create(draft())
    ticket_repo.update_fields(
        normal_due_soon.reference, {"due_at": start + timedelta(hours=1)}, "supervisor"
    )
    closed = ticket_repo.create(draft())
    ticket_repo.transition(closed.reference, "withdrawn", "alice")

    queue = [t.reference for t in ticket_repo.list_queue()]
    assert queue == [
        urgent.reference,
        complaint.reference,
        normal_due_soon.reference,
        normal_old.reference,
        normal_new.reference,
    ]
    assert [t.reference for t in ticket_repo.list_queue(limit=2, offset=1)] == queue[1:3]
    assert [t.reference for t in ticket_repo.list_queue(status="withdrawn")] == [closed.reference]
    assert len(ticket_repo.list_queue(status="all")) == 6


def test_queue_filters_by_type_and_assignee(ticket_repo):
    disclosure = ticket_repo.create(draft(request_types=["disclosure"]))
    both = ticket_repo.create(draft(request_types=["marketing_optout", "third_party_stop"]))
    ticket_repo.create(draft(request_types=["third_party_stop"]))
    ticket_repo.claim(both.reference, "alice")

    assert [t.reference for t in ticket_repo.list_queue(type="disclosure")] == [
        disclosure.reference
    ]
    assert [t.reference for t in ticket_repo.list_queue(type="marketing_optout")] == [
        both.reference
    ]
    assert len(ticket_repo.list_queue(type="third_party_stop")) == 2
    assert [t.reference for t in ticket_repo.list_queue(assignee="alice")] == [both.reference]
    assert ticket_repo.list_queue(type="purpose_notice") == []
    with pytest.raises(InvalidField):
        ticket_repo.list_queue(type="refund")


def test_tickets_of_a_conversation_newest_first(ticket_repo):
    first = ticket_repo.create(draft(conversation_id="conv-x"))
    second = ticket_repo.create(draft(conversation_id="conv-x"))
    ticket_repo.create(draft(conversation_id="conv-y"))
    assert [t.reference for t in ticket_repo.find_by_conversation("conv-x")] == [
        second.reference,
        first.reference,
    ]


# --- claiming -------------------------------------------------------------------------------


def test_claim_assigns_a_new_ticket_and_audits_it(ticket_repo):
    ticket = ticket_repo.create(draft())
    claimed = ticket_repo.claim(ticket.reference, "alice")
    assert (claimed.status, claimed.assignee) == ("assigned", "alice")
    entry = ticket_repo.get(ticket.reference).audit[-1]
    assert (entry.action, entry.actor) == ("claimed", "alice")
    assert entry.changes == {
        "assignee": {"old": None, "new": "alice"},
        "status": {"old": "new", "new": "assigned"},
    }


def test_claim_of_a_ticket_someone_else_holds_is_a_conflict(ticket_repo):
    ticket = ticket_repo.create(draft())
    ticket_repo.claim(ticket.reference, "alice")
    with pytest.raises(Conflict) as raised:
        ticket_repo.claim(ticket.reference, "bob")
    assert raised.value.holder == "alice"
    assert ticket_repo.get(ticket.reference).assignee == "alice"


def test_claiming_ones_own_ticket_again_changes_nothing(ticket_repo):
    ticket = ticket_repo.create(draft())
    ticket_repo.claim(ticket.reference, "alice")
    again = ticket_repo.claim(ticket.reference, "alice")
    assert again.assignee == "alice"
    assert [e.action for e in ticket_repo.get(ticket.reference).audit] == ["created", "claimed"]


def test_claim_accepts_a_user_object(ticket_repo):
    class Operator:
        name = "carol"

    ticket = ticket_repo.create(draft())
    assert ticket_repo.claim(ticket.reference, Operator()).assignee == "carol"


def test_closed_tickets_cannot_be_claimed(ticket_repo):
    ticket = ticket_repo.create(draft())
    ticket_repo.transition(ticket.reference, "withdrawn", "alice")
    with pytest.raises(InvalidTransition):
        ticket_repo.claim(ticket.reference, "bob")


def test_of_many_operators_claiming_at_once_exactly_one_wins(ticket_repo):
    ticket = ticket_repo.create(draft())

    def claim(i):
        try:
            return ticket_repo.claim(ticket.reference, f"operator{i}").assignee
        except Conflict as exc:
            return exc

    outcomes = run_at_once(8, claim)
    winners = [o for o in outcomes if isinstance(o, str)]
    conflicts = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(winners) == 1
    assert len(conflicts) == 7
    assert {c.holder for c in conflicts} == set(winners)
    stored = ticket_repo.get(ticket.reference)
    assert stored.assignee == winners[0]
    assert [e.action for e in stored.audit if e.action != "attempt_refused"] == [
        "created", "claimed"]
    losers = {e.actor for e in stored.audit if e.action == "attempt_refused"}
    assert losers == {f"operator{i}" for i in range(8)} - set(winners)  # each loser noted


# --- editing --------------------------------------------------------------------------------


def test_update_fields_audits_old_and_new_values_with_the_actor(ticket_repo):
    ticket = ticket_repo.create(draft())
    ticket_repo.update_fields(
        ticket.reference,
        {"customer_phone": "03-1111-2222", "is_agent": True, "request_types": ["suspension"]},
        "alice",
    )
    stored = ticket_repo.get(ticket.reference)
    assert stored.customer_phone == "03-1111-2222"
    assert stored.is_agent is True
    entry = stored.audit[-1]
    assert (entry.action, entry.actor) == ("updated", "alice")
    assert entry.changes == {
        "customer_phone": {"old": "090-1234-5678", "new": "03-1111-2222"},
        "is_agent": {"old": False, "new": True},
        "request_types": {"old": ["correction"], "new": ["suspension"]},
    }
    assert stored.updated_at > stored.created_at or stored.updated_at == entry.at


def test_update_fields_refuses_fields_outside_the_whitelist_and_notes_the_attempt(ticket_repo):
    ticket = ticket_repo.create(draft())
    for changes in (
        {"reference": "PRV-1"},
        {"assignee": "mallory"},
        {"customer_words": "x"},
        {"created_at": "2020-01-01T00:00:00+00:00"},
    ):
        with pytest.raises(InvalidField):
            ticket_repo.update_fields(ticket.reference, changes, "alice")
    with pytest.raises(InvalidField):
        ticket_repo.update_fields(ticket.reference, {"priority": "asap"}, "alice")
    with pytest.raises(InvalidField):
        ticket_repo.update_fields(ticket.reference, {"due_at": "2026-12-01T10:00:00"}, "alice")
    stored = ticket_repo.get(ticket.reference)
    assert (stored.priority, stored.due_at, stored.updated_at) == (
        ticket.priority, ticket.due_at, ticket.updated_at)
    assert [(e.action, e.changes["attempted"]["new"]) for e in stored.audit[1:]] == [
        ("attempt_refused", f"update_fields ({name})") for name in (
            "reference", "assignee", "customer_words", "created_at", "priority", "due_at")]


def test_update_with_unchanged_values_writes_no_audit_entry(ticket_repo):
    ticket = ticket_repo.create(draft())
    ticket_repo.update_fields(ticket.reference, {"priority": "normal"}, "alice")
    assert len(ticket_repo.get(ticket.reference).audit) == 1


def test_due_at_can_be_set_from_an_iso_string(ticket_repo):
    ticket = ticket_repo.create(draft())
    updated = ticket_repo.update_fields(
        ticket.reference, {"due_at": "2026-12-01T10:00:00+09:00"}, "a"
    )
    assert updated.due_at == datetime(2026, 12, 1, 10, 0, tzinfo=JST)
    assert ticket_repo.get(ticket.reference).due_at == datetime(
        2026, 12, 1, 1, 0, tzinfo=timezone.utc
    )


def test_every_change_needs_an_actor(ticket_repo):
    ticket = ticket_repo.create(draft())
    with pytest.raises(InvalidField):
        ticket_repo.transition(ticket.reference, "withdrawn", " ")


def test_notes_are_kept_with_author_and_audited(ticket_repo):
    ticket = ticket_repo.create(draft())
    note = ticket_repo.add_note(ticket.reference, "alice", "  折り返し電話済み。書類送付予定。 ")
    assert note.body == "折り返し電話済み。書類送付予定。"
    stored = ticket_repo.get(ticket.reference)
    assert [(n.author, n.body) for n in stored.notes] == [("alice", note.body)]
    entry = stored.audit[-1]
    assert (entry.action, entry.actor) == ("note_added", "alice")
    assert entry.changes == {"note": {"old": None, "new": note.id}}
    with pytest.raises(InvalidField):
        ticket_repo.add_note(ticket.reference, "alice", "   ")


def test_to_dict_is_json_ready_and_hides_the_idempotency_key(ticket_repo):
    import json

    ticket = ticket_repo.create(draft(), idempotency_key="k1")
    data = ticket_repo.get(ticket.reference).to_dict(history=True)
    json.dumps(data, ensure_ascii=False)
    assert "idempotency_key" not in data
    assert data["reference"] == ticket.reference
    assert data["audit"][0]["action"] == "created"


# --- retention ------------------------------------------------------------------------------


def test_purge_contact_clears_only_contact_fields_of_old_closed_tickets(db_sessions):
    now = [datetime(2026, 1, 10, 3, 0, tzinfo=timezone.utc)]
    ticket_repo = TicketRepository(db_sessions, clock=lambda: now[0])
    old_closed = ticket_repo.create(draft())
    ticket_repo.claim(old_closed.reference, "alice")
    ticket_repo.update_fields(old_closed.reference, {"customer_phone": "03-1111-2222"}, "alice")
    ticket_repo.transition(old_closed.reference, "withdrawn", "alice")
    old_open = ticket_repo.create(draft())
    now[0] = datetime(2026, 6, 1, 3, 0, tzinfo=timezone.utc)
    recent_closed = ticket_repo.create(draft())
    ticket_repo.transition(recent_closed.reference, "withdrawn", "alice")
    before = ticket_repo.get(old_closed.reference)

    purged = ticket_repo.purge_contact(datetime(2026, 3, 1, tzinfo=timezone.utc), "retention")
    assert purged == 1

    after = ticket_repo.get(old_closed.reference)
    for name in CONTACT_FIELDS:
        assert getattr(after, name) is None
    assert after.contact_purged_at == now[0]
    kept = set(Ticket.__table__.columns.keys()) - set(CONTACT_FIELDS) - {"contact_purged_at"}
    for name in kept:
        assert getattr(after, name) == getattr(before, name), name
    # The phone numbers are gone from the audit log too; the purge itself is audited.
    text = str([e.changes for e in after.audit])
    assert "090-1234-5678" not in text and "03-1111-2222" not in text
    last = after.audit[-1]
    assert (last.action, last.actor) == ("contact_purged", "retention")
    assert set(last.changes) == set(CONTACT_FIELDS)

    assert ticket_repo.get(old_open.reference).customer_phone == "090-1234-5678"
    assert ticket_repo.get(recent_closed.reference).customer_phone == "090-1234-5678"
    assert ticket_repo.purge_contact(datetime(2026, 3, 1, tzinfo=timezone.utc), "retention") == 0


def test_a_text_filter_masks_free_text_before_it_is_stored(db_sessions):
    def hide_card(text: str) -> str:
        return text.replace("4111 1111 1111 1111", "****")

    ticket_repo = TicketRepository(db_sessions, text_filter=hide_card)
    ticket = ticket_repo.create(
        draft(
            customer_words="カード 4111 1111 1111 1111 の件",
            details={"item": "支払", "new_value": ["4111 1111 1111 1111"]},
        )
    )
    ticket_repo.add_note(ticket.reference, "alice", "番号 4111 1111 1111 1111 を言われた")
    ticket_repo.update_fields(ticket.reference, {"details": {"x": "4111 1111 1111 1111"}}, "a")
    stored = ticket_repo.get(ticket.reference)
    # The whole grouping: a timestamp's microseconds can hold "4111".
    assert "4111 1111" not in str(stored.to_dict(history=True))
    assert stored.customer_phone == "090-1234-5678"
