"""Handing the conversation to a person: a ticket, honest hours, and the bot falls silent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import buttons, window
from actions.store import tickets
from madoguchi.clock import now
from madoguchi.db import DatabaseError
from madoguchi.requests.prefill import build_prefill
from madoguchi.requests.ticketing import draft_from_prefill, handoff_draft
from madoguchi.webhook import Webhook, handoff_payload


def _opening(moment: datetime) -> str:
    texts = buttons()
    return texts["opening_format"].format(
        month=moment.month, day=moment.day, hour=moment.hour,
        weekday=texts["weekdays"][moment.weekday()],
    )


def _announce(reference: str) -> None:
    webhook = Webhook.from_env()
    if webhook is None:
        return
    try:
        ticket = tickets().get(reference)
    except DatabaseError:
        return  # the ticket exists; only the announcement is skipped, never the handoff
    if ticket is not None:
        webhook.deliver_in_background("handoff", handoff_payload(ticket.to_dict()))


def handoff_events(dispatcher: CollectingDispatcher, reference: str) -> list[dict[str, Any]]:
    """Tell the customer who picks up and when, then pause the bot for the operator."""
    _announce(reference)
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


class ActionHandoff(Action):
    """On request at any point: the ticket (the current request's, or a new one), then pause."""

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        reference = tracker.get_slot("ticket_reference")
        events: list[dict[str, Any]] = []
        if tracker.active_loop.get("name"):
            events += [ActiveLoop(None), SlotSet("requested_slot", None)]
        if not reference:
            asked = next((e for e in reversed(tracker.events) if e.get("event") == "user"), {})
            key = f"{tracker.sender_id}:handoff:{asked.get('timestamp')}"
            try:
                draft = draft_from_prefill(
                    build_prefill(tracker.sender_id, tracker.events, tracker.slots)
                )
            except ValueError:  # no request yet: a plain handoff ticket
                sections = [
                    e.get("value") for e in tracker.events
                    if e.get("event") == "slot" and e.get("name") == "notice_section"
                    and e.get("value")
                ]
                draft = handoff_draft(tracker.sender_id, tracker.events, sections)
            try:
                reference = tickets().create(draft, idempotency_key=key).reference
            except DatabaseError:
                dispatcher.utter_message(response="utter_ticket_failed", **window().contact)
                return events
            events.append(SlotSet("ticket_reference", reference))
        return [*events, SlotSet("request_stage", "done"),
                *handoff_events(dispatcher, reference)]
