"""Answers from the privacy notice, the out-of-scope reply and the two-stage fallback."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    NLU_FALLBACK,
    buttons,
    consecutive_fallbacks,
    handoff_button,
    latest,
    notice,
    retriever,
    window,
)
from madoguchi.infra.settings import settings
from madoguchi.notice.answer import compose_answer
from madoguchi.notice.choice import NoticeChoice
from madoguchi.notice.model import INTENT_PREFIX
from madoguchi.requests.types import load_types as request_types


@lru_cache(maxsize=1)
def notice_choice() -> NoticeChoice:
    """The section chooser, with this process's retrieval threshold."""
    return NoticeChoice(notice(), retriever(), settings().retrieval_threshold)


def answer_events(
    dispatcher: CollectingDispatcher, section_id: str, question: str
) -> list[dict[str, Any]]:
    """Reply with the section's text and citation; set notice_section to what was cited."""
    answer = compose_answer(notice(), section_id, question)
    offers = [handoff_button()] if answer.limit_id else []
    dispatcher.utter_message(text=answer.text, buttons=offers)
    return [SlotSet("notice_section", answer.section_id)]


class ActionAnswerNotice(Action):
    def name(self) -> str:
        return "action_answer_notice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        message = latest(tracker)
        if notice().by_intent(message.intent or "") is None:
            # A rule sent us something that is not a notice question.
            section_id = notice_choice().retrieved_section(message.text)
            if section_id is None:
                dispatcher.utter_message(response="utter_please_rephrase")
                return []
            return answer_events(dispatcher, section_id, message.text)
        return answer_events(dispatcher, notice_choice().best_section(message), message.text)


class ActionOutOfScope(Action):
    def name(self) -> str:
        return "action_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_out_of_scope", **window().contact)
        return []


def _label(intent: str) -> str | None:
    """How a candidate intent is offered on a did-you-mean button (None: not offered)."""
    titles = buttons()
    if intent.startswith(INTENT_PREFIX):
        section = notice().by_intent(intent)
        return titles["notice_candidate"].format(title=section.title) if section else None
    for request in request_types().values():
        if request.intent == intent:
            return titles["request_candidate"].format(label=request.label)
    return titles["intents"].get(intent)


class ActionFallback(Action):
    """First a second chance from the notice, then did-you-mean buttons, then a person."""

    def name(self) -> str:
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        message = latest(tracker)
        choice = notice_choice()
        if not message.text.startswith("/") and choice.seems_about_the_notice(message):
            return answer_events(dispatcher, choice.best_section(message), message.text)

        if consecutive_fallbacks(tracker) >= 2:
            dispatcher.utter_message(response="utter_fallback_offer_person")
            return []

        candidates = []
        for intent, _ in message.ranking:
            label = _label(intent) if intent != NLU_FALLBACK else None
            if label:
                candidates.append({"title": label, "payload": f"/{intent}"})
            if len(candidates) == 2:
                break
        if not candidates:
            dispatcher.utter_message(response="utter_please_rephrase")
            return []
        candidates.append({"title": buttons()["none_of_these"], "payload": f"/{NLU_FALLBACK}"})
        dispatcher.utter_message(response="utter_fallback_did_you_mean", buttons=candidates)
        return []
