"""Masking a ticket's free text with what its own contact fields say (retention's purge).

The finder knows phone numbers and e-mail addresses wherever they are, but not a name or an
address: those are known from the ticket's contact fields, and replaced wherever the ticket's
words, details, notes, audit log, identity check and decision letters repeat them.
"""

from __future__ import annotations

from typing import Any

from madoguchi.review.masking import ConversationMasker

# Ticket contact field -> the form slot whose label it takes.
_FIELD_SLOTS = {
    "customer_name": "customer_name",
    "customer_phone": "phone",
    "customer_email": "email",
    "customer_postal_address": "postal_address",
    "customer_member_number": "member_number",
}


def ticket_masker(ticket: Any, masker: ConversationMasker | None = None) -> ConversationMasker:
    masker = masker or ConversationMasker()
    for field, slot in _FIELD_SLOTS.items():
        masker.learn(slot, getattr(ticket, field, None))
    return masker


def scrub_ticket(ticket: Any) -> None:
    """Every free-text field of `ticket` and its rows, masked by label (in place)."""
    masker = ticket_masker(ticket)
    if ticket.customer_words:
        ticket.customer_words = masker.text(ticket.customer_words)
    ticket.details = masker.value(ticket.details or {})
    if getattr(ticket, "agent_relation", None):
        ticket.agent_relation = masker.text(ticket.agent_relation)
    for note in ticket.notes:
        note.body = masker.text(note.body)
    for entry in ticket.audit:
        entry.changes = masker.value(entry.changes or {})
    identity = getattr(ticket, "identity", None)
    if identity is not None:
        identity.received = masker.text(identity.received)
    for decision in getattr(ticket, "decisions", []) or []:
        for name in ("explanation", "letter", "return_reason"):
            value = getattr(decision, name)
            if value:
                setattr(decision, name, masker.text(value))
