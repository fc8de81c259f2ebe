"""Rasa's conversation events as typed views, read the same way wherever they come from.

A conversation reaches us in two shapes: the events of a tracker as JSON (the action server's
`tracker.events`, the HTTP API's `GET /conversations/{id}/tracker`) and the rows of Rasa's SQL
`events` table (`table.py`), whose `data` column holds the same JSON. `view()` and `from_row()`
turn either into one of the classes below, so that no caller digs in Rasa's dicts itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

# Rasa's names for the kinds of event we read.
USER, BOT, ACTION, SLOT, ACTIVE_LOOP = "user", "bot", "action", "slot", "active_loop"
PAUSE, RESUME = "pause", "resume"
SESSION_STARTED, RESTART = "session_started", "restart"
# After these, nothing said before belongs to the current session's form any more.
SESSION_BOUNDARIES = frozenset({SESSION_STARTED, RESTART})

# What counts as "did not understand": the FallbackClassifier's intent, and the actions that
# answer it (ours, and Rasa's own for a core fallback).
FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTIONS = frozenset({"action_fallback", "action_default_fallback",
                              "action_two_stage_fallback"})
# Actions that are bookkeeping, not something the assistant did for the customer.
QUIET_ACTIONS = frozenset({"action_listen", "action_session_start"})
# The metadata key of a bot event that a person at the desk wrote (see `operator_turn`).
OPERATOR_KEY = "operator"
# The metadata key under which the channel lists what it masked in the customer's text.
MASKED_KEY = "madoguchi_masked"


def load(data: str | None) -> dict[str, Any]:
    """An event row's JSON; a damaged row reads as an empty event rather than stopping a read."""
    try:
        value = json.loads(data or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def at(timestamp: Any) -> datetime:
    """The event's moment in UTC; a missing timestamp reads as the epoch (sorts first)."""
    if not _is_number(timestamp):
        return datetime.fromtimestamp(0, tz=timezone.utc)
    return datetime.fromtimestamp(timestamp, tz=timezone.utc)


def iso(timestamp: Any) -> str | None:
    """The event's moment as ISO 8601 in UTC, or None when it has none."""
    return at(timestamp).isoformat() if _is_number(timestamp) else None


def number(value: Any) -> float | None:
    """A confidence as Rasa wrote it; anything that is not a number reads as unknown."""
    return float(value) if _is_number(value) else None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class Reading:
    """What NLU made of one customer message (Rasa's `parse_data`, or `latest_message`)."""

    intent: str | None
    confidence: float | None
    # The named intents as NLU ranked them, best first, with their confidences.
    ranking: tuple[tuple[str, float | None], ...] = ()
    entities: tuple[dict[str, Any], ...] = ()

    @classmethod
    def of(cls, parse: Mapping[str, Any] | None) -> Reading:
        parse = parse if isinstance(parse, Mapping) else {}
        intent = parse.get("intent") if isinstance(parse.get("intent"), Mapping) else {}
        name = intent.get("name")
        ranking = tuple(
            (r["name"], number(r.get("confidence")))
            for r in parse.get("intent_ranking") or []
            if isinstance(r, Mapping) and isinstance(r.get("name"), str) and r.get("name")
        )
        return cls(
            intent=name if isinstance(name, str) else None,
            confidence=number(intent.get("confidence")),
            ranking=ranking,
            entities=tuple(e for e in parse.get("entities") or [] if isinstance(e, dict)),
        )

    @property
    def fell_back(self) -> bool:
        return self.intent == FALLBACK_INTENT

    @property
    def runner_up(self) -> str | None:
        """The best-ranked intent other than the chosen one."""
        return self._runner_up[0]

    @property
    def runner_up_confidence(self) -> float | None:
        return self._runner_up[1]

    @property
    def best_real(self) -> str | None:
        """The most likely intent other than nlu_fallback, even when the message fell back."""
        return self._best_real[0]

    @property
    def best_real_confidence(self) -> float | None:
        return self._best_real[1]

    @property
    def _runner_up(self) -> tuple[str | None, float | None]:
        return next(((n, c) for n, c in self.ranking if n != self.intent), (None, None))

    @property
    def _best_real(self) -> tuple[str | None, float | None]:
        if self.intent and not self.fell_back:
            return self.intent, self.confidence
        return next(((n, c) for n, c in self.ranking if n != FALLBACK_INTENT), (None, None))


@dataclass(frozen=True)
class Event:
    """Any event: its kind, where it sits in the store (row id, when absent from JSON), when."""

    kind: str
    raw: Mapping[str, Any] = field(repr=False)
    event_id: int | None = None
    timestamp: float | None = None

    @property
    def metadata(self) -> Mapping[str, Any]:
        """What the channel or an action attached to the event (empty when nothing)."""
        return self.raw.get("metadata") or {}


@dataclass(frozen=True)
class UserTurn(Event):
    """A customer message: the text as stored and what NLU made of it."""

    text: str = ""
    reading: Reading = field(default_factory=lambda: Reading(None, None))

    @property
    def typed(self) -> bool:
        """Words the customer typed; a button's payload (`/intent{…}`) is not their words."""
        return bool(self.text.strip()) and not self.text.lstrip().startswith("/")

    @property
    def masked_kinds(self) -> list[str]:
        """What the channel masked in this message before Rasa stored it, sorted."""
        return sorted(set(self.metadata.get(MASKED_KEY, []) or []))


@dataclass(frozen=True)
class BotTurn(Event):
    """Something said to the customer: by the assistant, or by a person at the desk."""

    text: str = ""
    buttons: tuple[str, ...] = ()
    operator: str | None = None

    @property
    def shown(self) -> str:
        """The text as a transcript shows it, the buttons' titles after it as `[title]`."""
        if not self.buttons:
            return self.text
        return (self.text + "\n" if self.text else "") + " / ".join(f"[{t}]" for t in self.buttons)


@dataclass(frozen=True)
class ActionRun(Event):
    """An action the assistant ran, and the policy that chose it."""

    name: str | None = None
    policy: str | None = None
    confidence: Any = None

    @property
    def quiet(self) -> bool:
        return self.name in QUIET_ACTIONS

    @property
    def fallback(self) -> bool:
        return self.name in FALLBACK_ACTIONS


@dataclass(frozen=True)
class SlotValue(Event):
    """A slot set (or cleared, value None)."""

    name: str | None = None
    value: Any = None


@dataclass(frozen=True)
class LoopChange(Event):
    """A form started (name) or ended (None)."""

    name: str | None = None


def view(event: Mapping[str, Any], *, kind: str | None = None, event_id: int | None = None,
         timestamp: Any = None, name: str | None = None) -> Event:
    """The typed view of one event dict. The keyword arguments are what a table row knows
    beside the JSON; each wins over the JSON when given."""
    kind = kind or str(event.get("event") or "")
    stamp = timestamp if _is_number(timestamp) else event.get("timestamp")
    base: dict[str, Any] = {"kind": kind, "raw": event, "event_id": event_id,
                            "timestamp": float(stamp) if _is_number(stamp) else None}
    if kind == USER:
        return UserTurn(**base, text=str(event.get("text") or ""),
                        reading=Reading.of(event.get("parse_data")))
    if kind == BOT:
        buttons = (event.get("data") or {}).get("buttons") or []
        return BotTurn(
            **base, text=event.get("text") or "",
            buttons=tuple(str(b["title"]) for b in buttons
                          if isinstance(b, dict) and b.get("title")),
            operator=operator_of(event),
        )
    if kind == ACTION:
        return ActionRun(**base, name=event.get("name") or name, policy=event.get("policy"),
                         confidence=event.get("confidence"))
    if kind == SLOT:
        return SlotValue(**base, name=event.get("name") or name, value=event.get("value"))
    if kind == ACTIVE_LOOP:
        return LoopChange(**base, name=event.get("name"))
    return Event(**base)


def from_row(row: Any) -> Event:
    """One row of Rasa's `events` table (id, type_name, timestamp, action_name, data)."""
    return view(load(row.data), kind=row.type_name or None, event_id=row.id,
                timestamp=row.timestamp, name=row.action_name)


def from_rows(rows: Iterable[Any]) -> Iterator[Event]:
    return (from_row(row) for row in rows)


def from_tracker(events: Iterable[Any]) -> list[Event]:
    """A tracker's events (action server or HTTP API), skipping anything that is not an event."""
    return [view(e) for e in events if isinstance(e, Mapping)]


def operator_of(event: Mapping[str, Any]) -> str | None:
    """Who at the desk wrote a bot event (`operator_turn`); None for the assistant's own."""
    operator = (event.get("metadata") or {}).get(OPERATOR_KEY)
    return str(operator) if operator else None


def operator_turn(text: str, operator: str) -> dict[str, Any]:
    """The bot event that stores a person's words in the conversation, naming who wrote them."""
    return {"event": BOT, "text": text, "metadata": {OPERATOR_KEY: operator}}


# --- reading a whole conversation -----------------------------------------------------------


def user_turns(events: Iterable[Event]) -> list[UserTurn]:
    return [e for e in events if isinstance(e, UserTurn)]


def slot_values(events: Iterable[Event], slot: str) -> list[Any]:
    """Every value `slot` was set to, oldest first (None and empty values left out)."""
    return [e.value for e in events if isinstance(e, SlotValue) and e.name == slot and e.value]


def consecutive_fallbacks(events: Iterable[Event]) -> int:
    """How many of the customer's latest messages in a row NLU did not understand."""
    count = 0
    for turn in reversed(user_turns(events)):
        if not turn.reading.fell_back:
            break
        count += 1
    return count


def raw_field(event: Event, name: str) -> Any:
    """The stored value of one field of one event, for an audited reveal: a message's `text`,
    a slot's `value`; None when the event has no such field."""
    if name == "text" and isinstance(event, UserTurn | BotTurn):
        return event.raw.get("text") or ""
    if name == "value" and isinstance(event, SlotValue):
        return event.value
    return None
