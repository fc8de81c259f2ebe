"""The ticket's lifecycle, on SQLite and PostgreSQL: every change goes through `TicketService`
and writes its audit entry (who, what, old → new) in the same transaction; a refused change or
one that changes nothing writes none; nothing outside the tickets package writes tickets."""

from __future__ import annotations

import ast
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from madoguchi.tickets import (
    CONTACT_FIELDS,
    Conflict,
    InvalidField,
    InvalidTransition,
    NotFound,
    TicketDraft,
    TicketService,
)

ROOT = Path(__file__).resolve().parents[1]
START = datetime(2026, 11, 25, 1, 0, tzinfo=timezone.utc)  # the `clock` of tests/conftest.py


def TEXT_FILTER(s: str) -> str:
    """The `service` fixture's text filter (tests/conftest.py), in place of the PII gate."""
    return s.replace("4111", "****")


def new_ticket(service: TicketService, **overrides):
    values = dict(request_types=["disclosure"], customer_name="山田 太郎",
                  customer_phone="090-1234-5678", conversation_id="conv-1",
                  customer_words="開示してください")
    values.update(overrides)
    return service.create(TicketDraft(**values))


def last_entry(service: TicketService, reference: str):
    return service.get(reference).audit[-1]


def test_creation_is_audited_as_the_assistant(service: TicketService) -> None:
    ticket = new_ticket(service)
    [entry] = service.get(ticket.reference).audit
    assert (entry.actor, entry.action, entry.at) == ("assistant", "created", START)
    assert entry.changes["status"] == {"old": None, "new": "new"}
    assert entry.changes["priority"] == {"old": None, "new": "normal"}
    assert entry.changes["request_types"] == {"old": None, "new": ["disclosure"]}


def test_claim_transition_and_edit_each_write_one_entry(service: TicketService, clock) -> None:
    ticket = new_ticket(service)
    clock[0] = START + timedelta(minutes=5)
    service.claim(ticket.reference, "sato")
    entry = last_entry(service, ticket.reference)
    assert (entry.actor, entry.action, entry.at) == ("sato", "claimed", clock[0])
    assert entry.changes == {"assignee": {"old": None, "new": "sato"},
                             "status": {"old": "new", "new": "assigned"}}

    service.transition(ticket.reference, "waiting_customer", "sato")
    entry = last_entry(service, ticket.reference)
    assert (entry.action, entry.changes) == (
        "status_changed", {"status": {"old": "assigned", "new": "waiting_customer"}})

    service.update_fields(ticket.reference, {"priority": "urgent", "customer_name": "山田 花子"},
                          "sato")
    entry = last_entry(service, ticket.reference)
    assert (entry.action, entry.changes) == ("updated", {
        "priority": {"old": "normal", "new": "urgent"},
        "customer_name": {"old": "山田 太郎", "new": "山田 花子"},
    })
    assert service.get(ticket.reference).updated_at == clock[0]


def test_notes_and_the_operators_chat_turns_are_audited(service: TicketService) -> None:
    ticket = new_ticket(service)
    note = service.add_note(ticket.reference, "sato", "カード 4111 と言われた")
    assert note.body == "カード **** と言われた"
    entry = last_entry(service, ticket.reference)
    assert (entry.actor, entry.action, entry.changes) == (
        "sato", "note_added", {"note": {"old": None, "new": note.id}})

    service.record_message(ticket.reference, "sato", "担当の佐藤です。4111")
    entry = last_entry(service, ticket.reference)
    assert (entry.actor, entry.action, entry.changes) == (
        "sato", "message_sent", {"message": {"old": None, "new": "担当の佐藤です。****"}})

    service.record_handback(ticket.reference, "sato")
    entry = last_entry(service, ticket.reference)
    assert (entry.actor, entry.action, entry.changes) == (
        "sato", "handed_back", {"conversation": {"old": "operator", "new": "bot"}})
    assert [e.action for e in service.get(ticket.reference).audit] == [
        "created", "note_added", "message_sent", "handed_back"]


def test_retention_purge_is_audited_and_scrubs_old_values(service: TicketService, clock) -> None:
    ticket = new_ticket(service)
    service.update_fields(ticket.reference, {"customer_phone": "03-1111-2222"}, "sato")
    service.transition(ticket.reference, "withdrawn", "sato")
    clock[0] = START + timedelta(days=200)
    assert service.purge_contact(clock[0] - timedelta(days=180), "retention") == 1

    stored = service.get(ticket.reference)
    assert all(getattr(stored, name) is None for name in CONTACT_FIELDS)
    entry = stored.audit[-1]
    assert (entry.actor, entry.action) == ("retention", "contact_purged")
    assert entry.changes["customer_phone"] == {"old": "[purged]", "new": None}
    edit = next(e for e in stored.audit if e.action == "updated")
    assert edit.changes["customer_phone"] == {"old": "[purged]", "new": "[purged]"}


