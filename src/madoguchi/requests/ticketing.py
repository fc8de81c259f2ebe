"""From what the conversation collected to a ticket draft the ticket store can take."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from madoguchi.conversation import events as ev
from madoguchi.requests.prefill import (
    NOTICE_SECTION_SLOT,
    TicketPrefill,
    mask_words,
    summary_lines,
)
from madoguchi.tickets import TicketDraft

# How many of the customer's latest messages a plain handoff ticket quotes.
HANDOFF_WORDS = 3


def request_key(conversation_id: str, prefill: TicketPrefill) -> str:
    """The idempotency key of a confirmed request: the conversation, the request types and a
    hash of the summary the customer confirmed.

    Not the confirmation's timestamp: a resend of 「はい」 after a lost answer, or `/back`
    then 「はい」, is a new message confirming the same request, and must find the first
    ticket. A corrected field changes the summary, so it is a new request (and a new key).
    """
    confirmed = "\n".join([*prefill.request_types, "", *summary_lines(prefill)])
    digest = hashlib.sha256(confirmed.encode("utf-8")).hexdigest()[:32]
    return f"{conversation_id}:request:{digest}"


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


def handoff_draft(conversation_id: str, events: Sequence[Mapping[str, Any]]) -> TicketDraft:
    """A ticket for a customer who asks for a person before any request was taken: the
    latest words they typed, and how NLU read the first."""
    read = ev.from_tracker(events)
    said = [turn for turn in ev.user_turns(read) if turn.typed]
    words = [mask_words(turn.text) for turn in said[-HANDOFF_WORDS:]]
    first = said[0].reading if said else ev.Reading(None, None)
    return TicketDraft(
        request_types=[],
        customer_words="\n".join(w for w in words if w) or None,
        nlu_intent=first.intent,
        nlu_confidence=first.confidence,
        notice_sections=list(dict.fromkeys(ev.slot_values(read, NOTICE_SECTION_SLOT))),
        conversation_id=conversation_id,
    )
