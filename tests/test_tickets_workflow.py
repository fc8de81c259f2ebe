"""The status workflow and what status changes do to a stored ticket."""

from __future__ import annotations

import pytest

from madoguchi.tickets import InvalidField, InvalidTransition, TicketDraft, workflow

ALLOWED = [
    ("new", "assigned"),
    ("new", "rejected"),
    ("new", "withdrawn"),
    ("assigned", "new"),
    ("assigned", "waiting_customer"),
    ("assigned", "resolved"),
    ("assigned", "rejected"),
    ("assigned", "withdrawn"),
    ("waiting_customer", "assigned"),
    ("waiting_customer", "resolved"),
    ("waiting_customer", "rejected"),
    ("waiting_customer", "withdrawn"),
    # A refusal or partial grant waits for a supervisor's approval (TicketService's decision).
    ("assigned", "pending_approval"),
    ("waiting_customer", "pending_approval"),
    ("pending_approval", "assigned"),
    ("pending_approval", "resolved"),
    ("pending_approval", "rejected"),
    ("pending_approval", "withdrawn"),
]


@pytest.mark.parametrize(("current", "new"), ALLOWED)
def test_allowed_transitions(current, new):
    assert workflow.can_transition(current, new)
    workflow.check_transition(current, new)


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (current, new)
        for current in workflow.STATUSES
        for new in workflow.STATUSES
        if current != new and (current, new) not in ALLOWED
    ],
)
def test_every_other_transition_is_forbidden(current, new):
    assert not workflow.can_transition(current, new)
    with pytest.raises(InvalidTransition) as raised:
        workflow.check_transition(current, new)
    assert raised.value.current == current
    assert raised.value.requested == new


def test_closed_tickets_stay_closed():
    for status in workflow.CLOSED_STATUSES:
        assert workflow.TRANSITIONS[status] == frozenset()


def test_unknown_status_is_refused():
    with pytest.raises(InvalidTransition, match="unknown status"):
        workflow.check_transition("new", "done")


def test_complaints_get_high_priority_unless_already_urgent():
    assert workflow.initial_priority(["disclosure"]) == "normal"
    assert workflow.initial_priority(["complaint"]) == "high"
    assert workflow.initial_priority(["complaint"], "normal") == "high"
    assert workflow.initial_priority(["complaint"], "urgent") == "urgent"
    with pytest.raises(ValueError):
        workflow.initial_priority(["disclosure"], "asap")


def test_transition_changes_status_and_audits_the_actor(ticket_repo):
    # A complaint: requests ①–⑤ are resolved through a decision (tests/test_lifecycle_*).
    ticket = ticket_repo.create(TicketDraft(request_types=["complaint"]))
    ticket_repo.claim(ticket.reference, "alice")
    ticket_repo.transition(ticket.reference, "waiting_customer", "alice")
    done = ticket_repo.transition(ticket.reference, "resolved", "alice")
    assert done.status == "resolved"
    stored = ticket_repo.get(ticket.reference)
    statuses = [
        (e.actor, e.changes["status"]["old"], e.changes["status"]["new"])
        for e in stored.audit
        if "status" in e.changes
    ]
    assert statuses == [
        ("assistant", None, "new"),
        ("alice", "new", "assigned"),
        ("alice", "assigned", "waiting_customer"),
        ("alice", "waiting_customer", "resolved"),
    ]


def test_forbidden_transition_changes_nothing_but_is_audited(ticket_repo):
    ticket = ticket_repo.create(TicketDraft(request_types=["disclosure"]))
    with pytest.raises(InvalidTransition):
        ticket_repo.transition(ticket.reference, "resolved", "alice")
    ticket_repo.transition(ticket.reference, "withdrawn", "alice")
    with pytest.raises(InvalidTransition):
        ticket_repo.transition(ticket.reference, "assigned", "alice")
    stored = ticket_repo.get(ticket.reference)
    assert stored.status == "withdrawn"
    assert [e.action for e in stored.audit] == [
        "created", "attempt_refused", "status_changed", "attempt_refused"]
    assert [e.changes["attempted"]["new"] for e in stored.audit if e.action == "attempt_refused"
            ] == ["transition (status → resolved)", "transition (status → assigned)"]


def test_transition_to_the_current_status_is_a_no_op(ticket_repo):
    ticket = ticket_repo.create(TicketDraft(request_types=["disclosure"]))
    again = ticket_repo.transition(ticket.reference, "new", "alice")
    assert again.status == "new"
    assert len(ticket_repo.get(ticket.reference).audit) == 1


def test_unassigning_releases_the_ticket_and_assigning_takes_it(ticket_repo):
    ticket = ticket_repo.create(TicketDraft(request_types=["correction"]))
    ticket_repo.claim(ticket.reference, "alice")
    released = ticket_repo.transition(ticket.reference, "new", "alice")
    assert (released.status, released.assignee) == ("new", None)
    taken = ticket_repo.transition(ticket.reference, "assigned", "bob")
    assert (taken.status, taken.assignee) == ("assigned", "bob")
    last = ticket_repo.get(ticket.reference).audit[-1]
    assert last.changes["assignee"] == {"old": None, "new": "bob"}


def test_status_can_change_together_with_fields_in_one_audited_update(ticket_repo):
    ticket = ticket_repo.create(TicketDraft(request_types=["disclosure"]))
    ticket_repo.claim(ticket.reference, "alice")
    updated = ticket_repo.update_fields(
        ticket.reference, {"status": "waiting_customer", "priority": "urgent"}, "alice"
    )
    assert (updated.status, updated.priority) == ("waiting_customer", "urgent")
    last = ticket_repo.get(ticket.reference).audit[-1]
    assert last.action == "updated"
    assert last.changes == {
        "status": {"old": "assigned", "new": "waiting_customer"},
        "priority": {"old": "normal", "new": "urgent"},
    }


def test_forbidden_status_in_an_update_changes_no_field(ticket_repo):
    ticket = ticket_repo.create(TicketDraft(request_types=["disclosure"]))
    with pytest.raises(InvalidTransition):
        ticket_repo.update_fields(
            ticket.reference, {"status": "resolved", "priority": "urgent"}, "a"
        )
    assert ticket_repo.get(ticket.reference).priority == "normal"


def test_queue_status_filter_refuses_unknown_statuses(ticket_repo):
    with pytest.raises(InvalidField):
        ticket_repo.list_queue(status="done")
