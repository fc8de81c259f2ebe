"""Where a request stands, asked by the customer (issue 16, item 7): references read tolerantly,
the contact compared without being shown, the same answer for an unknown reference and a wrong
contact, attempts limited per client and per reference and audited, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from madoguchi.notice.window import default_window
from madoguchi.review.models import ReviewAudit
from madoguchi.tickets import ServiceTarget, TicketDraft, TicketService, workflow
from madoguchi.tickets.status_check import (
    ANSWERED,
    BAD_CONTACT,
    BAD_REFERENCE,
    CONTACT_MISMATCH,
    LIMITED,
    SEVERAL_REFERENCES,
    UNKNOWN_REFERENCE,
    StatusCheck,
    StatusTexts,
    contact_key,
    contact_matches,
    find_references,
    parse_reference,
)

START = datetime(2026, 12, 4, 1, 0, tzinfo=timezone.utc)
CONTACT = default_window().contact


@pytest.mark.parametrize("text", [
    "PRV-20261204-0012 の状況を教えて",
    "ＰＲＶ－２０２６１２０４－００１２の進み具合は？",
    "prv-20261204-0012",
    "PRV 20261204 12",
    "PRV‐20261204―0012",
    "PRVー20261204ー0012です",
    "受付番号は PRV20261204-12 です",
    "20261204-0012 の件で",
    "PRV-20261204-00012",
])
def test_a_reference_is_read_however_it_is_typed(text: str) -> None:
    assert parse_reference(text) == "PRV-20261204-0012"


@pytest.mark.parametrize("text", [
    "受付番号を忘れました",
    "PRV-20261332-0012",          # no 32nd of the 13th month
    "PRV-2026124-0012",           # seven digits are no day
    "PRV-20261204-0000",
    "090-1234-5678",
    "PRV-20261204-0012 と PRV-20261205-0003",  # two: ask which
])
def test_no_reference_or_two_are_not_guessed(text: str) -> None:
    assert parse_reference(text) is None


def test_the_same_reference_twice_is_one() -> None:
    assert find_references("PRV-20261204-0012、つまりprv 20261204 12") == ["PRV-20261204-0012"]


@pytest.mark.parametrize(("given", "key"), [
    ("090-1234-5678", ("phone", "09012345678")),
    ("０９０ー１２３４ー５６７８", ("phone", "09012345678")),
    ("+81 90 1234 5678", ("phone", "09012345678")),
    ("(03)1234-5678", ("phone", "0312345678")),
    (" Taro@Example.COM ", ("email", "taro@example.com")),
    ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ", ("email", "taro@example.com")),
    ("山田太郎", None),
    ("1234", None),
    ("taro@", None),
])
def test_contact_is_read_as_a_phone_number_or_an_address(given: str, key) -> None:
    assert contact_key(given) == key


def test_contact_matches_the_phone_or_the_email_on_the_ticket() -> None:
    assert contact_matches("09012345678", "090-1234-5678", None)
    assert contact_matches("TARO@example.com", "090-1234-5678", "taro@example.com")
    assert not contact_matches("090-1234-5679", "090-1234-5678", "taro@example.com")
    assert not contact_matches("taro@example.com", "090-1234-5678", None)
    assert not contact_matches("", None, None)  # a purged ticket matches nothing


def test_every_status_has_its_state_and_next_step_in_plain_japanese() -> None:
    texts = StatusTexts.load()
    for status in workflow.STATUSES:
        words = texts.states[status]
        assert words["state"].endswith("。") and words["next"].endswith("。"), status


@pytest.fixture
def clock() -> list[datetime]:
    return [START]


@pytest.fixture
def tickets(db_sessions, clock) -> TicketService:
    return TicketService(db_sessions, service_target=ServiceTarget(business_days=3),
                         clock=lambda: clock[0])


@pytest.fixture
def check(db_sessions, tickets, clock) -> StatusCheck:
    return StatusCheck(db_sessions, tickets, per_client=3, per_reference=4,
                       clock=lambda: clock[0])


def ticket(tickets: TicketService) -> str:
    return tickets.create(TicketDraft(
        request_types=["disclosure"], customer_name="山田 太郎", customer_phone="090-1234-5678",
        customer_email="taro@example.com", conversation_id="conv-1")).reference


def test_the_right_contact_learns_the_state_and_the_next_step(check, tickets) -> None:
    reference = ticket(tickets)
    result = check.check(reference, "０９０１２３４５６７８", client="conv-9", channel="chat")
    assert (result.outcome, result.status) == (ANSWERED, "new")
    text = StatusTexts.load().answer(result, CONTACT)
    assert reference in text and "担当者が受付順に内容を確認し" in text
    assert "090" not in text and "山田" not in text and "開示" not in text


def test_an_unknown_reference_and_a_wrong_contact_read_alike(check, tickets) -> None:
    reference = ticket(tickets)
    wrong = check.check(reference, "090-0000-0000", client="a", channel="chat")
    unknown = check.check("PRV-20261204-0999", "090-1234-5678", client="b", channel="chat")
    assert (wrong.outcome, unknown.outcome) == (CONTACT_MISMATCH, UNKNOWN_REFERENCE)
    assert wrong.status is None and unknown.status is None
    texts = StatusTexts.load()
    assert texts.answer(wrong, CONTACT) == texts.answer(unknown, CONTACT)


def test_every_attempt_is_audited_without_contact_data(check, tickets, db_sessions) -> None:
    reference = ticket(tickets)
    check.check(reference, "090-1234-5678", client="conv-9", channel="chat")
    check.check(reference, "taro@evil.example", client="conv-9", channel="chat")
    check.check("PRV-20261204-0999", "090-1234-5678", client="page:1", channel="status_page")
    with db_sessions() as session:
        rows = list(session.execute(select(ReviewAudit).order_by(ReviewAudit.id)).scalars())
    assert [(r.sender_id, r.details["outcome"]) for r in rows] == [
        ("conv-9", ANSWERED), ("conv-9", CONTACT_MISMATCH), ("page:1", UNKNOWN_REFERENCE)]
    entries = [e for e in tickets.get(reference).audit if e.action == "status_checked"]
    assert [e.changes["status_check"]["new"] for e in entries] == [ANSWERED, CONTACT_MISMATCH]
    logged = repr([r.details for r in rows]) + repr([e.changes for e in entries])
    assert "1234" not in logged and "evil" not in logged


def test_a_status_check_changes_nothing_on_the_ticket(check, tickets, clock) -> None:
    reference = ticket(tickets)
    before = tickets.get(reference)
    clock[0] = START + timedelta(minutes=5)
    check.check(reference, "090-1234-5678", client="c", channel="chat")
    after = tickets.get(reference)
    assert (after.status, after.updated_at, after.assignee) == (
        before.status, before.updated_at, before.assignee)


def test_attempts_are_limited_per_client_for_an_hour(db_sessions, tickets, clock) -> None:
    check = StatusCheck(db_sessions, tickets, per_client=3, per_reference=10,
                        clock=lambda: clock[0])
    reference = ticket(tickets)
    outcomes = [check.check(reference, "090-0000-000" + str(i), client="conv-x",
                            channel="chat").outcome for i in range(3)]
    assert outcomes == [CONTACT_MISMATCH] * 3
    # Even the right contact is refused now, and the answer says so rather than "not found".
    assert check.check(reference, "090-1234-5678", client="conv-x", channel="chat").outcome \
        == LIMITED
    assert check.check(reference, "090-1234-5678", client="conv-y", channel="chat").outcome \
        == ANSWERED
    clock[0] = START + timedelta(hours=1, minutes=1)
    assert check.check(reference, "090-1234-5678", client="conv-x", channel="chat").outcome \
        == ANSWERED


def test_attempts_are_limited_per_reference_from_anywhere(check, tickets) -> None:
    reference = ticket(tickets)
    for i in range(4):
        check.check(reference, "090-0000-0000", client=f"client-{i}", channel="status_page")
    late = check.check(reference, "090-1234-5678", client="client-new", channel="status_page")
    assert late.outcome == LIMITED and late.customer_outcome == LIMITED
    # Unknown references count too: probing them is what the limit is for.
    for i in range(4):
        check.check("PRV-20261204-0777", "x@example.com", client=f"p-{i}", channel="chat")
    assert check.check("PRV-20261204-0777", "x@example.com", client="p-9",
                       channel="chat").outcome == LIMITED


def test_an_attempt_in_the_wrong_form_is_audited_without_what_was_typed(
    check, tickets, db_sessions
) -> None:
    """A reference that cannot be read, two references, a contact that is neither a phone
    number nor an address: each is an audited attempt, and nothing typed is kept."""
    reference = ticket(tickets)
    assert check.refuse_reference("PRV-2026-1 山田 090-1234-5678", client="conv-7",
                                  channel="chat") == BAD_REFERENCE
    assert check.refuse_reference(f"{reference} と PRV-20261204-0002", client="conv-7",
                                  channel="chat") == SEVERAL_REFERENCES
    check.refuse(BAD_CONTACT, reference=reference, client="page:2", channel="status_page")
    with db_sessions() as session:
        rows = list(session.execute(select(ReviewAudit).order_by(ReviewAudit.id)).scalars())
    assert [(r.actor, r.sender_id, r.details) for r in rows] == [
        ("customer", "conv-7", {"channel": "chat", "reference": None, "outcome": BAD_REFERENCE}),
        ("customer", "conv-7", {"channel": "chat", "reference": None,
                                "outcome": SEVERAL_REFERENCES}),
        ("customer", "page:2", {"channel": "status_page", "reference": reference,
                                "outcome": BAD_CONTACT}),
    ]
    assert "1234" not in repr([r.details for r in rows]) and "山田" not in repr(
        [r.details for r in rows])
    stored = tickets.get(reference)
    entries = [e for e in stored.audit if e.action == "status_checked"]
    assert [(e.actor, e.changes["status_check"]["new"]) for e in entries] == [
        ("customer (status_page)", BAD_CONTACT)]
    with pytest.raises(ValueError):
        check.refuse(ANSWERED, client="conv-7", channel="chat")


def test_attempts_in_the_wrong_form_do_not_use_up_the_limits(check, tickets) -> None:
    """They looked nothing up: a customer who mistypes is not locked out (per_client=3)."""
    reference = ticket(tickets)
    for _ in range(5):
        check.refuse_reference("PRV-2026-1", client="conv-z", channel="chat")
        check.refuse(BAD_CONTACT, reference=reference, client="conv-z", channel="chat")
    assert check.check(reference, "090-1234-5678", client="conv-z", channel="chat").outcome \
        == ANSWERED
