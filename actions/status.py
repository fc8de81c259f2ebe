"""「PRV-20261204-0012 の状況を教えて」: the status check in the chat.

`status_form` asks for the reference number (unless the message gave it) and the phone number
or e-mail address on the ticket; `action_status_answer` hands both to the one StatusCheck
(tickets/status_check.py) that the desk's /status page uses too, and says the state and the next
step, or the same "could not confirm" for an unknown reference and a wrong contact.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions.common import ChatAction, Events, Named, latest, leave_form, window
from actions.store import pending_contact, tickets
from madoguchi.infra.db import make_engine, session_factory
from madoguchi.infra.settings import settings
from madoguchi.tickets.status_check import (
    BAD_CONTACT,
    SEVERAL_REFERENCES,
    StatusCheck,
    contact_key,
    find_references,
    parse_reference,
    status_texts,
)

REFERENCE_SLOT = "status_reference"
CONTACT_SLOT = "status_contact"
# A wish for a person or to stop leaves the form (the rules take over) when NLU is this sure or
# the customer pressed a button.
LEAVING = {"human_handoff", "cancel"}
LEAVING_CONFIDENCE = 0.8


@lru_cache(maxsize=1)
def status_check() -> StatusCheck:
    """The status check with this process's limits (settings) on the tickets' database."""
    current = settings()
    return StatusCheck(
        session_factory(make_engine(current.database_url)),
        tickets(),
        per_client=current.status_checks_per_conversation,
        per_reference=current.status_checks_per_reference,
    )


def _forget() -> Events:
    """The check's reference and contact, typed for this check only: the next one asks again."""
    return [SlotSet(REFERENCE_SLOT, None), SlotSet(CONTACT_SLOT, None)]


def _leaving(tracker: Tracker) -> bool:
    message = latest(tracker)
    return (message.intent or "") in LEAVING and (
        message.confidence >= LEAVING_CONFIDENCE or message.text.startswith("/")
    )


class ValidateStatusForm(Named, FormValidationAction):
    """Takes the reference from any message of the check (the first one included) and the
    contact from the answer to its question; refuses what cannot be either, saying why."""

    action_name = "validate_status_form"

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if _leaving(tracker):
            return []  # nothing taken: the form steps aside and the rules answer
        text = latest(tracker).text
        requested = tracker.get_slot(REQUESTED_SLOT)
        if requested == CONTACT_SLOT:
            return [SlotSet(CONTACT_SLOT, text)]
        if requested == REFERENCE_SLOT:
            return [SlotSet(REFERENCE_SLOT, text)]  # validated below, re-asked if no reference
        found = find_references(text)
        return [SlotSet(REFERENCE_SLOT, found[0])] if len(found) == 1 else []

    def validate_status_reference(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        reference = parse_reference(str(value or ""))
        if reference is None:  # refused for its form: audited, what was typed is not
            outcome = status_check().refuse_reference(str(value or ""),
                                                      client=tracker.sender_id, channel="chat")
            dispatcher.utter_message(
                response="utter_status_one_reference" if outcome == SEVERAL_REFERENCES
                else "utter_status_bad_reference"
            )
        return {REFERENCE_SLOT: reference}

    def validate_status_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        # The channel hands the contact over as a placeholder; its clear value waits server-side.
        clear = pending_contact().reveal_all(tracker.sender_id, str(value or ""))
        if contact_key(str(clear)) is None:
            status_check().refuse(BAD_CONTACT, reference=tracker.get_slot(REFERENCE_SLOT),
                                  client=tracker.sender_id, channel="chat")
            dispatcher.utter_message(text=status_texts().reply("bad_contact", window().contact))
            return {CONTACT_SLOT: None}
        return {CONTACT_SLOT: value}


class ActionStatusAnswer(ChatAction):
    """Compare, answer, forget the contact typed (the next check asks again)."""

    action_name = "action_status_answer"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
        reference = tracker.get_slot(REFERENCE_SLOT)
        contact = tracker.get_slot(CONTACT_SLOT)
        if not reference or not contact:
            dispatcher.utter_message(response="utter_please_rephrase")
            return _forget()
        result = status_check().check(  # the contact typed arrives as a placeholder
            reference, str(pending_contact().reveal_all(tracker.sender_id, contact)),
            client=tracker.sender_id, channel="chat"
        )
        dispatcher.utter_message(
            text=status_texts().answer(result, window().contact),
            status_outcome=result.customer_outcome,
        )
        return _forget()


class ActionStatusStop(ChatAction):
    """The customer no longer wants the check: leave the form, forget what was typed."""

    action_name = "action_status_stop"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
        dispatcher.utter_message(response="utter_status_stopped")
        return [*leave_form(), *_forget()]
