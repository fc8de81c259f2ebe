"""CSAT in the chat: 「今回の対応はいかがでしたか」 with five buttons, then an optional comment.

Asked when a conversation ends: after the customer's goodbye or thanks once the assistant has
answered something (rules.yml), and when an operator hands the conversation back or resolves
its ticket (the desk runs `action_csat_ask` through Rasa's API). Once per conversation: the
survey row in the database says whether it was asked (review/csat.py). A rating comes as the
button's command `/csat{"score":N}`; out of range or a second one gets a clear answer and
nothing is stored. After a rating, `csat_form` takes one free-text comment (or 「コメントなし」),
stored masked.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import ConversationResumed, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import ChatAction, Events, Named
from actions.store import tickets
from madoguchi.conversation.events import from_tracker, user_turns
from madoguchi.infra.db import make_engine, session_factory
from madoguchi.infra.settings import load_settings
from madoguchi.review.csat import (
    ALREADY_RATED,
    CsatBook,
    CsatError,
    question_texts,
)

logger = logging.getLogger(__name__)

CSAT_INTENT = "csat"
SCORE_ENTITY = "score"
COMMENT_SLOT = "csat_comment"
FORM = "csat_form"
# What the customer says that is not yet an answer of the assistant's.
_SMALLTALK = frozenset({"greet", "goodbye", "thanks", "affirm", "deny", CSAT_INTENT})


@lru_cache(maxsize=1)
def book() -> CsatBook:
    return CsatBook(session_factory(make_engine(load_settings().database_url)))


def _answered_something(tracker: Tracker) -> bool:
    """Whether the customer asked for something (not only hello and goodbye)."""
    return any(turn.reading.intent not in _SMALLTALK
               for turn in user_turns(from_tracker(tracker.events)))


def _trigger(tracker: Tracker) -> str:
    if tracker.is_paused():
        return "resolved"  # the desk asks while the operator still holds the conversation
    latest = (tracker.latest_message or {}).get("intent", {}).get("name")
    if latest in ("goodbye", "thanks"):
        return latest
    return "handback"


class ActionCsatAsk(ChatAction):
    """Put the question, once per conversation; silent when it was asked before."""

    action_name = "action_csat_ask"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
        trigger = _trigger(tracker)
        if trigger in ("goodbye", "thanks") and not _answered_something(tracker):
            return []
        try:
            found = tickets().find_by_conversation(tracker.sender_id)
            ticket = found[0] if found else None  # the newest
            asked = book().ask(
                tracker.sender_id, trigger,
                ticket_reference=ticket.reference if ticket else None,
                operator=ticket.assignee if ticket else None,
                request_types=list(ticket.request_types or []) if ticket else [],
            )
        except Exception:  # the database may be restarting: not asking is the safe side
            logger.warning("CSAT not asked for %s: the database did not answer",
                           tracker.sender_id, exc_info=True)
            return []
        if not asked:
            return []
        events: list[dict[str, Any]] = []
        if tracker.is_paused():
            # The operator resolved the ticket: the conversation is the assistant's again, so
            # that the customer's rating is read.
            events.append(ConversationResumed())
        dispatcher.utter_message(response="utter_csat_ask")
        return events


def _score(tracker: Tracker) -> Any:
    for entity in (tracker.latest_message or {}).get("entities") or []:
        if entity.get("entity") == SCORE_ENTITY:
            return entity.get("value")
    return None


class ActionCsatRate(ChatAction):
    """Store the rating of `/csat{"score":N}`, then ask for the optional comment."""

    action_name = "action_csat_rate"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
        try:
            book().rate(tracker.sender_id, _score(tracker))
        except CsatError as exc:
            if exc.reason == ALREADY_RATED:
                dispatcher.utter_message(response="utter_csat_already_rated")
            else:
                dispatcher.utter_message(response="utter_csat_out_of_range")
            return []
        except Exception:
            logger.warning("CSAT rating of %s not stored: the database did not answer",
                           tracker.sender_id, exc_info=True)
            dispatcher.utter_message(response="utter_csat_not_stored")
            return []
        dispatcher.utter_message(response="utter_csat_thanks")
        return [FollowupAction(FORM)]


class ValidateCsatForm(Named, FormValidationAction):
    """The comment: stored masked, or nothing when the customer has none."""

    action_name = "validate_csat_form"

    async def validate_csat_comment(self, value: Any, dispatcher: CollectingDispatcher,
                                    tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        text = value if isinstance(value, str) else ""
        if text.lstrip().startswith("/"):
            return {COMMENT_SLOT: None}  # a button's command is not a comment: ask again
        if question_texts().is_skip(text):
            return {COMMENT_SLOT: "skipped"}
        try:
            book().comment(tracker.sender_id, text)
        except CsatError:
            return {COMMENT_SLOT: "skipped"}  # rated elsewhere meanwhile: nothing to add
        except Exception:
            logger.warning("CSAT comment of %s not stored", tracker.sender_id, exc_info=True)
            return {COMMENT_SLOT: "skipped"}
        return {COMMENT_SLOT: "given"}


class ActionCsatDone(ChatAction):
    """The closing thanks after the comment (or its absence)."""

    action_name = "action_csat_done"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
        given = tracker.get_slot(COMMENT_SLOT) == "given"
        dispatcher.utter_message(
            response="utter_csat_comment_thanks" if given else "utter_csat_goodbye")
        return [SlotSet(COMMENT_SLOT, None)]
