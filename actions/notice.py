"""Answers from the privacy notice, the out-of-scope reply and the two-stage fallback.

An answer close to a request (「DMは止められますか」) offers the request beside it (Split); a
question the notice does not answer (cookies, how long data is kept) is told so honestly.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    NLU_FALLBACK,
    ChatAction,
    Events,
    Latest,
    buttons,
    consecutive_fallbacks,
    handoff_button,
    latest,
    notice,
    retriever,
    window,
)
from madoguchi.infra.settings import settings
from madoguchi.notice.answer import compose_answer, match_limit
from madoguchi.notice.choice import NoticeChoice, Split
from madoguchi.notice.model import INTENT_PREFIX
from madoguchi.requests.classify import classify
from madoguchi.requests.life import coverage_for_answer
from madoguchi.requests.neighbours import neighbour_intents
from madoguchi.requests.types import load_types as request_types
from madoguchi.tickets.status_check import find_references

# Where a request is under way: no other request is offered beside an answer then.
REQUEST_UNDER_WAY = {"ambiguous", "confirming", "summary", "fixing"}


@lru_cache(maxsize=1)
def notice_choice() -> NoticeChoice:
    """The section chooser, with this process's retrieval threshold."""
    return NoticeChoice(notice(), retriever(), settings().retrieval_threshold)


@lru_cache(maxsize=1)
def split() -> Split:
    """Which requests neighbour which sections, and how close counts (settings)."""
    return Split(neighbour_intents(), settings().split_margin, settings().split_floor)


# In scope, but the notice says nothing about it (cookies, how many days …).
NOTICE_GAP = "notice_gap"

def answer_events(
    dispatcher: CollectingDispatcher, section_id: str, question: str
) -> list[dict[str, Any]]:
    """Reply with the section's text and citation; set notice_section to what was cited and
    notice_version to the version quoted (also in the reply's metadata, for the review)."""
    answer = compose_answer(notice(), section_id, question)
    offers = [handoff_button()] if answer.limit_id else []
    version = notice_version()
    dispatcher.utter_message(text=answer.text, buttons=offers, notice_version=version)
    # 「消去予定のデータも開示の対象ですか」: the notice does not say it; lifecycle.yml does.
    covered = coverage_for_answer(question, answer.section_id)
    if covered is not None:
        dispatcher.utter_message(text=covered)
    return [SlotSet("notice_section", answer.section_id), SlotSet("notice_version", version)]


def notice_version() -> str | None:
    """The id of the notice version the assistant answers from (data/notice/sections.yml)."""
    version = notice().version
    return version.id if version else None


def request_offer_buttons(type_ids: list[str]) -> list[dict[str, str]]:
    """「停止の手続きをする」 (the request's intent as payload) per type, then 「大丈夫です」."""
    titles = buttons()
    types = request_types()
    offers = [
        {"title": titles["request_offer"][t], "payload": f"/{types[t].intent}"} for t in type_ids
    ]
    return [*offers, {"title": titles["request_offer_decline"], "payload": "/deny"}]


def offer_request_beside(
    dispatcher: CollectingDispatcher, tracker: Tracker, message: Latest, section_id: str
) -> None:
    """After an answer from `section_id`: offer the request the message was close to, if any
    (not while another request is being taken)."""
    if tracker.active_loop.get("name") or tracker.get_slot("request_stage") in REQUEST_UNDER_WAY:
        return
    if message.text.startswith("/"):
        return
    by_intent = {t.id: t.intent for t in request_types().values()}
    worded = [by_intent[t] for t in classify(message.text, []).types]
    intent = split().request_beside(section_id, message.ranking, worded)
    if intent is None:
        return
    type_id = next(t.id for t in request_types().values() if t.intent == intent)
    dispatcher.utter_message(
        response="utter_request_split_offer", buttons=request_offer_buttons([type_id])
    )


def _answer_and_offer(
    dispatcher: CollectingDispatcher, tracker: Tracker, message: Latest, section_id: str
) -> list[dict[str, Any]]:
    events = answer_events(dispatcher, section_id, message.text)
    offer_request_beside(dispatcher, tracker, message, events[0]["value"])
    return events


class ActionAnswerNotice(ChatAction):
    """A notice question: the section it asks about (retrieval's, when a rule sent something
    else), and the request beside it offered."""

    action_name = "action_answer_notice"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
        message = latest(tracker)
        if notice().by_intent(message.intent or "") is None:
            # A rule sent us something that is not a notice question.
            section_id = notice_choice().retrieved_section(message.text)
            if section_id is None:
                dispatcher.utter_message(response="utter_please_rephrase")
                return []
            return _answer_and_offer(dispatcher, tracker, message, section_id)
        section_id = notice_choice().best_section(message)
        return _answer_and_offer(dispatcher, tracker, message, section_id)


class ActionNoticeGap(ChatAction):
    """A question in scope that the notice does not answer (cookies, how long data is kept,
    card storage): say so and offer a person, inventing nothing. When limits.yml knows the
    question, its reply quotes the nearest section (and notice_section names it)."""

    action_name = "action_notice_gap"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
        message = latest(tracker)
        limit = match_limit(message.text, notice().limits)
        if limit is not None:
            return answer_events(dispatcher, limit.section, message.text)
        dispatcher.utter_message(response="utter_notice_gap")
        return []


class ActionOutOfScope(ChatAction):
    """Outside what the assistant handles: say so, with the contact to use instead."""

    action_name = "action_out_of_scope"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
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


class ActionFallback(ChatAction):
    """First a second chance from the notice (its honest limits, then retrieval), then
    did-you-mean buttons, then a person."""

    action_name = "action_fallback"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
        message = latest(tracker)
        choice = notice_choice()
        typed = not message.text.startswith("/")
        if typed and find_references(message.text):
            return [FollowupAction("status_form")]  # a reference number: where it stands
        # A question limits.yml knows (「回答まで何日かかりますか」) gets its honest reply even when
        # the NLU wavered between a section and notice_gap.
        limit = match_limit(message.text, notice().limits) if typed else None
        if limit is not None:
            return _answer_and_offer(dispatcher, tracker, message, limit.section)
        # The NLU's best guess is a question the notice does not answer (cookies …): say so,
        # rather than let retrieval quote the nearest section as if it answered.
        if typed and message.best_guess[0] == NOTICE_GAP:
            dispatcher.utter_message(response="utter_notice_gap")
            return []
        if typed and choice.seems_about_the_notice(message):
            return _answer_and_offer(dispatcher, tracker, message, choice.best_section(message))

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
