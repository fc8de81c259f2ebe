"""Rasa's events read one way, whether from a tracker's JSON or from the `events` table."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from madoguchi.conversation import events as ev

T0 = 1_764_000_000.0
PACKAGE = Path(__file__).resolve().parents[1] / "src" / "madoguchi" / "conversation"


def user(text: str, intent: str | None, confidence: float | None, **extra: object) -> dict:
    ranking = extra.pop("ranking", [{"name": intent, "confidence": confidence}])
    return {"event": "user", "text": text, "timestamp": T0,
            "parse_data": {"intent": {"name": intent, "confidence": confidence},
                           "intent_ranking": ranking, "entities": extra.pop("entities", [])},
            **extra}


def row(event_id: int, event: dict, *, type_name: str | None = None,
        action_name: str | None = None, data: str | None = None) -> SimpleNamespace:
    """A row as SQLAlchemy returns it from Rasa's `events` table."""
    return SimpleNamespace(id=event_id, type_name=type_name or event.get("event"),
                           timestamp=event.get("timestamp"), action_name=action_name,
                           data=json.dumps(event) if data is None else data)


def test_a_customer_message_with_what_nlu_made_of_it() -> None:
    message = user("電話番号は090-1234-5678です", "inform", 0.81,
                   ranking=[{"name": "inform", "confidence": 0.81},
                            {"name": "request_correction", "confidence": 0.12}],
                   entities=[{"entity": "phone", "value": "090-1234-5678"}])
    turn = ev.view(message)
    assert isinstance(turn, ev.UserTurn) and turn.typed
    assert turn.text == "電話番号は090-1234-5678です"
    assert (turn.reading.intent, turn.reading.confidence) == ("inform", 0.81)
    assert (turn.reading.runner_up, turn.reading.runner_up_confidence) == (
        "request_correction", 0.12)
    assert turn.reading.entities == ({"entity": "phone", "value": "090-1234-5678"},)
    assert not turn.reading.fell_back


def test_a_message_that_fell_back_still_has_its_best_real_intent() -> None:
    reading = ev.view(user("ふにゃ", "nlu_fallback", 0.7, ranking=[
        {"name": "nlu_fallback", "confidence": 0.7},
        {"name": "out_of_scope", "confidence": 0.22}])).reading
    assert reading.fell_back
    assert (reading.best_real, reading.best_real_confidence) == ("out_of_scope", 0.22)
    assert ev.Reading.of({}).best_real is None and ev.Reading.of(None).intent is None


def test_a_button_payload_is_not_the_customers_words() -> None:
    assert not ev.view(user("/affirm", "affirm", 1.0)).typed
    assert not ev.view(user("   ", "greet", 0.5)).typed
    assert ev.view(user("はい", "affirm", 0.9)).typed


def test_the_same_event_reads_the_same_from_a_table_row() -> None:
    message = user("開示してほしい", "request_disclosure", 0.91)
    from_json, from_table = ev.view(message), ev.from_row(row(7, message))
    assert isinstance(from_table, ev.UserTurn)
    assert (from_table.text, from_table.reading) == (from_json.text, from_json.reading)
    assert from_table.event_id == 7 and from_json.event_id is None
    assert from_table.timestamp == from_json.timestamp == T0


def test_a_row_names_actions_and_slots_in_its_own_columns() -> None:
    action = ev.from_row(row(1, {"event": "action", "policy": "RulePolicy"},
                             action_name="action_fallback"))
    assert isinstance(action, ev.ActionRun)
    assert action.name == "action_fallback" and action.fallback and not action.quiet
    slot = ev.from_row(row(2, {"event": "slot", "value": "2.4"}, action_name="notice_section"))
    assert isinstance(slot, ev.SlotValue) and (slot.name, slot.value) == ("notice_section", "2.4")


def test_a_damaged_row_reads_as_an_empty_event_of_its_type() -> None:
    damaged = ev.from_row(row(3, {}, type_name="user", data="{not json"))
    assert isinstance(damaged, ev.UserTurn) and damaged.text == "" and not damaged.typed
    assert ev.load("[1, 2]") == {} and ev.load(None) == {}


def test_a_reply_shows_its_buttons_and_an_operator_turn_names_the_operator() -> None:
    reply = ev.view({"event": "bot", "text": "訂正のご請求ですね。",
                     "data": {"buttons": [{"title": "はい"}, {"title": "いいえ"}]}})
    assert isinstance(reply, ev.BotTurn) and reply.operator is None
    assert reply.shown == "訂正のご請求ですね。\n[はい] / [いいえ]"
    written = ev.operator_turn("担当の佐藤です。", "sato")
    said = ev.view(written)
    assert isinstance(said, ev.BotTurn)
    assert (said.shown, said.operator, ev.operator_of(written)) == (
        "担当の佐藤です。", "sato", "sato")


def test_moments_without_a_timestamp() -> None:
    assert ev.iso(None) is None and ev.iso(True) is None
    assert ev.at(None).timestamp() == 0
    assert ev.iso(T0).startswith("2025-11-24T")


def test_what_a_whole_conversation_says() -> None:
    read = ev.from_tracker([
        {"event": "slot", "name": "notice_section", "value": "2.4"},
        user("ふにゃ", "greet", 0.9),
        "not an event",
        {"event": "slot", "name": "notice_section", "value": None},
        user("ほげ", "nlu_fallback", 0.3),
        {"event": "slot", "name": "notice_section", "value": "5"},
        user("/nlu_fallback", "nlu_fallback", 1.0),
    ])
    assert len(read) == 6
    assert [t.text for t in ev.user_turns(read)] == ["ふにゃ", "ほげ", "/nlu_fallback"]
    assert ev.slot_values(read, "notice_section") == ["2.4", "5"]
    assert ev.consecutive_fallbacks(read) == 2
    assert ev.consecutive_fallbacks(read[:2]) == 0


@pytest.mark.parametrize(("event", "field", "value"), [
    ({"event": "user", "text": "山田です"}, "text", "山田です"),
    ({"event": "bot", "text": "承知しました"}, "text", "承知しました"),
    ({"event": "slot", "name": "customer_name", "value": "山田"}, "value", "山田"),
    ({"event": "slot", "name": "customer_name", "value": "山田"}, "text", None),
    ({"event": "action", "name": "action_listen"}, "text", None),
])
def test_the_raw_field_an_audited_reveal_shows(event: dict, field: str, value: object) -> None:
    assert ev.raw_field(ev.view(event), field) == value


def test_the_package_imports_nothing_from_rasa_or_fastapi() -> None:
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                root = name.split(".")[0]
                assert root not in {"rasa", "rasa_sdk", "fastapi", "starlette"}, (path, name)
