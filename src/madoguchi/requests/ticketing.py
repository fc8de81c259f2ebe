"""From what the conversation collected to a ticket draft the ticket store can take."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from madoguchi.requests.prefill import TicketPrefill, mask_words
from madoguchi.tickets.repository import TicketDraft

# How many of the customer's latest messages a plain handoff ticket quotes.
HANDOFF_WORDS = 3


def draft_from_prefill(prefill: TicketPrefill) -> TicketDraft:
    return TicketDraft(
        request_types=list(prefill.request_types),
        customer_name=prefill.customer_name,
        customer_phone=prefill.phone,
        customer_email=prefill.email,
        customer_postal_address=prefill.postal_address,
        customer_member_number=prefill.member_number,
        preferred_contact="phone" if prefill.phone else ("email" if prefill.email else None),
        preferred_time=prefill.preferred_time,
        details=dict(prefill.details),
        is_agent=bool(prefill.is_agent),
        customer_words="\n".join(prefill.customer_words) or None,
        nlu_intent=prefill.nlu_intent,
        nlu_confidence=prefill.nlu_confidence,
        notice_sections=list(prefill.notice_sections),
        next_steps=prefill.next_steps,
        conversation_id=prefill.conversation_id,
        priority=prefill.priority,
    )


def handoff_draft(
    conversation_id: str, events: Sequence[Mapping[str, Any]], notice_sections: Sequence[str]
) -> TicketDraft:
    """A ticket for a customer who asks for a person before any request was taken."""
    said = [
        e for e in events
        if e.get("event") == "user" and not str(e.get("text") or "").startswith("/")
    ]
    words = [mask_words(str(e.get("text") or "")) for e in said[-HANDOFF_WORDS:]]
    first = said[0] if said else {}
    intent = ((first.get("parse_data") or {}).get("intent") or {}) if first else {}
    return TicketDraft(
        request_types=[],
        customer_words="\n".join(w for w in words if w) or None,
        nlu_intent=intent.get("name"),
        nlu_confidence=intent.get("confidence"),
        notice_sections=list(dict.fromkeys(notice_sections)),
        conversation_id=conversation_id,
    )