def test_empty_changes_write_nothing_and_refused_ones_only_their_attempt(
    service: TicketService,
) -> None:
    ticket = new_ticket(service)
    service.claim(ticket.reference, "sato")
    before = service.get(ticket.reference)

    service.claim(ticket.reference, "sato")  # one's own ticket again
    service.transition(ticket.reference, "assigned", "sato")  # the current status again
    service.update_fields(ticket.reference, {"priority": "normal"}, "sato")  # the same value
    assert len(service.get(ticket.reference).audit) == len(before.audit)

    with pytest.raises(Conflict):
        service.claim(ticket.reference, "suzuki")
    with pytest.raises(InvalidTransition):
        service.transition(ticket.reference, "new-ish", "sato")
    with pytest.raises(InvalidField):
        service.update_fields(ticket.reference, {"reference": "PRV-X"}, "sato")
    with pytest.raises(InvalidField):
        service.add_note(ticket.reference, "sato", "   ")
    with pytest.raises(InvalidField):
        service.record_handback(ticket.reference, " ")

    after = service.get(ticket.reference)
    assert (after.status, after.assignee, after.updated_at, after.notes) == (
        before.status, before.assignee, before.updated_at, before.notes)
    refused = after.audit[len(before.audit):]
    assert [(e.actor, e.action, e.changes["attempted"]["new"]) for e in refused] == [
        ("suzuki", "attempt_refused", "claim"),
        ("sato", "attempt_refused", "transition (status → new-ish)"),
        ("sato", "attempt_refused", "update_fields (reference)"),
        ("sato", "attempt_refused", "add_note"),
        ("(no name)", "attempt_refused", "record_handback"),
    ]
    assert "held by sato" in refused[0].changes["reason"]["new"]
    assert "unknown status" in refused[1].changes["reason"]["new"]


def test_a_refused_attempt_on_no_ticket_is_not_found_and_writes_nothing(
    service: TicketService,
) -> None:
    with pytest.raises(NotFound):
        service.transition("PRV-20991231-0001", "assigned", "sato")
    assert service.get("PRV-20991231-0001") is None


def test_a_refusals_reason_passes_the_text_filter(service: TicketService) -> None:
    """An error's words may echo what was typed: they are stored as free text is."""
    ticket = new_ticket(service)
    service.claim(ticket.reference, "sato")
    with pytest.raises(InvalidTransition):
        service.transition(ticket.reference, "4111 1111 1111 1111", "sato")
    entry = service.get(ticket.reference).audit[-1]
    assert entry.action == "attempt_refused"
    stored = entry.changes["reason"]["new"] + entry.changes["attempted"]["new"]
    assert "4111 1111 1111 1111" not in stored
    assert stored == TEXT_FILTER(stored)


# --- one home for ticket writes ------------------------------------------------------------

# Names whose construction or update writes a ticket, its notes or its audit log.
TICKET_TABLES = {"Ticket", "AuditEntry", "Note", "TicketCounter"}


def _writes_tickets(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name in TICKET_TABLES:
                found.append(f"{name}(…)")
            if name in ("insert", "update", "delete") and node.args:
                target = node.args[0]
                target_name = target.id if isinstance(target, ast.Name) else getattr(
                    target, "attr", None)
                if target_name in TICKET_TABLES or (
                        isinstance(target, ast.Attribute) and target.attr == "__table__"
                        and getattr(target.value, "id", None) in TICKET_TABLES):
                    found.append(f"{name}({target_name})")
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            lowered = node.value.lower()
            if any(f"{verb} {table}" in lowered for verb in ("insert into", "update")
                   for table in ("tickets", "audit_entries", "ticket_notes")):
                found.append("raw SQL")
    return found


def test_only_the_tickets_package_writes_tickets_and_audit_rows() -> None:
    tickets = ROOT / "src" / "madoguchi" / "tickets"
    offenders = {}
    for path in [*(ROOT / "src").rglob("*.py"), *(ROOT / "actions").rglob("*.py")]:
        if tickets in path.parents or "migrations" in path.parts:
            continue
        found = _writes_tickets(ast.parse(path.read_text(encoding="utf-8")))
        if found:
            offenders[str(path.relative_to(ROOT))] = found
    assert offenders == {}


def test_the_tickets_package_imports_nothing_from_the_requests() -> None:
    for path in (ROOT / "src" / "madoguchi" / "tickets").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("madoguchi.requests"), path.name
