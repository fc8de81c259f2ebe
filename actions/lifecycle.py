"""A request's legal particulars in the chat (issue 16): §4 (2) once and short, which
disclosure and how it is delivered, an agent's relation and documents, the fee of ① and ②
before the customer confirms, and all of it (with the notice version) on the ticket.

The words are data (requests/life.py); actions/requests.py calls these at its steps.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import ChatAction, Events, latest, notice
from actions.notice import notice_version
from madoguchi.conversation.events import BotTurn, from_tracker
from madoguchi.requests import life
from madoguchi.requests.types import load_catalogue
from madoguchi.tickets import TicketDraft
from madoguchi.tickets.lifecycle import load_rules

DISCLOSURE = "disclosure"
# Bot metadata: which procedure (§4 (2) or §5) a message told, so it is told once.
PROCEDURE_KEY = "procedure_section"
# Where a request is under way: the delivery answer does not offer to start another one.
UNDER_WAY = {"ambiguous", "confirming", "collecting", "agent", "summary", "fixing"}


def request_particulars(text: str, types: list[str]) -> list[dict[str, Any]]:
    """For a disclosure: the kind the words ask for (records of provision to third parties, or
    the held data) and a delivery method they name, as slots for the summary and the ticket."""
    if DISCLOSURE not in types:
        return [SlotSet("disclosure_kind", None)]
    events = [SlotSet("disclosure_kind", life.disclosure_kind(text) or "held_data")]
    method = life.delivery_wish(text)
    if method is not None:
        events.append(SlotSet("delivery_method", method))
    return events


def plain_of(type_id: str, plain: str, events: list[dict[str, Any]]) -> str:
    """The request in plain words: a disclosure of provision records says so."""
    kind = next((e["value"] for e in events if e.get("name") == "disclosure_kind"), None)
    return (life.disclosure_plain(kind) or plain) if type_id == DISCLOSURE else plain


def _told(tracker: Tracker, section_id: str) -> bool:
    return any(
        isinstance(e, BotTurn) and e.metadata.get(PROCEDURE_KEY) == section_id
        for e in from_tracker(tracker.events)
    )


def tell_procedure(
    dispatcher: CollectingDispatcher, tracker: Tracker, section_id: str
) -> list[dict[str, Any]]:
    """§4 (2) (or §5) in short with its citation and a button to the full passage; once said
    in this conversation, only a line that refers back to it."""
    procedure = life.procedure(section_id)
    section = notice().get(section_id)
    if _told(tracker, section_id):
        dispatcher.utter_message(text=procedure.again)
        return []
    version = notice_version()
    text = notice().template("reply").format(body=procedure.short, citation=section.citation)
    dispatcher.utter_message(
        response="utter_request_procedure", procedure=text,
        buttons=[{"title": procedure.button, "payload": f"/{section.intent}"}],
        notice_version=version, **{PROCEDURE_KEY: section_id},
    )
    return [SlotSet("notice_version", version)]


def ask_agent_kind(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """An agent who has not said their relation is asked it (buttons) before the summary."""
    if tracker.get_slot("is_agent") is not True or tracker.get_slot("agent_kind"):
        return False
    dispatcher.utter_message(response="utter_agent_kind_which", buttons=life.agent_buttons())
    return True


def summary_lines(tracker: Tracker, request_types: list[str]) -> list[str]:
    """What the summary adds: the agent's relation and documents, the delivery method of a
    disclosure, and the fee of ① and ② (Art. 38), all before the customer confirms."""
    rules = load_rules()
    lines: list[str] = []
    kind = tracker.get_slot("agent_kind")
    if tracker.get_slot("is_agent") is True and kind in rules.agent_kinds:
        lines.append(f"{life.label('summary_label')}：{rules.agent_kinds[kind].label}")
        lines.append(life.agent_documents(kind, rules))
    method = tracker.get_slot("delivery_method")
    if DISCLOSURE in request_types and method in rules.delivery_methods:
        lines.append(f"{life.label('delivery_label')}：{rules.delivery_methods[method].label}")
    labels = {t.id: t.label for t in load_catalogue().types.values()}
    fees = life.fee_lines(request_types, labels, rules)
    if fees:
        lines.append(f"{life.label('fee_label')}：" + "".join(fees))
    return lines


def with_particulars(draft: TicketDraft, tracker: Tracker) -> TicketDraft:
    """The ticket's draft with what the chat learnt of the law's steps and the notice version
    the customer saw (the one in force when the ticket is made, if no answer quoted one)."""
    rules = load_rules()
    types = draft.request_types
    kind = tracker.get_slot("agent_kind") if draft.is_agent else None
    fee_told = rules.fee_allowed(types)
    disclosure = DISCLOSURE in types
    return dataclasses.replace(
        draft,
        notice_version=tracker.get_slot("notice_version") or notice_version(),
        agent_kind=kind if kind in rules.agent_kinds else None,
        agent_relation=rules.agent_kinds[kind].label if kind in rules.agent_kinds else None,
        disclosure_kind=(tracker.get_slot("disclosure_kind") or "held_data") if disclosure
        else None,
        delivery_method=tracker.get_slot("delivery_method") if disclosure else None,
        fee_amount=rules.fee_default(types) if fee_told else None,
        fee_told_at=datetime.now(timezone.utc) if fee_told else None,
    )


class ActionDeliveryMethod(ChatAction):
    """「開示の結果はメールで送ってもらえますか」: the methods the law allows (Art. 33(1)),
    the wish recorded when the words name one, and the offer to start the request."""

    action_name = "action_delivery_method"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
        text = latest(tracker).text
        dispatcher.utter_message(text=life.delivery_answer())
        events: list[dict[str, Any]] = []
        method = life.delivery_wish(text)
        words = life.life_words()["delivery"]
        if method is not None:
            dispatcher.utter_message(text=life.delivery_recorded(method))
            events.append(SlotSet("delivery_method", method))
        else:
            dispatcher.utter_message(text=words["ask"])
        under_way = tracker.active_loop.get("name") or (
            tracker.get_slot("request_stage") in UNDER_WAY
        )
        if not under_way:
            intent = load_catalogue().types[DISCLOSURE].intent
            dispatcher.utter_message(
                text=words["offer"],
                buttons=[{"title": words["offer_button"], "payload": f"/{intent}"}],
            )
        return events
