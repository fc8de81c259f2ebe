"""Issue 15, item 8: the clear contact data and the conversation of a ticket are its holder's
and the supervisors' to read, and every such read is in the ticket's audit log.

Before: `GET /api/tickets/{ref}/transcript` and the ticket itself gave any operator the clear
transcript and contact data of any ticket, and no read was audited. Now an operator who does
not hold a ticket sees the queue's view (contact data, the request's details and the
conversation withheld) until they claim it; the holder's and a supervisor's reads are written
to the audit log (who, when, which fields) before they are answered.
"""

from __future__ import annotations

import pytest

from madoguchi.desk.service import HIDDEN
from madoguchi.tickets import CONTACT_FIELDS
from tests.security.desk_server import desk, stored  # noqa: F401
from tests.test_desk_api import EVIL_CHAT, Desk, canned_tracker

PHONE, EMAIL, ADDRESS = "090-1234-5678", "taro@example.jp", "東京都千代田区1-1-1"


def chatting(desk: Desk, **overrides):  # noqa: F811
    ticket = desk.ticket(**overrides)
    desk.rasa.trackers[ticket.conversation_id] = canned_tracker(ticket.conversation_id)
    return ticket


def reads(desk: Desk, reference: str) -> list[tuple[str, list[str]]]:  # noqa: F811
    return [(e.actor, e.changes["viewed"]["new"]) for e in stored(desk, reference).audit
            if e.action == "viewed"]


@pytest.mark.parametrize("holder", [None, "suzuki"], ids=["unclaimed", "someone_elses"])
def test_an_operator_who_does_not_hold_the_ticket_sees_it_masked(
    desk: Desk, holder: str | None  # noqa: F811
) -> None:
    ticket = chatting(desk)
    if holder:
        assert desk.call("POST", f"/api/tickets/{ticket.reference}/claim",
                         user=holder).status_code == 200

    data = desk.call("GET", f"/api/tickets/{ticket.reference}").json()
    transcript = desk.call("GET", f"/api/tickets/{ticket.reference}/transcript")
    page = desk.page("GET", f"/desk/tickets/{ticket.reference}").text

    assert data["contact_visible"] is False
    assert {data[name] for name in CONTACT_FIELDS} <= {HIDDEN, None}
    assert data["transcript"] is None and data["details"] == {"correction": HIDDEN}
    assert transcript.status_code == 403
    for clear in (PHONE, EMAIL, ADDRESS, "大阪府大阪市北区2-2-2", "住所を変えたいです",
                  "担当の佐藤です。"):
        assert clear not in str(data) and clear not in page, clear
    assert "&lt;img" not in page and EVIL_CHAT not in page  # no transcript line at all
    assert reads(desk, ticket.reference) == []  # nothing clear was read


def test_the_holder_reads_in_clear_and_each_read_is_audited_first(desk: Desk) -> None:  # noqa: F811
    ticket = chatting(desk)
    desk.call("POST", f"/api/tickets/{ticket.reference}/claim")

    data = desk.call("GET", f"/api/tickets/{ticket.reference}").json()

    assert data["contact_visible"] is True
    assert (data["customer_phone"], data["customer_email"]) == (PHONE, EMAIL)
    assert data["transcript"][0]["text"] == "住所を変えたいです"
    [(who, fields)] = reads(desk, ticket.reference)
    assert who == "sato"
    assert set(fields) == {"customer_name", "customer_phone", "customer_email",
                           "customer_postal_address", "transcript"}
    entry = next(e for e in stored(desk, ticket.reference).audit if e.action == "viewed")
    assert entry.at is not None


def test_the_transcript_route_is_no_way_around_it(desk: Desk) -> None:  # noqa: F811
    ticket = chatting(desk)
    assert desk.call("GET", f"/api/tickets/{ticket.reference}/transcript").status_code == 403

    desk.call("POST", f"/api/tickets/{ticket.reference}/claim")
    response = desk.call("GET", f"/api/tickets/{ticket.reference}/transcript")

    assert response.status_code == 200
    assert response.json()["transcript"][0]["text"] == "住所を変えたいです"
    assert reads(desk, ticket.reference) == [("sato", ["transcript"])]


def test_a_supervisor_reads_any_ticket_and_is_audited_like_anyone(desk: Desk) -> None:  # noqa: F811
    ticket = chatting(desk)
    desk.call("POST", f"/api/tickets/{ticket.reference}/claim", user="suzuki")

    page = desk.page("GET", f"/desk/tickets/{ticket.reference}", user="boss").text

    assert PHONE in page and "住所を変えたいです" in page
    assert [who for who, _ in reads(desk, ticket.reference)] == ["boss"]


def test_the_ticket_pages_refresh_is_one_entry_not_one_a_poll(desk: Desk) -> None:  # noqa: F811
    ticket = chatting(desk)
    desk.call("POST", f"/api/tickets/{ticket.reference}/claim")

    desk.page("GET", f"/desk/tickets/{ticket.reference}")
    for _ in range(3):  # desk.js asks every 4 s while the page is open
        assert desk.page("GET", f"/api/tickets/{ticket.reference}/transcript").status_code == 200

    assert [who for who, _ in reads(desk, ticket.reference)] == ["sato"]


def test_the_queue_names_the_customer_only_on_ones_own_tickets(desk: Desk) -> None:  # noqa: F811
    mine = desk.ticket(customer_name="自分 の客")
    theirs = desk.ticket(customer_name="他人 の客")
    desk.call("POST", f"/api/tickets/{mine.reference}/claim")
    desk.call("POST", f"/api/tickets/{theirs.reference}/claim", user="suzuki")

    rows = {t["reference"]: t for t in
            desk.call("GET", "/api/tickets?limit=500").json()["tickets"]}
    page = desk.page("GET", "/desk").text

    assert rows[mine.reference]["customer_name"] == "自分 の客"
    assert rows[theirs.reference]["customer_name"] is None
    assert "自分 の客" in page and "他人 の客" not in page
