"""The ticket prefill built from a conversation, and the summary the customer confirms."""

from __future__ import annotations

import json

import pytest

from madoguchi.requests import fields
from madoguchi.requests.prefill import (
    TicketPrefill,
    build_prefill,
    slot_value,
    summary_lines,
)
from madoguchi.requests.types import get_type

CARD = "4111 1111 1111 1111"
MY_NUMBER = "123456789018"


def user(text: str, intent: str, confidence: float = 0.9) -> dict:
    return {
        "event": "user",
        "text": text,
        "parse_data": {
            "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": [{"name": intent, "confidence": confidence}],
            "entities": [],
        },
    }


def bot(text: str) -> dict:
    return {"event": "bot", "text": text}


def slot(name: str, value) -> dict:
    return {"event": "slot", "name": name, "value": value}


def form(name: str | None) -> dict:
    return {"event": "active_loop", "name": name}


def opening() -> list[dict]:
    return [
        {"event": "action", "name": "action_session_start"},
        {"event": "session_started"},
        {"event": "action", "name": "action_listen"},
    ]


CONTACT = {
    "customer_name": "山田太郎",
    "phone": "０９０ー１２３４ー５６７８",
    "postal_address": "東京都江東区東陽7-2-18",
    "member_number": "M12345678",
    "preferred_time": "平日の午前中",
    "is_agent": False,
}


def conversation(first: str, intent: str, confidence: float, answers: list[str]) -> list[dict]:
    events = [
        *opening(),
        user(first, intent, confidence),
        bot("ご請求の内容を確認します。"),
        form("request_form"),
    ]
    for answer in answers:
        events += [bot("ご入力ください。"), user(answer, "inform", 0.8)]
    return [*events, form(None)]


def test_a_purpose_notice_request_prefills_contact_sections_and_procedure():
    events = conversation(
        "私の個人データの利用目的を通知してください",
        "request_purpose_notice",
        0.91,
        ["山田太郎です", "090-1234-5678"],
    )
    prefill = build_prefill("conv-1", events, {**CONTACT, "request_type": "purpose_notice"})
    assert prefill.request_types == ["purpose_notice"]
    assert prefill.priority == "normal"
    assert prefill.customer_name == "山田太郎"
    assert prefill.phone == "090-1234-5678"
    assert prefill.postal_address == "東京都江東区東陽7-2-18"
    assert prefill.member_number == "M12345678"
    assert prefill.preferred_time == "平日の午前中"
    assert prefill.is_agent is False
    assert prefill.details == {"purpose_notice": {}}
    assert prefill.customer_words == ["私の個人データの利用目的を通知してください"]
    assert (prefill.nlu_intent, prefill.nlu_confidence) == ("request_purpose_notice", 0.91)
    assert prefill.notice_sections == ["4.1", "4.2"]
    assert prefill.next_steps == get_type("purpose_notice").next_steps
    assert prefill.conversation_id == "conv-1"


def test_a_disclosure_request_by_an_agent_is_flagged_and_cites_the_sections_read_before():
    events = [
        *opening(),
        user("開示の手続きはどうなっていますか", "notice_4_2", 0.88),
        slot("notice_section", "4.2"),
        bot("4.個人情報の開示・訂正… (2) お手続き方法 …"),
        user("代理人として父の個人データの開示を求めます", "request_disclosure", 0.83),
        slot("request_type", "disclosure"),
        form("request_form"),
        user("代理人です", "inform"),
        slot("is_agent", True),
        form(None),
    ]
    slots = {**CONTACT, "is_agent": True, "member_number": None, "notice_section": "4.2"}
    prefill = build_prefill("conv-2", events, slots, ["disclosure"])
    assert prefill.is_agent is True
    assert prefill.member_number is None
    assert prefill.notice_sections == ["4.2", "4.1"]
    assert prefill.customer_words == ["代理人として父の個人データの開示を求めます"]
    assert prefill.nlu_intent == "request_disclosure"


def test_a_correction_request_keeps_the_item_and_the_new_value():
    events = conversation(
        "住所が古いままなので新しい住所に直してください",
        "request_correction",
        0.77,
        ["住所", "東京都江東区東陽7-2-18"],
    )
    slots = {
        **CONTACT,
        "correction_item": "住所",
        "correction_value": "東京都江東区東陽７－２－１８",
    }
    prefill = build_prefill("conv-3", events, slots, ["correction"])
    assert prefill.details == {"correction": {"item": "住所", "value": "東京都江東区東陽7-2-18"}}
    assert prefill.nlu_confidence == 0.77


