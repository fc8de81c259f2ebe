"""What every action needs: the notice loaded once, and a read of the latest message."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml
from rasa_sdk import Tracker

from madoguchi.conversation import events
from madoguchi.infra.settings import project_root
from madoguchi.notice.loader import load_notice
from madoguchi.notice.model import Notice
from madoguchi.notice.retrieval import SectionRetriever
from madoguchi.notice.window import Window, default_window

NLU_FALLBACK = events.FALLBACK_INTENT


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
