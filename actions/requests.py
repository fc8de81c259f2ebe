"""A request from first words to ticket: name it, confirm it, collect, summarise, create.

Stages (slot request_stage, which the rules branch on):
ambiguous → confirming → collecting (request_form) → summary → [fixing → collecting →] done.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions.common import Latest, buttons, latest, notice, window
from actions.handoff import handoff_events
from actions.notice import answer_events, notice_choice
from actions.store import tickets
from madoguchi.infra.db import DatabaseError
from madoguchi.infra.settings import settings
from madoguchi.notice.answer import compose_answer, match_limit
from madoguchi.notice.model import INTENT_PREFIX
from madoguchi.requests.classify import classify
from madoguchi.requests.fields import (
    NO_MEMBER_NUMBER,
    VALIDATORS,
    Valid,
    response_name,
    validate,
)
from madoguchi.requests.form import answered
from madoguchi.requests.prefill import TicketPrefill, build_prefill, summary_lines
from madoguchi.requests.questions import is_question_about, looks_like_question
from madoguchi.requests.ticketing import draft_from_prefill
from madoguchi.requests.types import form_slots, load_catalogue, slots_for

COMPLAINT = "complaint"
PROCEDURE_CHARS = 700
# Intents that interrupt a form (answered by rules, then the form goes on or ends).
INTERRUPTING = {"human_handoff", "cancel"}
INTERRUPT_CONFIDENCE = settings().interrupt_confidence
# Besides the form's slots that do not carry over (types.yml), what a new request starts without.
REQUEST_STATE = ("ticket_reference", "fix_slot")


def _stage(value: str | None) -> SlotSet:
    return SlotSet("request_stage", value)


def _reset_request() -> list[dict[str, Any]]:
    fresh = [slot.name for slot in form_slots().values() if not slot.carries_over]
    return [SlotSet(name, None) for name in (*fresh, *REQUEST_STATE)]


class ActionStartRequest(Action):
    """Decide which request(s) the customer made; confirm in plain words or ask which."""

    def name(self) -> str:
        return "action_start_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        message = latest(tracker)
        explicit = message.text.startswith("/")  # a button: the customer already chose
        ranking = message.ranking or [(message.intent or "", message.confidence)]
        decision = classify("" if explicit else message.text, ranking)
        types = [t for t in decision.types if t != COMPLAINT or message.intent == COMPLAINT]
        if message.intent == COMPLAINT:
            types = [COMPLAINT]
        catalogue = load_catalogue()

        if decision.ambiguous and not explicit and message.intent != COMPLAINT:
            titles = buttons()["request_candidate"]
            choices = [
                {"title": titles.format(label=catalogue.types[t].label),
                 "payload": f"/{catalogue.types[t].intent}"}
                for t in decision.ambiguous
            ]
            dispatcher.utter_message(response="utter_request_which", buttons=choices)
            return [_stage("ambiguous")]
        if not types:
            dispatcher.utter_message(response="utter_please_rephrase")
            return [_stage(None)]
        if not explicit and types != [COMPLAINT] and (
            is_question_about(message.text) or looks_like_question(message.text)
        ):
            answered = self._answer_question(dispatcher, message, types)
            if answered is not None:
                return answered

        events = [*_reset_request(), SlotSet("request_types", types),
                  SlotSet("request_type", types[0])]
        if types == [COMPLAINT]:
            dispatcher.utter_message(response="utter_complaint_ack")
            return [*events, _stage("collecting")]

        plain = "、および".join(catalogue.types[t].plain for t in types)
        dispatcher.utter_message(response="utter_request_confirm", plain_types=plain)
        for section_id in dict.fromkeys(
            "4.2" if catalogue.types[t].needs_form_by_post else "5" for t in types
        ):
            # The whole procedure, fee and agents included: §4 (2) is told, not trimmed.
            procedure = compose_answer(notice(), section_id, max_chars=PROCEDURE_CHARS).text
            dispatcher.utter_message(response="utter_request_procedure", procedure=procedure)
        dispatcher.utter_message(response="utter_request_proceed")
        return [*events, _stage("confirming")]


    @staticmethod
    def _answer_question(
        dispatcher: CollectingDispatcher, message: Latest, types: list[str]
    ) -> list[dict[str, Any]] | None:
        """A question about a request: the notice's answer, then the offer to start it."""
        text = message.text
        limit = match_limit(text, notice().limits)
        if limit is None and not notice_choice().seems_about_the_notice(message):
            return None
        # A limit names its own section; compose_answer turns to it.
        section_id = notice_choice().best_section(message) if limit is None else limit.section
        events = answer_events(dispatcher, section_id, text)
        catalogue = load_catalogue()
        offers = [
            {"title": buttons()["request_candidate"].format(label=catalogue.types[t].label),
             "payload": f"/{catalogue.types[t].intent}"}
            for t in types
        ]
        dispatcher.utter_message(response="utter_request_offer", buttons=offers)
        return [*events, _stage(None)]


def _stored(slot: str, value: Any) -> Any:
    # Rasa reads a slot set to None as "not filled yet": an answered "no member number" is kept
    # as its own word and read back as None by the prefill.
    if slot == "member_number" and value is None:
        return NO_MEMBER_NUMBER
    return value


