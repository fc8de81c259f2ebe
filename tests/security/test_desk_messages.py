"""Issue 15, item 12 (the desk's half): no operator message reaches a customer without its
audit entry.

Before: the desk appended the message to the conversation in Rasa first and wrote the audit
entry afterwards, in a transaction of its own: a failure between the two (the database busy or
down) left words the customer read and the log lacks. The message lives in Rasa's store, the
audit in ours, so they cannot share a transaction; instead the holder check and the audit entry
commit together first, then the message is delivered, and a failed delivery is written down too.
"""

from __future__ import annotations

from typing import Any

from tests.security.desk_server import desk, stored  # noqa: F401
from tests.test_desk_api import Desk


class AuditWatch(list):
    """Rasa's received events, each with what our audit log held at that moment."""

    def __init__(self, desk: Desk, reference: str) -> None:  # noqa: F811
        super().__init__()
        self.desk, self.reference, self.audit_then = desk, reference, []

    def append(self, item: Any) -> None:
        actions = [(e.action, (e.changes.get("message") or {}).get("new"))
                   for e in stored(self.desk, self.reference).audit]
        self.audit_then.append(actions)
        super().append(item)


def test_the_audit_entry_is_committed_before_the_customer_gets_the_message(
    desk: Desk  # noqa: F811
) -> None:
    ticket = desk.ticket()
    desk.call("POST", f"/api/tickets/{ticket.reference}/claim")
    watch = desk.rasa.posted = AuditWatch(desk, ticket.reference)

    response = desk.call("POST", f"/api/tickets/{ticket.reference}/messages",
                         json={"text": "担当の佐藤です。"})

    assert response.status_code == 201
    [seen] = watch.audit_then
    assert ("message_sent", "担当の佐藤です。") in seen


def test_a_failed_delivery_is_in_the_log_and_the_operator_told(desk: Desk) -> None:  # noqa: F811
    ticket = desk.ticket()
    desk.call("POST", f"/api/tickets/{ticket.reference}/claim")
    desk.rasa.failing.add(ticket.conversation_id)

    response = desk.call("POST", f"/api/tickets/{ticket.reference}/messages",
                         json={"text": "お待たせしました。"})

    assert response.status_code == 502
    assert [e.action for e in stored(desk, ticket.reference).audit][-2:] == [
        "message_sent", "message_failed"]


def test_a_message_to_a_ticket_one_does_not_hold_reaches_nobody(desk: Desk) -> None:  # noqa: F811
    ticket = desk.ticket()
    desk.rasa.posted = []

    response = desk.call("POST", f"/api/tickets/{ticket.reference}/messages",
                         json={"text": "勝手に送ります。"})

    assert response.status_code == 409
    assert desk.rasa.events_for(ticket.conversation_id) == []
    assert "message_sent" not in [e.action for e in stored(desk, ticket.reference).audit]
