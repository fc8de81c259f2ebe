"""In scope, but not in the notice (cookies, how long data is kept, card storage, the exact
fee): the honest 「記載がございません」 and the offer of a person, never an invented fact."""

from __future__ import annotations

import asyncio
from typing import Any

import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.notice import ActionNoticeGap
from madoguchi.infra.settings import project_root

ROOT = project_root()
HONEST = "お尋ねの点は、「WEB 会員登録に関する個人情報の同意事項」には記載がございません。"


def domain() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "domain.yml").read_text("utf-8"))


def run_gap(text: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    message = {"text": text, "intent": {"name": "notice_gap", "confidence": 0.9},
               "intent_ranking": [{"name": "notice_gap", "confidence": 0.9}]}
    tracker = Tracker("gap", {}, message, [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionNoticeGap().run(dispatcher, tracker, domain()))
    return dispatcher.messages, events


def test_the_intent_its_response_and_its_action_are_in_the_domain() -> None:
    d = domain()
    assert "notice_gap" in d["intents"] and "action_notice_gap" in d["actions"]
    reply = d["responses"]["utter_notice_gap"][0]
    assert reply["text"].startswith(HONEST)
    assert {b["payload"] for b in reply["buttons"]} == {"/human_handoff", "/deny"}


def test_the_reply_states_no_figure_and_no_name() -> None:
    text = domain()["responses"]["utter_notice_gap"][0]["text"]
    assert not any(ch.isdigit() for ch in text)
    assert "Cookie" not in text and "クッキー" not in text


def test_rules_answer_it_outside_and_inside_the_form() -> None:
    rules = yaml.safe_load((ROOT / "data" / "core" / "rules.yml").read_text("utf-8"))["rules"]
    gap = [r for r in rules if {"intent": "notice_gap"} in r["steps"]]
    assert len(gap) == 2
    assert all(r["steps"][1] == {"action": "action_notice_gap"} for r in gap)
    in_form = [r for r in gap if r.get("condition")]
    assert in_form and {"action": "request_form"} in in_form[0]["steps"]


def test_a_cookie_question_is_told_honestly_and_sets_no_section() -> None:
    messages, events = run_gap("クッキーは使っていますか")
    assert [m["response"] for m in messages] == ["utter_notice_gap"]
    assert events == []


def test_a_question_limits_yml_knows_quotes_the_nearest_section() -> None:
    messages, events = run_gap("開示請求の手数料はいくらですか")
    assert "手数料の金額は記載されておりません" in messages[0]["text"]
    assert "出典" in messages[0]["text"]
    assert any(b["payload"] == "/human_handoff" for b in messages[0]["buttons"])
    assert {"event": "slot", "timestamp": None, "name": "notice_section", "value": "4.2"} in events


def test_a_fallback_whose_best_guess_is_the_gap_is_told_honestly() -> None:
    """Below the fallback threshold, 「クッキーは使っていますか」 had notice_gap as its best real
    intent; retrieval then quoted §2 as if it answered. The gap's honest reply comes first."""
    from actions.notice import ActionFallback

    tracker = Tracker(
        "t", {}, {"text": "クッキーは使っていますか",
                  "intent": {"name": "nlu_fallback", "confidence": 0.3},
                  "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.3},
                                     {"name": "notice_gap", "confidence": 0.28},
                                     {"name": "deny", "confidence": 0.23}]},
        [], False, None, {}, "action_listen",
    )
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionFallback().run(dispatcher, tracker, {}))
    assert [m["response"] for m in dispatcher.messages] == ["utter_notice_gap"]
    assert events == []
