"""The one transcript of a conversation: the operator's (desk) and the supervisor's (review).

Turns, oldest first: what the customer said and how NLU read it, then what the assistant (or
an operator) did until the next message — actions, slots set, replies, the handoff's pause
and the handback's resume. The desk shows it as lines, unmasked (the operator calls the
customer back); the review shows it turn by turn through its masker. Both read the same events
(`events.py`), so a line says the same thing on both pages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from . import events as ev

# Who said a line: the customer, the assistant, a person at the desk, or a marker of the
# handoff itself (pause / resume) — with the labels the pages show for them.
CUSTOMER, BOT, OPERATOR, SYSTEM = "customer", "bot", "operator", "system"
WHO_LABELS: dict[str, str] = {CUSTOMER: "お客様", BOT: "ボット", OPERATOR: "担当者", SYSTEM: "記録"}
PAUSED, RESUMED = "担当者に引き継ぎました（ボット停止）", "ボットに戻しました"


class Masker(Protocol):
    """What a reader may not see, hidden in conversation order (the review's masking)."""

    def learn(self, slot: str, value: Any) -> None:
        """A slot was set: its value may now need hiding wherever it appears again."""

    def customer(self, text: str, asked: str | None,
                 entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
        """A customer message (answering the form question `asked`) and its entities."""

    def reply(self, text: str) -> str:
        """Something said to the customer."""

    def slot(self, name: str, value: Any) -> Any:
        """A slot's value."""


class Unmasked:
    """Everything as stored: the operator who works a ticket sees the customer's words."""

    def learn(self, slot: str, value: Any) -> None:
        return None

    def customer(self, text: str, asked: str | None,
                 entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
        return text, entities

    def reply(self, text: str) -> str:
        return text

    def slot(self, name: str, value: Any) -> Any:
        return value


@dataclass(frozen=True)
class CustomerMessage:
    event_id: int | None
    timestamp: float | None
    text: str
    reading: ev.Reading
    entities: list[dict[str, Any]]
    masked_kinds: list[str]


@dataclass(frozen=True)
class Reply:
    """A line said to the customer (bot or operator), or a pause / resume marker (system)."""

    event_id: int | None
    timestamp: float | None
    who: str
    text: str
    operator: str | None = None
    marker: str | None = None  # ev.PAUSE or ev.RESUME for a system line


@dataclass
class Turn:
    number: int
    customer: CustomerMessage | None
    actions: list[ev.ActionRun] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    slots: list[tuple[int | None, str | None, Any]] = field(default_factory=list)
    fell_back: bool = False

    @property
    def empty(self) -> bool:
        return not (self.customer or self.actions or self.replies or self.slots)


@dataclass
class Transcript:
    turns: list[Turn]

    def lines(self) -> list[dict[str, Any]]:
        """Who said what and when, oldest first: {at, who, text, name} (the desk's shape)."""
        out: list[dict[str, Any]] = []
        for turn in self.turns:
            if turn.customer is not None:
                m = turn.customer
                out.append({"at": ev.iso(m.timestamp), "who": CUSTOMER, "text": m.text,
                            "name": None})
            out += [{"at": ev.iso(r.timestamp), "who": r.who, "text": r.text,
                     "name": r.operator} for r in turn.replies]
        return out

    def turn_dicts(self, low_confidence_below: float) -> list[dict[str, Any]]:
        """Turn by turn with NLU's reading of each message (the review's shape)."""
        return [_turn_dict(turn, low_confidence_below) for turn in self.turns]


def build(events: Iterable[ev.Event], masker: Masker | None = None) -> Transcript:
    """The transcript of `events` (oldest first). Turn 0 holds what happened before the first
    customer message, and is left out when nothing did."""
    masker = masker or Unmasked()
    asked: str | None = None  # the form question open when the customer answers
    turns = [Turn(0, None)]
    for event in events:
        turn = turns[-1]
        if isinstance(event, ev.UserTurn):
            text, entities = masker.customer(event.text, asked, list(event.reading.entities))
            message = CustomerMessage(event.event_id, event.timestamp, text, event.reading,
                                      entities, event.masked_kinds)
            turns.append(Turn(len(turns), message, fell_back=event.reading.fell_back))
        elif isinstance(event, ev.BotTurn):
            if event.shown:
                turn.replies.append(Reply(
                    event.event_id, event.timestamp, OPERATOR if event.operator else BOT,
                    masker.reply(event.shown), event.operator))
        elif isinstance(event, ev.ActionRun):
            if event.name and not event.quiet:
                turn.actions.append(event)
                turn.fell_back = turn.fell_back or event.fallback
        elif isinstance(event, ev.SlotValue):
            if event.name == "requested_slot":
                asked = event.value if isinstance(event.value, str) else None
            masker.learn(event.name, event.value)
            turn.slots.append((event.event_id, event.name, masker.slot(event.name, event.value)))
        elif event.kind in (ev.PAUSE, ev.RESUME):
            turn.replies.append(Reply(event.event_id, event.timestamp, SYSTEM,
                                      PAUSED if event.kind == ev.PAUSE else RESUMED,
                                      marker=event.kind))
        elif event.kind in ev.SESSION_BOUNDARIES:
            asked = None
    if turns[0].empty:
        turns.pop(0)
    return Transcript(turns)


def of_tracker(tracker: Mapping[str, Any], masker: Masker | None = None) -> Transcript:
    """The transcript of a tracker as Rasa's HTTP API returns it (`include_events=ALL`)."""
    return build(ev.from_tracker(tracker.get("events") or []), masker)


def _turn_dict(turn: Turn, low_confidence_below: float) -> dict[str, Any]:
    customer = None
    if turn.customer is not None:
        m, reading = turn.customer, turn.customer.reading
        # Low confidence is judged on the best real intent: a fallback is not "unsure".
        best = reading.best_real_confidence
        low = best is not None and best < low_confidence_below
        customer = {
            "event_id": m.event_id,
            "at": ev.at(m.timestamp).isoformat(),
            "text": m.text,
            "intent": reading.intent,
            "confidence": reading.confidence,
            "runner_up": reading.runner_up,
            "runner_up_confidence": reading.runner_up_confidence,
            "entities": m.entities,
            "fell_back": reading.fell_back,
            "low_confidence": low,
            "masked": m.masked_kinds,
        }
    return {
        "turn": turn.number,
        "customer": customer,
        "actions": [{"event_id": a.event_id, "name": a.name, "policy": a.policy,
                     "confidence": a.confidence} for a in turn.actions],
        "replies": [_reply_dict(r) for r in turn.replies],
        "slots": [{"event_id": i, "name": n, "value": v} for i, n, v in turn.slots],
        "fell_back": turn.fell_back,
    }


def _reply_dict(reply: Reply) -> dict[str, Any]:
    out = {"event_id": reply.event_id, "at": ev.at(reply.timestamp).isoformat(),
           "text": reply.text, "who": reply.who, "operator": reply.operator}
    if reply.marker:
        out["event"] = reply.marker
    return out
