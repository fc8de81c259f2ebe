"""Issue 15, item 11: only a ticket's holder or a supervisor changes it, and a refusal says
why.

Before: any operator could reject or withdraw an unclaimed ticket, move its due date or demote
a complaint (the desk checked only "held by someone else"). Now every change passes
`TicketService`'s check (its audit entry is written in one place, and the check is there):
an operator claims a ticket first; a plain refusal (`rejected`) needs its reason, and the
requests ①–⑤ are refused only through the decision workflow (ground, supervisor's approval).
"""

from __future__ import annotations

import pytest

from madoguchi.tickets import Conflict, TicketService
from tests.security.desk_server import desk, stored, user  # noqa: F401
from tests.test_desk_api import Desk

CHANGES = {
    "reject": {"status": "rejected", "reason": "当社の顧客ではないため"},
    "withdraw": {"status": "withdrawn"},
    "move_due_date": {"due_at": "2030-01-31T12:00:00+09:00"},
    "demote_a_complaint": {"priority": "normal"},
}


@pytest.mark.parametrize("change", list(CHANGES))
@pytest.mark.parametrize("holder", [None, "suzuki"], ids=["unclaimed", "someone_elses"])
def test_an_operator_cannot_change_a_ticket_they_do_not_hold(
    desk: Desk, change: str, holder: str | None  # noqa: F811
) -> None:
    ticket = desk.ticket(request_types=["complaint"], priority="high")
    if holder:
        desk.call("POST", f"/api/tickets/{ticket.reference}/claim", user=holder)
    before = stored(desk, ticket.reference)

    response = desk.call("PATCH", f"/api/tickets/{ticket.reference}", json=CHANGES[change])

    assert response.status_code == 409, response.text
    after = stored(desk, ticket.reference)
    assert (after.status, after.priority, after.due_at) == (
        before.status, before.priority, before.due_at)
    # Nothing changed; the only new audit entry is the refused attempt itself (issue 16).
    added = [entry.action for entry in after.audit[len(before.audit):]]
    assert added == ["attempt_refused"]


def test_the_console_form_is_refused_the_same_way(desk: Desk) -> None:  # noqa: F811
    ticket = desk.ticket(request_types=["complaint"], priority="high")
    page = desk.page("GET", f"/desk/tickets/{ticket.reference}").text
    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]

    response = desk.page("POST", f"/desk/tickets/{ticket.reference}/status",
                         data={"csrf": csrf, "status": "withdrawn"})

    assert response.status_code == 409 and "担当してから" in response.text
    assert stored(desk, ticket.reference).status == "new"


def test_every_change_of_the_service_is_checked_not_only_the_desks(desk: Desk) -> None:  # noqa: F811
    """The law's steps too (steps.py): moving the day received moves the due date."""
    ticket = desk.ticket(request_types=["complaint"])
    service = TicketService(desk.sessions)

    with pytest.raises(Conflict):
        service.set_received_at(ticket.reference, "2026-01-05", user(desk, "sato"))
    with pytest.raises(Conflict):
        service.transition(ticket.reference, "withdrawn", user(desk, "suzuki"))
    response = desk.call("POST", f"/api/tickets/{ticket.reference}/received",
                         json={"received_at": "2026-01-05"})

    assert response.status_code == 409
    assert stored(desk, ticket.reference).due_at == ticket.due_at


def test_the_holder_and_a_supervisor_may(desk: Desk) -> None:  # noqa: F811
    ticket = desk.ticket(request_types=["complaint"], priority="high")
    desk.call("POST", f"/api/tickets/{ticket.reference}/claim")

    mine = desk.call("PATCH", f"/api/tickets/{ticket.reference}",
                     json={"due_at": "2030-01-31T12:00:00+09:00"})
    boss = desk.call("PATCH", f"/api/tickets/{ticket.reference}", json={"priority": "urgent"},
                     user="boss")

    assert mine.status_code == 200 and boss.status_code == 200
    assert [(e.actor, e.action) for e in stored(desk, ticket.reference).audit][-2:] == [
        ("sato", "updated"), ("boss", "updated")]


def test_a_refusal_needs_its_reason_and_keeps_it(desk: Desk) -> None:  # noqa: F811
    ticket = desk.ticket(request_types=["complaint"])
    path = f"/api/tickets/{ticket.reference}"
    desk.call("POST", path + "/claim")

    for body in ({"status": "rejected"}, {"status": "rejected", "reason": "  "}):
        assert desk.call("PATCH", path, json=body).status_code == 422
    done = desk.call("PATCH", path, json=CHANGES["reject"])

    assert done.status_code == 200 and done.json()["status"] == "rejected"
    entry = stored(desk, ticket.reference).audit[-1]
    assert entry.changes["reason"] == {"old": None, "new": "当社の顧客ではないため"}


def test_a_request_is_refused_only_through_its_decision(desk: Desk) -> None:  # noqa: F811
    """①–⑤: a plain status change may not stand in for the decision workflow (ground,
    explanation, a supervisor's approval), reason or not."""
    ticket = desk.ticket(request_types=["correction"])
    path = f"/api/tickets/{ticket.reference}"
    desk.call("POST", path + "/claim")

    response = desk.call("PATCH", path, json=CHANGES["reject"])

    assert response.status_code == 409
    assert stored(desk, ticket.reference).status == "assigned"
