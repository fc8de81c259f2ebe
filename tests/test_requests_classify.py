"""Deciding what the customer asked for: NLU ranking plus the words of the message."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from madoguchi.requests.classify import (
    REASON_AMBIGUOUS_DELETE,
    REASON_AMBIGUOUS_OBJECT,
    REASON_AMBIGUOUS_STOP,
    REASON_COMPLAINT,
    REASON_MULTIPLE,
    REASON_NLU,
    REASON_NLU_CLOSE,
    REASON_NOT_A_REQUEST,
    classify,
    extract_channels,
    extract_recipients,
)
from madoguchi.requests.types import request_intents

STOP_CHOICES = ["marketing_optout", "third_party_stop", "suspension"]
DELETE_CHOICES = ["correction", "suspension"]


def rank(intent: str, confidence: float = 0.9, *rest: tuple[str, float]):
    return [(intent, confidence), *rest]


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [
        ("私の個人データの利用目的を通知してください", "request_purpose_notice", "purpose_notice"),
        ("保有個人データの開示を請求します", "request_disclosure", "disclosure"),
        ("住所が古いので新しい住所に直してください", "request_correction", "correction"),
        ("私の個人情報をもう利用しないでください", "request_suspension", "suspension"),
        (
            "Googleに私のデータを提供しないでください",
            "request_third_party_stop",
            "third_party_stop",
        ),
        ("カタログの送付を止めてください", "request_marketing_optout", "marketing_optout"),
        ("個人情報の取り扱いがずさんすぎます", "complaint", "complaint"),
    ],
)
def test_each_request_type_is_recognised_from_its_intent_and_words(text, intent, expected):
    decision = classify(text, rank(intent))
    assert decision.types == [expected]
    assert decision.ambiguous == []
    assert decision.intent == intent and decision.confidence == 0.9


@pytest.mark.parametrize(
    "text", ["データを削除してください", "登録情報を削除してほしい", "私の情報を削除して"]
)
def test_sakujo_alone_asks_between_correction_and_suspension(text):
    decision = classify(text, rank("request_suspension", 0.8))
    assert decision.types == []
    assert decision.ambiguous == DELETE_CHOICES
    assert decision.reason == REASON_AMBIGUOUS_DELETE
    assert decision.is_request


@pytest.mark.parametrize(
    "text",
    [
        "住所が間違っているので削除して",
        "誤りがある電話番号を削除してください",
        "古いメールアドレスを削除して",
        "引っ越して住所が変わったので旧住所を削除して",
    ],
)
def test_sakujo_of_wrong_or_old_content_is_a_correction(text):
    assert classify(text, rank("request_suspension", 0.6)).types == ["correction"]


@pytest.mark.parametrize(
    "text",
    [
        "私のデータを全部削除して",
        "退会するので削除してください",
        "アカウントを削除してほしい",
        "すべて削除して、消去してください",
        "データを削除して利用停止してください",
    ],
)
def test_sakujo_of_everything_or_the_membership_is_a_suspension(text):
    assert classify(text, rank("request_correction", 0.6)).types == ["suspension"]


def test_erase_words_without_wrong_content_are_a_suspension():
    assert classify("私の情報、全部けして", rank("request_suspension")).types == ["suspension"]
    assert classify("データを消去して", rank("request_correction", 0.5)).types == ["suspension"]
    assert classify("間違った住所を消して", rank("request_suspension", 0.5)).types == ["correction"]


@pytest.mark.parametrize("text", [
    "もうすぐ消去される予定の私のデータも開示してほしいです",
    "消去予定のデータも開示してもらえますか",
    "削除される前に私のデータを開示してほしい",
])
def test_data_due_to_be_deleted_is_described_not_asked_to_be_erased(text):
    """「消去予定のデータも開示して」 asks for ② alone (cues.yml delete.described); it was
    taken as ② and ④ at once, a request to erase the customer never made."""
    assert classify(text, []).types == ["disclosure"]
    assert classify(text, rank("request_disclosure", 0.6)).types == ["disclosure"]


@pytest.mark.parametrize("text", ["データを消去してください", "消去する前に確認したい",
                                  "全部削除して、消去予定も教えて"])
def test_an_erase_word_not_followed_by_a_description_is_still_a_wish(text):
    assert "suspension" in classify(text, []).types


@pytest.mark.parametrize(
    "text", ["止めてください", "やめてほしい", "停止をお願いします", "もうやめて！！"]
)
def test_stop_without_a_deciding_object_asks_among_marketing_third_party_and_suspension(text):
    decision = classify(text, rank("request_marketing_optout", 0.7))
    assert decision.types == []
    assert decision.ambiguous == STOP_CHOICES
    assert decision.reason == REASON_AMBIGUOUS_STOP


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("メールを止めて", "marketing_optout"),
        ("電話をやめてほしい", "marketing_optout"),
        ("ＤＭ不要です", "marketing_optout"),
        ("ﾒﾙﾏｶﾞを停止して", "marketing_optout"),
        ("郵便でのご案内を止めて", "marketing_optout"),
        ("第三者への提供を止めて", "third_party_stop"),
        ("LINEに渡すのをやめて", "third_party_stop"),
        ("広告配信をやめてほしい", "third_party_stop"),
        ("提携先に渡すのをやめて", "third_party_stop"),
        ("私のデータの利用を止めて", "suspension"),
        ("個人情報を使うのをやめてください", "suspension"),
        ("提携先の商品のご案内も止めてください", "marketing_optout"),
    ],
)
def test_the_object_of_stop_decides_the_request(text, expected):
    decision = classify(text, rank("request_marketing_optout", 0.5))
    assert decision.types == [expected]
    assert decision.ambiguous == []


def test_ads_alone_leave_marketing_or_third_party_open():
    decision = classify("広告を止めて", rank("request_third_party_stop", 0.6))
    assert decision.ambiguous == ["marketing_optout", "third_party_stop"]
    assert decision.reason == REASON_AMBIGUOUS_OBJECT


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("メールを止めて、データも消して", ["marketing_optout", "suspension"]),
        ("メールを止めてデータも消して", ["marketing_optout", "suspension"]),
        ("データを全部消して。あとメルマガも止めて", ["suspension", "marketing_optout"]),
        ("開示してください。それとカタログも止めて", ["disclosure", "marketing_optout"]),
        ("住所を訂正して、Googleへの提供も停止してほしい", ["correction", "third_party_stop"]),
        ("メールとGoogleへの提供を止めて", ["marketing_optout", "third_party_stop"]),
    ],
)
def test_two_clear_requests_in_one_message_are_both_taken_in_the_order_written(text, expected):
    decision = classify(text, rank("request_suspension", 0.7))
    assert decision.types == expected
    assert decision.ambiguous == []
    assert decision.reason == REASON_MULTIPLE


def test_a_clear_request_next_to_an_ambiguous_word_keeps_the_clear_one_and_asks_the_rest():
    decision = classify("メールを止めて、住所を削除して", rank("request_marketing_optout", 0.7))
    assert decision.types == ["marketing_optout"]
    assert decision.ambiguous == DELETE_CHOICES


def test_an_open_word_that_repeats_a_decided_request_asks_nothing():
    decision = classify("全部削除して。私の情報はもう要らないでしょ", rank("request_suspension"))
    assert decision.types == ["suspension"]
    assert decision.ambiguous == []


@pytest.mark.parametrize(
    "ranking",
    [
        [("human_handoff", 0.9)],
        [("out_of_scope", 0.8), ("request_suspension", 0.1)],
        [("greet", 0.99)],
        [("notice_2_4", 0.7), ("request_marketing_optout", 0.2)],
        [("nlu_fallback", 0.3)],
    ],
)
def test_non_request_intents_make_no_request_even_with_request_words(ranking):
    decision = classify("メールを止めて、データも消して", ranking)
    assert decision.types == [] and decision.ambiguous == []
    assert decision.reason == REASON_NOT_A_REQUEST
    assert not decision.is_request


def test_a_complaint_stays_a_complaint_when_it_mentions_an_earlier_request():
    text = "前に利用停止をお願いしたのに、まだメールが届く。どうなってるの"
    decision = classify(text, rank("complaint", 0.8))
    assert decision.types == ["complaint"]
    assert decision.reason == REASON_COMPLAINT


def test_two_request_intents_within_the_margin_are_offered_as_a_choice():
    ranking = [("request_purpose_notice", 0.5), ("request_disclosure", 0.4), ("greet", 0.1)]
    decision = classify("私の情報について知りたい", ranking)
    assert decision.types == []
    assert decision.ambiguous == ["purpose_notice", "disclosure"]
    assert decision.reason == REASON_NLU_CLOSE


def test_the_margin_of_0_15_is_inclusive_and_a_wider_gap_decides():
    close = classify(
        "私の情報について", [("request_disclosure", 0.6), ("request_purpose_notice", 0.45)]
    )
    assert close.ambiguous == ["disclosure", "purpose_notice"]
    wide = classify(
        "私の情報について", [("request_disclosure", 0.62), ("request_purpose_notice", 0.45)]
    )
    assert wide.types == ["disclosure"] and wide.reason == REASON_NLU


def test_a_close_second_that_is_not_a_request_does_not_make_a_choice():
    decision = classify("私の情報について", [("request_disclosure", 0.5), ("out_of_scope", 0.45)])
    assert decision.types == ["disclosure"]


def test_rasa_intent_ranking_dicts_are_accepted_and_sorted():
    ranking = [
        {"name": "greet", "confidence": 0.05},
        {"name": "request_correction", "confidence": 0.85},
    ]
    decision = classify("登録内容を直したい", ranking)
    assert decision.types == ["correction"]
    assert decision.intent == "request_correction"


def test_without_a_ranking_the_words_alone_decide():
    assert classify("メールを止めて", []).types == ["marketing_optout"]
    assert classify("こんにちは", []).types == []


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \u3000\n",
        "😀🙏" * 50,
        "<script>alert('x')</script>メールを止めて",
        "\x00\x07止め\u200bて\x1b",
        "止めて" * 5000,
        "あ" * 10_000,
    ],
)
def test_odd_messages_never_raise(text):
    decision = classify(text, rank("request_marketing_optout", 0.6))
    assert isinstance(decision.types, list) and isinstance(decision.ambiguous, list)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("メールと電話", ["email", "phone"]),
        ("ﾒｰﾙとＥメール", ["email"]),
        ("メルマガ", ["email"]),
        ("DMとカタログ", ["post", "catalogue"]),
        ("ダイレクトメールとショートメール", ["post", "sms"]),
        ("ＳＭＳ", ["sms"]),
        ("はがきやチラシ", ["post"]),
        ("電話番号に届くSMS", ["sms"]),
        ("特にない", []),
    ],
)
def test_channels_are_normalised_whatever_the_customer_calls_them(text, expected):
    assert extract_channels(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GoogleとLINE", ["Google", "LINE"]),
        ("ｸﾞｰｸﾞﾙとかﾔﾌｰ", ["Google", "Yahoo"]),
        ("Ｆａｃｅｂｏｏｋ", ["Facebook"]),
        ("J:COMとジェイコム", ["JCOM"]),
        ("広告配信事業者", ["広告配信事業者"]),
        ("提携先とポイントサイト", ["提携先", "ポイントサイト"]),
        ("不正利用検知サービス提供会社", ["不正利用検知サービス提供会社"]),
        ("オンラインショップ", []),
        ("知らない会社", []),
    ],
)
def test_recipients_are_named_as_in_the_notice(text, expected):
    assert extract_recipients(text) == expected


NLU_FILE = Path(__file__).resolve().parents[1] / "data" / "nlu" / "requests.yml"


@pytest.mark.skipif(not NLU_FILE.is_file(), reason="no NLU training data in this checkout")
def test_cue_words_agree_with_the_nlu_training_examples():
    """A request example is never turned into another request by the cue words; at most its
    wording is found ambiguous (削除 alone), which is what the cues are for."""
    intents = request_intents()
    doc = yaml.safe_load(NLU_FILE.read_text(encoding="utf-8"))
    wrong: list[str] = []
    total = 0
    for block in doc.get("nlu", []):
        type_id = intents.get(block.get("intent"))
        if type_id is None:
            continue
        for line in block["examples"].splitlines():
            text = line.strip()[2:].strip()
            if not text:
                continue
            total += 1
            decision = classify(text, [(block["intent"], 0.9)])
            if decision.types == [type_id] or (
                not decision.types and type_id in decision.ambiguous
            ):
                continue
            wrong.append(f"{block['intent']}: {text} -> {decision}")
    assert total > 0
    assert len(wrong) <= total * 0.03, "\n".join(wrong)
