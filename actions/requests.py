"""A request from first words to ticket: name it, confirm it, collect, summarise, create.

Stages (slot request_stage, which the rules branch on):
ambiguous → confirming → collecting (request_form) → summary → [fixing → collecting →] done.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from functools import partial
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions import lifecycle as life
from actions.common import ChatAction, Events, Latest, Named, buttons, latest, leave_form, notice
from actions.handoff import announce_handoff, handoff_events
from actions.notice import answer_events, notice_choice, request_offer_buttons, split
from actions.store import create_ticket, pending_contact
from madoguchi.infra.settings import settings
from madoguchi.notice.answer import match_limit
from madoguchi.notice.model import INTENT_PREFIX
from madoguchi.privacy.pending_contact import conceal_value
from madoguchi.requests.classify import classify
from madoguchi.requests.fields import (
    NO_MEMBER_NUMBER,
    VALIDATORS,
    Valid,
    parse_yes_no,
    response_name,
    validate,
)
from madoguchi.requests.form import answered, new_wish
from madoguchi.requests.life import coverage_note
from madoguchi.requests.prefill import TicketPrefill, build_prefill, summary_lines
from madoguchi.requests.questions import is_question_about, is_wish, looks_like_question
from madoguchi.requests.ticketing import draft_from_prefill, request_key
from madoguchi.requests.types import form_slots, load_catalogue, slots_for

COMPLAINT = "complaint"
# Intents that interrupt a form (answered by rules, then the form goes on or ends).
INTERRUPTING = {"human_handoff", "cancel", "ask_delivery_method"}
INTERRUPT_CONFIDENCE = settings().interrupt_confidence
# Besides the form's slots that do not carry over (types.yml), what a new request starts without.
REQUEST_STATE = ("ticket_reference", "fix_slot", "offered_request", "agent_kind")
# Slots the form's extraction sets that are not form slots: a new wish offered mid-form and,
# once the customer adds it, the request types (rasa_sdk validates only the form's own slots).
OFFER_SLOT = "offered_request"
CARRIED_SLOTS = (OFFER_SLOT, "request_types")


def _stage(value: str | None) -> SlotSet:
    return SlotSet("request_stage", value)


def _reset_request() -> list[dict[str, Any]]:
    fresh = [slot.name for slot in form_slots().values() if not slot.carries_over]
    return [SlotSet(name, None) for name in (*fresh, *REQUEST_STATE)]


class ActionStartRequest(ChatAction):
    """Decide which request(s) the customer made; confirm in plain words or ask which."""

    action_name = "action_start_request"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
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
        # Close to a notice question about this request, and not worded as a wish: the notice
        # answers and the request is offered (「開示請求はできますか」).
        beside = None
        if not explicit and types != [COMPLAINT] and not is_wish(message.text):
            beside = split().section_beside(message.intent or "", message.ranking, notice())
        if not explicit and types != [COMPLAINT] and (
            is_question_about(message.text) or looks_like_question(message.text) or beside
        ):
            answered = self._answer_question(dispatcher, message, types, beside)
            if answered is not None:
                return answered

        events = [*_reset_request(), SlotSet("request_types", types),
                  SlotSet("request_type", types[0])]
        if types == [COMPLAINT]:
            dispatcher.utter_message(response="utter_complaint_ack")
            return [*events, _stage("collecting")]

        events += life.request_particulars(message.text, types)
        plain = "、および".join(
            life.plain_of(t, catalogue.types[t].plain, events) for t in types
        )
        dispatcher.utter_message(response="utter_request_confirm", plain_types=plain)
        _tell_coverage(dispatcher, message.text, types)
        for section_id in dict.fromkeys(
            "4.2" if catalogue.types[t].needs_form_by_post else "5" for t in types
        ):
            # §4 (2) once per conversation, short, the full passage behind a button.
            events += life.tell_procedure(dispatcher, tracker, section_id)
        dispatcher.utter_message(response="utter_request_proceed")
        return [*events, _stage("confirming")]


    @staticmethod
    def _answer_question(
        dispatcher: CollectingDispatcher,
        message: Latest,
        types: list[str],
        beside: str | None = None,
    ) -> list[dict[str, Any]] | None:
        """A question about a request: the notice's answer, then the offer to start it.

        `beside`: the neighbouring section the NLU found close to the request (Split).
        """
        text = message.text
        limit = match_limit(text, notice().limits)
        if limit is None and beside is None and not notice_choice().seems_about_the_notice(
            message
        ):
            return None
        # A limit names its own section; compose_answer turns to it.
        if limit is not None:
            section_id = limit.section
        else:
            section_id = beside or notice_choice().best_section(message)
        events = answer_events(dispatcher, section_id, text)  # says the coverage if asked
        dispatcher.utter_message(
            response="utter_request_offer", buttons=request_offer_buttons(types)
        )
        return [*events, _stage(None)]


def _tell_coverage(dispatcher: CollectingDispatcher, text: str, types: list[str]) -> None:
    """A disclosure asked of data that is about to be deleted: it is covered all the same
    (lifecycle.yml disclosure_coverage; since 2022 even data deleted within six months)."""
    note = coverage_note(text) if life.DISCLOSURE in types else None
    if note is not None:
        dispatcher.utter_message(text=note)


def _reply_to_offer(message: Latest) -> bool | None:
    """The customer's answer to 「追加しますか」: a button, or words that say yes or no."""
    if message.text.startswith("/"):
        return {"affirm": True, "deny": False}.get(message.intent or "")
    return parse_yes_no(message.text)


