"""A conversation as turns, masked: what the customer said and how NLU read it, then what the
assistant (or an operator) did until the next message.

Built from Rasa's events at read time (the `sender_id` index makes that one quick query), so it
always shows exactly what the tracker store holds, anonymised or not.
"""

from __future__ import annotations

from typing import Any

from . import events as ev
from .masking import PERSONAL_SLOTS, ConversationMasker

PAUSED, RESUMED = "担当者に引き継ぎました（ボット停止）", "ボットに戻しました"


def build(rows: list[Any], threshold: float) -> list[dict[str, Any]]:
    """Turns, oldest first. Turn 0 holds what happened before the first customer message."""
    masker = ConversationMasker()
    asked: str | None = None
    turns: list[dict[str, Any]] = [_turn(0, None)]
    for row in rows:
        event = ev.load(row.data)
        kind = row.type_name or event.get("event")
        when = ev.at(row.timestamp).isoformat()
        turn = turns[-1]
        if kind == "user":
            raw = str(event.get("text") or "")
            text = masker.customer_text(raw, asked)
            reading = ev.reading(event)
            whole = asked in PERSONAL_SLOTS and not raw.startswith("/")
            turn = _turn(len(turns), {
                "event_id": row.id,
                "at": when,
                "text": text,
                "intent": reading.intent,
                "confidence": reading.confidence,
                "runner_up": reading.runner_up,
                "runner_up_confidence": reading.runner_up_confidence,
                "entities": masker.entities(reading.entities, whole),
                "fell_back": reading.fell_back,
                "low_confidence": (reading.best_real_confidence is not None
                                   and reading.best_real_confidence < threshold),
                "masked": sorted(set(event.get("metadata", {}).get("madoguchi_masked", []) or [])),
            })
            turns.append(turn)
        elif kind == "bot":
            operator = ev.operator_of(event)
            text = ev.bot_text(event)
            if text:
                turn["replies"].append({
                    "event_id": row.id, "at": when, "text": masker.text(text),
                    "who": "operator" if operator else "bot", "operator": operator,
                })
        elif kind == "action":
            name = event.get("name") or row.action_name
            if name and name not in ev.QUIET_ACTIONS:
                turn["actions"].append({
                    "event_id": row.id, "name": name, "policy": event.get("policy"),
                    "confidence": event.get("confidence"),
                })
                if name in ev.FALLBACK_ACTIONS:
                    turn["fell_back"] = True
        elif kind == "slot":
            name, value = event.get("name"), event.get("value")
            if name == "requested_slot":
                asked = value if isinstance(value, str) else None
            masker.learn(name, value)
            turn["slots"].append({"event_id": row.id, "name": name,
                                  "value": masker.slot_value(name, value)})
        elif kind in ("pause", "resume"):
            turn["replies"].append({"event_id": row.id, "at": when, "who": "system",
                                    "operator": None, "event": kind,
                                    "text": PAUSED if kind == "pause" else RESUMED})
        elif kind in ("session_started", "restart"):
            asked = None
    if not (turns[0]["replies"] or turns[0]["actions"] or turns[0]["slots"]):
        turns.pop(0)
    return turns


def _turn(number: int, customer: dict[str, Any] | None) -> dict[str, Any]:
    return {"turn": number, "customer": customer, "actions": [], "replies": [], "slots": [],
            "fell_back": bool(customer and customer["fell_back"])}


def raw_field(row: Any, field: str) -> Any:
    """The unmasked value of one field of one event (for an audited reveal)."""
    event = ev.load(row.data)
    kind = row.type_name or event.get("event")
    if field == "text" and kind in ("user", "bot"):
        return event.get("text") or ""
    if field == "value" and kind == "slot":
        return event.get("value")
    return None
