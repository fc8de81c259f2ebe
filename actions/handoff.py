"""Handing the conversation to a person: a ticket, honest hours, and the bot falls silent."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.common import ChatAction, Events, buttons, leave_form, window
from actions.store import create_ticket, tickets, webhook_outbox
from madoguchi.assist.summary import summarize
from madoguchi.conversation.events import from_tracker, user_turns
from madoguchi.infra.clock import now
from madoguchi.infra.db import DatabaseError
from madoguchi.infra.webhook import handoff_payload
from madoguchi.requests.prefill import build_prefill
from madoguchi.requests.ticketing import draft_from_prefill, handoff_draft
from madoguchi.tickets import Ticket
from madoguchi.tickets.workflow import OPEN_STATUSES

logger = logging.getLogger(__name__)


def _opening(moment: datetime) -> str:
    texts = buttons()
    return texts["opening_format"].format(
        month=moment.month, day=moment.day, hour=moment.hour,
        weekday=texts["weekdays"][moment.weekday()],
    )


def _summary(ticket: dict[str, Any]) -> dict[str, Any] | None:
    """The operator's first read (who, what, cues; no contact data), computed here; a summary
    that fails leaves the announcement without one rather than unsent."""
    try:
        return summarize((ticket.get("customer_words") or "").splitlines(), ticket).as_dict()
    except Exception:
        logger.warning("handoff %s announced without its summary", ticket.get("reference"),
                       exc_info=True)
        return None


def announce_handoff(session: Session, ticket: Ticket) -> None:
    """The `also` of a handed-over ticket's creation: its webhook announcement, stored in the
    ticket's transaction (both or neither)."""
    outbox = webhook_outbox()
    if outbox is not None:
        data = ticket.to_dict()
        outbox.add(session, "handoff", handoff_payload(data, summary=_summary(data)))


def _announce(reference: str) -> None:
    """A handoff to a ticket that already exists: its own announcement."""
    outbox = webhook_outbox()
    if outbox is None:
        return
    try:
        ticket = tickets().get(reference)
        if ticket is not None:
            data = ticket.to_dict()
            outbox.enqueue("handoff", handoff_payload(data, summary=_summary(data)))
    except Exception:  # SQLAlchemy's errors too: the database may be restarting
        # The ticket exists and the desk shows it; only the announcement is missed.
        logger.warning("handoff %s not announced: the database did not answer", reference,
                       exc_info=True)


def handoff_events(
    dispatcher: CollectingDispatcher, reference: str, *, announced: bool = False
) -> list[dict[str, Any]]:
    """Tell the customer who picks up and when, then pause the bot for the operator.

    `announced`: the ticket was created with its announcement (`announce_handoff`)."""
    if not announced:
        _announce(reference)
    elif (outbox := webhook_outbox()) is not None:
        outbox.wake()
    hours = window().hours
    moment = now()
    contact = window().contact
    if hours.is_open(moment):
        dispatcher.utter_message(response="utter_handoff_now", reference=reference)
    else:
        dispatcher.utter_message(
            response="utter_handoff_later",
            reference=reference,
            opening=_opening(hours.next_opening(moment)),
            **contact,
        )
    return [ConversationPaused()]


def _open_ticket(conversation_id: str) -> str | None:
    try:
        found = tickets().find_by_conversation(conversation_id)
    except DatabaseError:
        return None  # the create below reports the database
    return next((t.reference for t in found if t.status in OPEN_STATUSES), None)


def _new_ticket(dispatcher: CollectingDispatcher, tracker: Tracker) -> str | None:
    """The handed-over ticket (the current request's, or a plain handoff one), created with
    its announcement; None when the database did not answer (the customer was told)."""
    # One ticket per request for a person, however often Rasa retries the action.
    said = user_turns(from_tracker(tracker.events))
    asked_at = said[-1].raw.get("timestamp") if said else None
    key = f"{tracker.sender_id}:handoff:{asked_at}"
    try:
        draft = draft_from_prefill(build_prefill(tracker.sender_id, tracker.events, tracker.slots))
    except ValueError:  # no request yet: a plain handoff ticket
        draft = handoff_draft(tracker.sender_id, tracker.events)
    ticket = create_ticket(dispatcher, draft, key=key, also=announce_handoff)
    return ticket.reference if ticket is not None else None


class ActionHandoff(ChatAction):
    """On request at any point: the ticket (the current request's, or a new one), then pause."""

    action_name = "action_handoff"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
        reference = tracker.get_slot("ticket_reference")
        events = leave_form() if tracker.active_loop.get("name") else []
        if not reference:
            # At most one open ticket per conversation: a later wish for a person (a new
            # session, say) joins the ticket an operator already has.
            reference = _open_ticket(tracker.sender_id)
        announced = False
        if not reference:
            reference = _new_ticket(dispatcher, tracker)
            if reference is None:
                return events
            announced = True
            events.append(SlotSet("ticket_reference", reference))
        return [*events, SlotSet("request_stage", "done"),
                *handoff_events(dispatcher, reference, announced=announced)]