def _settle_offer(
    dispatcher: CollectingDispatcher, offered: str, add: bool, taken: list[str]
) -> list[dict[str, Any]]:
    """Add the offered request to the one being taken (one ticket for both), or go on without."""
    if not add:
        dispatcher.utter_message(response="utter_request_add_declined")
        return [SlotSet(OFFER_SLOT, None)]
    types = [*taken, offered] if offered not in taken else list(taken)
    plain = load_catalogue().types[offered].plain
    dispatcher.utter_message(response="utter_request_added", plain_types=plain)
    return [SlotSet("request_types", types), SlotSet(OFFER_SLOT, None)]


def _stored(slot: str, value: Any) -> Any:
    # Rasa reads a slot set to None as "not filled yet": an answered "no member number" is kept
    # as its own word and read back as None by the prefill.
    if slot == "member_number" and value is None:
        return NO_MEMBER_NUMBER
    return value


class ValidateRequestForm(Named, FormValidationAction):
    """The request form through rasa_sdk's own dispatch: `required_slots` says what the request
    types need, `get_extraction_events` takes the words a message gives (requests/form.py), and
    `validate_<slot>` checks them with that slot's validator (one per form slot, fields.py)."""

    action_name = "validate_request_form"

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
        requested = tracker.get_slot(REQUESTED_SLOT)
        taken = tracker.get_slot("request_types") or []
        lapsed: list[dict[str, Any]] = []
        offered = tracker.get_slot(OFFER_SLOT)
        if offered and requested in form_slots():
            reply = _reply_to_offer(message)
            if reply is not None:
                return _settle_offer(dispatcher, offered, reply, taken)
            lapsed = [SlotSet(OFFER_SLOT, None)]  # the customer went on: the offer lapses
        # A notice question, a wish for a person or to stop: sure enough, or asked as a question.
        intent, confidence = message.best_guess
        interrupting = (intent.startswith(INTENT_PREFIX) or intent in INTERRUPTING) and (
            confidence >= INTERRUPT_CONFIDENCE
            or message.text.startswith("/")
            or looks_like_question(message.text)
        )
        wish = None
        if not interrupting and requested in form_slots():
            wish = new_wish(
                message.text, message.ranking, taken, requested, sure=INTERRUPT_CONFIDENCE
            )
        words = answered(  # in clear: the finder looks for volunteered contact data
            pending_contact().reveal(tracker.sender_id, message.text), requested, required,
            interrupting=interrupting or wish is not None,
        )
        events = [SlotSet(slot, text) for slot, text in words.items()]
        if events:
            # Alone, the lapse would keep the form from stepping aside for a notice question.
            events = [*lapsed, *events]
        if wish is not None:
            # Offered, then the form asks its question again (the offer's slot keeps it going).
            catalogue = load_catalogue()
            dispatcher.utter_message(
                response="utter_request_add_offer",
                plain_types=catalogue.types[wish].plain,
                buttons=[
                    {"title": buttons()["request_add"], "payload": "/affirm"},
                    {"title": buttons()["request_add_decline"], "payload": "/deny"},
                ],
            )
            events.append(SlotSet(OFFER_SLOT, wish))
        return events

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """The form slots' validation, and the non-form slots the extraction set (CARRIED_SLOTS),
        which rasa_sdk would otherwise drop."""
        events = await super().get_validation_events(dispatcher, tracker, domain)
        validated = {event["name"] for event in events}
        recent = tracker.slots_to_validate()
        return [
            *events,
            *(SlotSet(name, recent[name]) for name in CARRIED_SLOTS
              if name in recent and name not in validated),
        ]

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
        # Contact data arrives as placeholders (the channel): validated in clear, kept as one.
        result = validate(slot, pending_contact().reveal_all(tracker.sender_id, value))
        if isinstance(result, Valid):
            return {slot: _stored(slot, conceal_value(
                pending_contact(), tracker.sender_id, slot, result.value))}
        dispatcher.utter_message(response=response_name(slot, result.reason))
        return {slot: None}


