"""What every action needs: its name and `run` in one place, the notice loaded once, and a
read of the latest message."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from madoguchi.conversation import events
from madoguchi.infra.settings import project_root
from madoguchi.notice.loader import load_notice
from madoguchi.notice.model import Notice
from madoguchi.notice.retrieval import SectionRetriever
from madoguchi.notice.window import Window, default_window

NLU_FALLBACK = events.FALLBACK_INTENT
# What an action returns to Rasa: its events, as dicts.
Events = list[dict[str, Any]]


class Named:
    """rasa_sdk's `name()` read from the class's `action_name`, so that an action (a form's
    validation too) states its name once, as data."""

    action_name: ClassVar[str]

    def name(self) -> str:
        return self.action_name


class ChatAction(Named, Action, ABC):
    """rasa_sdk's `run` written once: every action answers from the dispatcher and the tracker
    alone: none reads the domain, which Rasa sends only to the forms' validations
    (`enable_selective_domain` in endpoints.yml).

    Abstract, so that rasa_sdk's registry, which skips abstract classes, registers only the
    actions themselves.
    """

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        return self.act(dispatcher, tracker)

    @abstractmethod
    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
        """What the action says (through the dispatcher) and the events it returns."""


def leave_form() -> Events:
    """Deactivate the active form: Rasa's loop and the slot it was asking for."""
    return [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]


@lru_cache(maxsize=1)
def notice() -> Notice:
    return load_notice()


@lru_cache(maxsize=1)
def retriever() -> SectionRetriever:
    return SectionRetriever(notice())


@lru_cache(maxsize=1)
def buttons() -> dict[str, Any]:
    """Button titles built at run time (data/dialogue/buttons.yml)."""
    path = project_root() / "data" / "dialogue" / "buttons.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def handoff_button() -> dict[str, str]:
    return {"title": buttons()["handoff"], "payload": "/human_handoff"}


def window() -> Window:
    return default_window()


@dataclass(frozen=True)
class Latest:
    """The customer's latest message as NLU read it, for choosing what to do: an intent or
    confidence NLU left out reads as "" and 0.0."""

    text: str
    intent: str | None
    confidence: float
    ranking: list[tuple[str, float]]

    @property
    def best_guess(self) -> tuple[str, float]:
        """The most likely real intent, even when the message fell back as unclear."""
        for name, confidence in self.ranking:
            if name != NLU_FALLBACK:
                return name, confidence
        return self.intent or "", self.confidence


def latest(tracker: Tracker) -> Latest:
    message: dict[str, Any] = tracker.latest_message or {}
    reading = events.Reading.of(message)
    return Latest(
        text=message.get("text") or "",
        intent=reading.intent,
        confidence=reading.confidence or 0.0,
        ranking=[(name, confidence or 0.0) for name, confidence in reading.ranking],
    )


def consecutive_fallbacks(tracker: Tracker) -> int:
    """How many of the customer's latest messages in a row the assistant did not understand.

    Derived from the log rather than kept in a slot, so it cannot drift from what happened.
    The did-you-mean prompt's "none of these" button sends /nlu_fallback, so it counts too.
    """
    return events.consecutive_fallbacks(events.from_tracker(tracker.events))
