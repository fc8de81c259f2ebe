"""The one transcript: the desk's lines and the review's turns say the same thing."""

from __future__ import annotations

from typing import Any

from madoguchi.conversation import events as ev
from madoguchi.conversation import transcript as tr

T0 = 1_764_000_000.0


def at(seconds: float) -> float:
    return T0 + seconds


TRACKER: dict[str, Any] = {"events": [
    {"event": "action", "name": "action_session_start", "timestamp": at(0)},
    {"event": "session_started", "timestamp": at(0)},
    {"event": "action", "name": "action_listen", "timestamp": at(0)},
    {"event": "user", "text": "住所を変えたいです", "timestamp": at(1),
     "parse_data": {"intent": {"name": "request_correction", "confidence": 0.88},
                    "intent_ranking": [{"name": "request_correction", "confidence": 0.88},
                                       {"name": "request_suspension", "confidence": 0.07}]}},
    {"event": "action", "name": "action_start_request", "policy": "RulePolicy",
     "confidence": 1.0, "timestamp": at(2)},
    {"event": "bot", "text": "訂正のご請求ですね。", "timestamp": at(2),
     "data": {"buttons": [{"title": "はい"}]}},
    {"event": "slot", "name": "requested_slot", "value": "customer_name", "timestamp": at(2)},
    {"event": "bot", "text": "お名前をお願いします。", "timestamp": at(2)},
    {"event": "user", "text": "山田太郎です", "timestamp": at(3),
     "parse_data": {"intent": {"name": "nlu_fallback", "confidence": 0.7},
                    "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.7},
                                       {"name": "inform", "confidence": 0.3}],
                    "entities": [{"entity": "name", "value": "山田太郎"}]}},
    {"event": "action", "name": "action_fallback", "timestamp": at(4)},
    {"event": "slot", "name": "customer_name", "value": "山田太郎", "timestamp": at(4)},
    {"event": "pause", "timestamp": at(5)},
    ev.operator_turn("担当の佐藤です。", "sato") | {"timestamp": at(6)},
    {"event": "bot", "text": "", "timestamp": at(6)},
    {"event": "resume", "timestamp": at(7)},
]}


class Labels:
    """A masker that hides the answer to a form question and every slot value."""

    def __init__(self) -> None:
        self.learnt: list[str] = []

    def learn(self, slot: str, value: Any) -> None:
        self.learnt.append(slot)

    def customer(self, text: str, asked: str | None,
                 entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
        if asked:
            return f"［{asked}］", [{**e, "value": "［非表示］"} for e in entities]
        return text, entities

    def reply(self, text: str) -> str:
        return text.replace("お名前", "［お名前］")

    def slot(self, name: str, value: Any) -> Any:
        return "［値］"


def test_the_desk_reads_who_said_what_and_when() -> None:
    lines = tr.of_tracker(TRACKER).lines()
    assert [(line["who"], line["text"], line["name"]) for line in lines] == [
        ("customer", "住所を変えたいです", None),
        ("bot", "訂正のご請求ですね。\n[はい]", None),
        ("bot", "お名前をお願いします。", None),
        ("customer", "山田太郎です", None),
        ("system", tr.PAUSED, None),
        ("operator", "担当の佐藤です。", "sato"),
        ("system", tr.RESUMED, None),
    ]
    assert lines[0]["at"] == ev.iso(at(1))
    assert tr.PAUSED == "担当者に引き継ぎました（ボット停止）"
    assert tr.RESUMED == "ボットに戻しました"


def test_the_review_reads_each_turn_with_nlu_actions_and_slots() -> None:
    turns = tr.of_tracker(TRACKER).turn_dicts(low_confidence_below=0.5)
    first, second = turns
    assert first["turn"] == 1 and not first["fell_back"]
    assert first["customer"] | {"at": None} == {
        "event_id": None, "at": None, "text": "住所を変えたいです",
        "intent": "request_correction", "confidence": 0.88,
        "runner_up": "request_suspension", "runner_up_confidence": 0.07,
        "entities": [], "fell_back": False, "low_confidence": False, "masked": []}
    assert [a["name"] for a in first["actions"]] == ["action_start_request"]
    assert first["slots"] == [{"event_id": None, "name": "requested_slot",
                               "value": "customer_name"}]

    assert second["fell_back"] and second["customer"]["fell_back"]
    assert second["customer"]["low_confidence"] is True  # the best real intent, inform, is 0.3
    assert [a["name"] for a in second["actions"]] == ["action_fallback"]
    assert [(r["who"], r.get("event")) for r in second["replies"]] == [
        ("system", "pause"), ("operator", None), ("system", "resume")]


def test_bookkeeping_before_the_first_message_is_left_out_but_greetings_are_kept() -> None:
    assert tr.of_tracker(TRACKER).turns[0].number == 1
    greeted = tr.build(ev.from_tracker([{"event": "bot", "text": "いらっしゃいませ"}]))
    assert [t.number for t in greeted.turns] == [0]
    assert tr.build([]).lines() == [] and tr.build([]).turn_dicts(0.5) == []


def test_a_masker_sees_the_conversation_in_order() -> None:
    masker = Labels()
    turns = tr.of_tracker(TRACKER, masker).turn_dicts(0.5)
    answer = turns[1]["customer"]
    assert answer["text"] == "［customer_name］"
    assert answer["entities"] == [{"entity": "name", "value": "［非表示］"}]
    assert turns[0]["replies"][1]["text"] == "［お名前］をお願いします。"
    assert {s["value"] for t in turns for s in t["slots"]} == {"［値］"}
    assert masker.learnt == ["requested_slot", "customer_name"]


def test_the_form_question_is_forgotten_when_a_new_session_starts() -> None:
    events = ev.from_tracker([
        {"event": "slot", "name": "requested_slot", "value": "phone"},
        {"event": "session_started"},
        {"event": "user", "text": "こんにちは"},
    ])
    [turn] = tr.build(events, Labels()).turn_dicts(0.5)[1:]
    assert turn["customer"]["text"] == "こんにちは"


def test_desk_and_review_show_the_same_strings() -> None:
    built = tr.of_tracker(TRACKER)
    said = []
    for turn in built.turn_dicts(0.5):
        if turn["customer"]:
            said.append(("customer", turn["customer"]["text"]))
        said += [(r["who"], r["text"]) for r in turn["replies"]]
    assert said == [(line["who"], line["text"]) for line in built.lines()]
    assert set(tr.WHO_LABELS) == {line["who"] for line in built.lines()}