class ValidateRequestForm(FormValidationAction):
    """The request form through rasa_sdk's own dispatch: `required_slots` says what the request
    types need, `get_extraction_events` takes the words a message gives (requests/form.py), and
    `validate_<slot>` checks them with that slot's validator (one per form slot, fields.py)."""

    def name(self) -> str:
        return "validate_request_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        types = tracker.get_slot("request_types") or []
        return slots_for(types, tracker.slots) if types else []

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        required = await self.required_slots(
            self.domain_slots(domain), dispatcher, tracker, domain
        )
        message = latest(tracker)
        # A notice question, a wish for a person or to stop: sure enough, or asked as a question.
        intent, confidence = message.best_guess
        interrupting = (intent.startswith(INTENT_PREFIX) or intent in INTERRUPTING) and (
            confidence >= INTERRUPT_CONFIDENCE
            or message.text.startswith("/")
            or looks_like_question(message.text)
        )
        words = answered(
            message.text, tracker.get_slot(REQUESTED_SLOT), required, interrupting=interrupting
        )
        return [SlotSet(slot, text) for slot, text in words.items()]

    def __getattr__(self, name: str) -> Any:
        """`validate_<slot>` for every slot with a validator, as rasa_sdk looks them up."""
        slot = name.removeprefix("validate_")
        if slot != name and slot in VALIDATORS:
            return partial(self._validate_slot, slot)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @staticmethod
    def _validate_slot(
        slot: str,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if tracker.get_slot(REQUESTED_SLOT) not in form_slots():
            return {slot: value}  # activation: Rasa hands over what was filled before, as stored
        result = validate(slot, value)
        if isinstance(result, Valid):
            return {slot: _stored(slot, result.value)}
        dispatcher.utter_message(response=response_name(slot, result.reason))
        return {slot: None}


def _prefill(dispatcher: CollectingDispatcher, tracker: Tracker) -> TicketPrefill | None:
    """What the conversation collected; None (and a re-ask) when no request was taken."""
    try:
        return build_prefill(tracker.sender_id, tracker.events, tracker.slots)
    except ValueError:
        dispatcher.utter_message(response="utter_please_rephrase")
        return None


class ActionConfirmRequest(Action):
    """Show what will be sent, for the customer to confirm, correct or cancel."""

    def name(self) -> str:
        return "action_confirm_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        prefill = _prefill(dispatcher, tracker)
        if prefill is None:
            return [_stage(None)]
        summary = "\n".join(summary_lines(prefill))
        dispatcher.utter_message(response="utter_request_summary", summary=summary)
        return [_stage("summary")]


class ActionFixRequest(Action):
    """At the summary: offer the fields to correct; once one is chosen, ask it again."""

    def name(self) -> str:
        return "action_fix_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        types = tracker.get_slot("request_types") or []
        fields = slots_for(types, tracker.slots) if types else []
        chosen = tracker.get_slot("fix_slot")
        if tracker.get_slot("request_stage") == "fixing":
            events = [SlotSet("fix_slot", None), _stage("collecting")]
            if chosen in fields:
                events.insert(0, SlotSet(chosen, None))
            return events
        labels = load_catalogue().summary_labels
        choices = [
            {"title": labels.get(slot, slot),
             "payload": f'/deny{{"fix_slot": "{slot}"}}'}
            for slot in fields if tracker.get_slot(slot) is not None
        ]
        dispatcher.utter_message(response="utter_request_which_field", buttons=choices)
        return [SlotSet("fix_slot", None), _stage("fixing")]


class ActionCreateTicket(Action):
    """Create the ticket once per confirmation, give the reference, hand complaints over."""

    def name(self) -> str:
        return "action_create_ticket"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        prefill = _prefill(dispatcher, tracker)
        if prefill is None:
            return [_stage(None)]
        confirmation = next(
            (e for e in reversed(tracker.events) if e.get("event") == "user"), {}
        )
        # The same confirmation retried (a repeated action call) must give the same ticket.
        key = f"{tracker.sender_id}:{confirmation.get('timestamp')}"
        try:
            ticket = tickets().create(draft_from_prefill(prefill), idempotency_key=key)
        except DatabaseError:
            dispatcher.utter_message(response="utter_ticket_failed", **window().contact)
            return []  # still at the summary: "はい" again retries, nothing is lost
        dispatcher.utter_message(
            response="utter_ticket_created",
            reference=ticket.reference,
            next_steps=prefill.next_steps,
        )
        events: list[dict[str, Any]] = [
            SlotSet("ticket_reference", ticket.reference), _stage("done"),
        ]
        if COMPLAINT in prefill.request_types:
            return [*events, *handoff_events(dispatcher, ticket.reference)]
        dispatcher.utter_message(response="utter_offer_person")
        return events


class ActionCancelRequest(Action):
    def name(self) -> str:
        return "action_cancel_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        stage = tracker.get_slot("request_stage")
        if stage in (None, "done") and not tracker.active_loop.get("name"):
            dispatcher.utter_message(response="utter_nothing_to_cancel")
            return [_stage(None)]
        dispatcher.utter_message(response="utter_cancelled")
        return [
            ActiveLoop(None), SlotSet("requested_slot", None), *_reset_request(),
            SlotSet("request_types", None), SlotSet("request_type", None), _stage(None),
        ]
