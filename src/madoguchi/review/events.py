"""Rasa's tracker store as plain rows: the `events` table, read without importing Rasa.

`SQLTrackerStore` keeps one row per event (`sender_id`, `type_name`, `timestamp`,
`intent_name`, `action_name`, `data` = the event as JSON). This module names that table for
SQLAlchemy Core and turns a row into the facts the review side needs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, inspect
from sqlalchemy.engine import Connection, Engine

from madoguchi.infra.settings import settings

EVENTS = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)

# What counts as "did not understand": the FallbackClassifier's intent, and the actions that
# answer it (ours, and Rasa's own for a core fallback).
FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTIONS = frozenset({"action_fallback", "action_default_fallback",
                              "action_two_stage_fallback"})
# Actions that are bookkeeping, not something the assistant did for the customer.
QUIET_ACTIONS = frozenset({"action_listen", "action_session_start"})


def low_confidence_threshold() -> float:
    """Below this, the best real intent's confidence counts as low.

    MADOGUCHI_REVIEW_LOW_CONFIDENCE, default 0.5.
    """
    return settings().review_low_confidence


def events_table_exists(bind: Engine | Connection) -> bool:
    """Rasa creates `events` when it first starts; before that there is nothing to read."""
    return inspect(bind).has_table("events")


def at(timestamp: Any) -> datetime:
    if not isinstance(timestamp, int | float) or isinstance(timestamp, bool):
        return datetime.fromtimestamp(0, tz=timezone.utc)
    return datetime.fromtimestamp(timestamp, tz=timezone.utc)


def load(data: str | None) -> dict[str, Any]:
    """The event's JSON; a damaged row reads as an empty event rather than stopping the review."""
    try:
        value = json.loads(data or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Reading:
    """What NLU made of one customer message."""

    intent: str | None
    confidence: float | None
    runner_up: str | None
    runner_up_confidence: float | None
    best_real: str | None  # the most likely intent other than nlu_fallback
    best_real_confidence: float | None
    entities: list[dict[str, Any]]

    @property
    def fell_back(self) -> bool:
        return self.intent == FALLBACK_INTENT


def reading(event: dict[str, Any]) -> Reading:
    parse = event.get("parse_data") or {}
    intent = parse.get("intent") or {}
    ranking = [r for r in parse.get("intent_ranking") or [] if isinstance(r, dict)]
    name = intent.get("name")
    confidence = _float(intent.get("confidence"))
    others = [r for r in ranking if r.get("name") != name]
    real = [r for r in ranking if r.get("name") and r.get("name") != FALLBACK_INTENT]
    if name and name != FALLBACK_INTENT:
        best, best_conf = name, confidence
    elif real:
        best, best_conf = real[0].get("name"), _float(real[0].get("confidence"))
    else:
        best, best_conf = None, None
    entities = [e for e in parse.get("entities") or [] if isinstance(e, dict)]
    return Reading(
        intent=name,
        confidence=confidence,
        runner_up=others[0].get("name") if others else None,
        runner_up_confidence=_float(others[0].get("confidence")) if others else None,
        best_real=best,
        best_real_confidence=best_conf,
        entities=entities,
    )


def _float(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def operator_of(event: dict[str, Any]) -> str | None:
    """A bot event written by the desk names the operator in its metadata (desk/service.py)."""
    operator = (event.get("metadata") or {}).get("operator")
    return str(operator) if operator else None


def bot_text(event: dict[str, Any]) -> str:
    text = event.get("text") or ""
    buttons = (event.get("data") or {}).get("buttons") or []
    titles = [str(b.get("title")) for b in buttons if isinstance(b, dict) and b.get("title")]
    if titles:
        text = (text + "\n" if text else "") + " / ".join(f"[{t}]" for t in titles)
    return text