def test_an_ambiguous_sakujo_keeps_the_first_words_and_the_intent_that_started_it():
    events = [
        *opening(),
        user("データを削除してください", "request_correction", 0.52),
        bot("訂正と利用停止・消去のどちらですか"),
        user('/choose_request_type{"request_type": "suspension"}', "choose_request_type", 1.0),
        slot("request_type", "suspension"),
        user("全部消してほしいんです", "request_suspension", 0.9),
        form("request_form"),
        user("全部", "inform"),
    ]
    slots = {**CONTACT, "suspension_scope": "全部", "cancel_membership": "退会します"}
    prefill = build_prefill("conv-4", events, slots, ["suspension"])
    assert prefill.customer_words == ["データを削除してください", "全部消してほしいんです"]
    assert (prefill.nlu_intent, prefill.nlu_confidence) == ("request_correction", 0.52)
    assert prefill.details["suspension"] == {
        "scope": "all",
        "scope_detail": "全部",
        "cancel_membership": True,
    }


def test_a_third_party_stop_lists_the_recipients():
    events = conversation(
        "Googleに私のデータを提供しないでください",
        "request_third_party_stop",
        0.95,
        ["GoogleとLINE"],
    )
    slots = {**CONTACT, "third_party_recipients": ["Google", "LINE"]}
    prefill = build_prefill("conv-5", events, slots, ["third_party_stop"])
    assert prefill.details == {"third_party_stop": {"recipients": ["Google", "LINE"]}}
    assert prefill.notice_sections == ["4.1", "4.2"]


def test_a_marketing_optout_lists_the_channels_cites_section_5_and_needs_no_address():
    events = conversation(
        "メルマガとカタログを止めてください",
        "request_marketing_optout",
        0.97,
        ["メールとカタログ", "taro@example.com"],
    )
    slots = {
        "marketing_channels": ["email", "catalogue"],
        "customer_name": "山田太郎",
        "phone": "09012345678",
        "email": "ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ",
        "member_number": "なし",
        "preferred_time": "いつでも",
    }
    prefill = build_prefill("conv-6", events, slots, ["marketing_optout"])
    assert prefill.details == {"marketing_optout": {"channels": ["email", "catalogue"]}}
    assert prefill.email == "taro@example.com"
    assert prefill.member_number is None
    assert prefill.is_agent is None
    assert prefill.notice_sections == ["5"]
    assert "速やかに" in prefill.next_steps


def test_a_complaint_is_high_priority_and_keeps_the_details():
    details = "電話口で本人確認もせずに私の住所を話したと聞きました。\n抗議します"
    events = conversation("個人情報の扱いで不快な思いをしました", "complaint", 0.88, [details])
    slots = {
        "complaint_details": details,
        "customer_name": "山田太郎",
        "phone": "090-1234-5678",
        "preferred_time": "18時以降",
    }
    prefill = build_prefill("conv-7", events, slots, ["complaint"])
    assert prefill.priority == "high"
    assert prefill.details == {"complaint": {"details": details}}
    assert prefill.notice_sections == ["7"]
    assert prefill.postal_address is None


def test_a_double_request_holds_both_types_their_details_and_both_next_steps():
    events = conversation("メールを止めて、データも消して", "request_suspension", 0.71, [])
    slots = {
        **CONTACT,
        "marketing_channels": ["email"],
        "email": "taro@example.com",
        "suspension_scope": {"scope": "all", "detail": "全部"},
        "cancel_membership": False,
    }
    prefill = build_prefill(
        "conv-8", events, {**slots, "request_types": ["marketing_optout", "suspension"]}
    )
    assert prefill.request_types == ["marketing_optout", "suspension"]
    assert set(prefill.details) == {"marketing_optout", "suspension"}
    assert prefill.details["suspension"]["cancel_membership"] is False
    assert prefill.notice_sections == ["5", "4.1", "4.2"]
    assert get_type("marketing_optout").next_steps in prefill.next_steps
    assert get_type("suspension").next_steps in prefill.next_steps


def test_the_customers_words_never_keep_a_card_or_individual_number():
    first = f"データを消して。カードは{CARD}、マイナンバーは{MY_NUMBER}です"
    events = conversation(first, "request_suspension", 0.8, [])
    prefill = build_prefill("conv-9", events, CONTACT, ["suspension"])
    stored = json.dumps(prefill.as_dict(), ensure_ascii=False)
    assert "4111" not in stored and MY_NUMBER not in stored
    assert prefill.customer_words[0].startswith("データを消して。カードは")
    assert not fields.contains_forbidden(stored)


def test_slot_values_holding_forbidden_numbers_are_dropped_not_stored():
    assert slot_value("phone", CARD) is None
    assert slot_value("customer_name", f"山田 {MY_NUMBER}") is None
    scope = slot_value("suspension_scope", {"scope": "all", "detail": f"カード{CARD}"})
    assert scope["scope"] == "all"
    assert scope["detail"].startswith("カード") and "4111" not in scope["detail"]
    assert "4111" not in str(slot_value("marketing_channels", ["email", CARD]))


