"""Answers from the privacy notice, the out-of-scope reply and the two-stage fallback."""

from __future__ import annotations

import os
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    NLU_FALLBACK,
    Latest,
    buttons,
    consecutive_fallbacks,
    handoff_button,
    latest,
    notice,
    retriever,
    window,
)
from madoguchi.notice.answer import compose_answer
from madoguchi.notice.model import INTENT_PREFIX
from madoguchi.requests.types import load_types as request_types

# The second chance: a question no intent was sure of is answered from the best notice section
# when retrieval scores it at least this high (measured by `make bench BENCH=notice`; the bench
# turns it off with MADOGUCHI_RETRIEVAL_THRESHOLD=off to show what it adds).
_THRESHOLD_SETTING = os.environ.get("MADOGUCHI_RETRIEVAL_THRESHOLD", "0.35")
RETRIEVAL_THRESHOLD = 2.0 if _THRESHOLD_SETTING == "off" else float(_THRESHOLD_SETTING)
# With the NLU's best guess on a notice question, retrieval needs to clear only this share of
# the threshold.
SUPPORTED_FACTOR = 0.7
# How much retrieval counts beside the NLU when both name a section (0 turns it off).
RETRIEVAL_WEIGHT = 0.0 if _THRESHOLD_SETTING == "off" else 1.0


def answer_events(
    dispatcher: CollectingDispatcher, section_id: str, question: str
) -> list[dict[str, Any]]:
    """Reply with the section's text and citation; set notice_section to what was cited."""
    answer = compose_answer(notice(), section_id, question)
    offers = [handoff_button()] if answer.limit_id else []
    dispatcher.utter_message(text=answer.text, buttons=offers)
    return [SlotSet("notice_section", answer.section_id)]


def best_section(message: Latest) -> str:
    """The section asked about: the NLU's notice intents and retrieval, weighed equally.

    Both are in [0, 1]; together they read held-out questions better than either alone
    (`make bench BENCH=notice`), since retrieval knows the notice's own words and the NLU
    knows how customers ask.
    """
    nlu = {name: confidence for name, confidence in message.ranking}
    found = dict(retriever().rank(message.text, k=len(notice())))
    return max(
        notice().sections,
        key=lambda s: nlu.get(s.intent, 0.0) + RETRIEVAL_WEIGHT * found.get(s.id, 0.0),
    ).id


def seems_about_the_notice(message: Latest) -> bool:
    """Retrieval is sure enough on its own, or the NLU's best guess is a notice question and
    retrieval agrees that the notice speaks of it."""
    if retriever().best(message.text, RETRIEVAL_THRESHOLD) is not None:
        return True
    guess, _ = message.best_guess
    return guess.startswith(INTENT_PREFIX) and (
        retriever().best(message.text, RETRIEVAL_THRESHOLD * SUPPORTED_FACTOR) is not None
    )


class ActionAnswerNotice(Action):
    def name(self) -> str:
        return "action_answer_notice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        message = latest(tracker)
        if notice().by_intent(message.intent or "") is None:
            # A rule sent us something that is not a notice question.
            section_id = retriever().best(message.text, RETRIEVAL_THRESHOLD)
            if section_id is None:
                dispatcher.utter_message(response="utter_please_rephrase")
                return []
            return answer_events(dispatcher, section_id, message.text)
        return answer_events(dispatcher, best_section(message), message.text)


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
        if not message.text.startswith("/") and seems_about_the_notice(message):
            return answer_events(dispatcher, best_section(message), message.text)

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