class PrefilledAction(ChatAction, ABC):
    """An action on the request the conversation collected: without one, a re-ask and no
    stage, before the action itself runs."""

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
        try:
            prefill = build_prefill(tracker.sender_id, tracker.events, tracker.slots)
        except ValueError:
            dispatcher.utter_message(response="utter_please_rephrase")
            return [_stage(None)]
        return self.act_on(dispatcher, tracker, prefill)

    @abstractmethod
    def act_on(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, prefill: TicketPrefill
    ) -> Events:
        """What the action does with the request's prefill."""


class ActionConfirmRequest(PrefilledAction):
    """Show what will be sent, for the customer to confirm, correct or cancel."""

    action_name = "action_confirm_request"

    def act_on(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, prefill: TicketPrefill
    ) -> Events:
        if life.ask_agent_kind(dispatcher, tracker):
            return [_stage("agent")]
        lines = [*summary_lines(prefill), *life.summary_lines(tracker, prefill.request_types)]
        dispatcher.utter_message(response="utter_request_summary", summary="\n".join(lines))
        return [_stage("summary")]


class ActionConfirmAgent(ActionConfirmRequest):
    """The summary once an agent chose their relation (a name of its own: its rule says the
    stage it sets, which the form's summary rule does not)."""

    action_name = "action_confirm_agent"


class ActionFixRequest(ChatAction):
    """At the summary: offer the fields to correct; once one is chosen, ask it again."""

    action_name = "action_fix_request"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
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


class ActionCreateTicket(PrefilledAction):
    """Create the ticket once per confirmation, give the reference, hand complaints over."""

    action_name = "action_create_ticket"

    def act_on(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, prefill: TicketPrefill
    ) -> Events:
        # One ticket per confirmed request: a retried call, a resend after a lost answer and
        # "/back" then 「はい」 all find the first (requests/ticketing.py request_key).
        key = request_key(tracker.sender_id, prefill)
        # A complaint is handed over: its announcement is stored with the ticket.
        also = announce_handoff if COMPLAINT in prefill.request_types else None
        draft = life.with_particulars(draft_from_prefill(prefill), tracker)
        ticket = create_ticket(dispatcher, draft, key=key, also=also)
        if ticket is None:
            return []  # still at the summary: "はい" again retries, nothing is lost
        dispatcher.utter_message(
            response="utter_ticket_created",
            reference=ticket.reference,
            next_steps=prefill.next_steps,
        )
        events: Events = [SlotSet("ticket_reference", ticket.reference), _stage("done")]
        if COMPLAINT in prefill.request_types:
            return [*events, *handoff_events(dispatcher, ticket.reference, announced=True)]
        dispatcher.utter_message(response="utter_offer_person")
        return events


class ActionCancelRequest(ChatAction):
    """Drop the request under way (form, stage and what it collected), or say there is none."""

    action_name = "action_cancel_request"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
        stage = tracker.get_slot("request_stage")
        if stage in (None, "done") and not tracker.active_loop.get("name"):
            dispatcher.utter_message(response="utter_nothing_to_cancel")
            return [_stage(None)]
        dispatcher.utter_message(response="utter_cancelled")
        return [
            *leave_form(), *_reset_request(),
            SlotSet("request_types", None), SlotSet("request_type", None), _stage(None),
        ]