def test_slot_values_are_canonicalised_or_kept_as_typed_for_the_operator():
    assert slot_value("phone", "０３（１２３４）５６７８") == "03-1234-5678"
    assert slot_value("phone", "たぶん090の…") == "たぶん090の…"
    assert slot_value("is_agent", "はい") is True
    assert slot_value("is_agent", "どうかな") is None
    assert slot_value("marketing_channels", "全部") == [
        "phone",
        "email",
        "post",
        "catalogue",
        "sms",
    ]
    assert slot_value("member_number", None) is None
    assert slot_value("member_number", fields.NO_MEMBER_NUMBER) is None


def test_the_current_request_starts_after_the_last_ticket_of_the_conversation():
    events = [
        *opening(),
        user("開示してほしい", "request_disclosure", 0.9),
        form("request_form"),
        form(None),
        slot("ticket_reference", "PRV-20261125-0007"),
        bot("受付番号は PRV-20261125-0007 です"),
        user("あとメルマガも止めて", "request_marketing_optout", 0.86),
        form("request_form"),
    ]
    prefill = build_prefill(
        "conv-10", events, {"marketing_channels": ["email"]}, ["marketing_optout"]
    )
    assert prefill.customer_words == ["あとメルマガも止めて"]
    assert prefill.nlu_intent == "request_marketing_optout"


def test_odd_events_and_empty_conversations_still_give_a_prefill():
    events = [
        {"event": "user"},
        "not an event",
        {"event": "user", "text": None},
        {"event": "bot", "text": "…"},
    ]
    prefill = build_prefill("conv-11", events, {}, ["complaint"])  # type: ignore[list-item]
    assert prefill.customer_words == []
    assert prefill.nlu_intent is None
    assert prefill.priority == "high"


def test_unknown_or_missing_request_types_are_a_caller_error():
    with pytest.raises(ValueError):
        build_prefill("c", [], {}, ["refund"])
    with pytest.raises(ValueError):
        build_prefill("c", [], {})


# --- summary ---------------------------------------------------------------------------------


def _prefill(**overrides) -> TicketPrefill:
    base = build_prefill("conv-s", [], CONTACT, ["correction"])
    for key, value in overrides.items():
        setattr(base, key, value)
    return base


def test_the_summary_shows_the_customers_data_in_full_with_polite_labels():
    prefill = build_prefill(
        "conv-s",
        [],
        {**CONTACT, "correction_item": "電話番号", "correction_value": "03-1234-5678"},
        ["correction"],
    )
    assert summary_lines(prefill) == [
        "ご請求の内容：訂正・追加・削除",
        "訂正等をご希望の項目：電話番号",
        "訂正後の内容：03-1234-5678",
        "お名前：山田太郎 様",
        "お電話番号：090-1234-5678",
        "ご住所：東京都江東区東陽7-2-18",
        "会員番号：M12345678",
        "ご連絡の希望時間帯：平日の午前中",
        "代理人によるご請求：いいえ",
    ]


def test_the_summary_of_a_marketing_optout_names_the_channels_and_no_member_number():
    prefill = build_prefill(
        "conv-m",
        [],
        {
            "marketing_channels": ["email", "post"],
            "customer_name": "山田太郎",
            "phone": "09012345678",
            "email": "taro@example.com",
            "postal_address": "東京都江東区1-1",
            "member_number": None,
            "preferred_time": "いつでも",
        },
        ["marketing_optout"],
    )
    lines = summary_lines(prefill)
    assert lines[0] == "ご請求の内容：ご案内の停止"
    assert "停止をご希望のご案内：電子メール、郵便物（ダイレクトメール・はがき等）" in lines
    assert "メールアドレス：taro@example.com" in lines
    assert "会員番号：なし" in lines
    assert not any(line.startswith("代理人") for line in lines)


def test_the_summary_of_a_suspension_says_scope_and_membership():
    prefill = build_prefill(
        "conv-x",
        [],
        {**CONTACT, "suspension_scope": "メールアドレスだけ", "cancel_membership": "いいえ"},
        ["suspension"],
    )
    lines = summary_lines(prefill)
    assert "利用停止・消去の範囲：一部（メールアドレスだけ）" in lines
    assert "WEB会員の退会：希望しない" in lines


def test_the_summary_never_shows_a_card_or_individual_number():
    prefill = _prefill(
        details={"correction": {"item": f"カード{CARD}", "value": f"番号{MY_NUMBER}"}}
    )
    text = "\n".join(summary_lines(prefill))
    assert "4111" not in text and MY_NUMBER not in text


def test_the_summary_shortens_a_very_long_complaint():
    prefill = build_prefill(
        "conv-c",
        [],
        {"complaint_details": "ひどい" * 300, "customer_name": "山田", "phone": "0312345678"},
        ["complaint"],
    )
    line = next(x for x in summary_lines(prefill) if x.startswith("お伺いした内容"))
    assert len(line) < 230 and line.endswith("…")
