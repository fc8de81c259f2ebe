"""Assist passages: the notice's own words for a customer's message, with a confidence."""

from __future__ import annotations

from pathlib import Path

import pytest

from madoguchi.assist.passages import (
    REASON_EMPTY,
    REASON_NO_CONTENT,
    PassageFinder,
    calibrate,
    verbatim,
)
from madoguchi.notice import load_notice

NOTICE_DIR = Path(__file__).resolve().parents[1] / "data" / "notice"


@pytest.fixture(scope="module")
def finder() -> PassageFinder:
    return PassageFinder(load_notice(NOTICE_DIR))


def test_a_question_about_direct_mail_gets_section_5_first_in_the_notice_words(
    finder: PassageFinder,
) -> None:
    result = finder.suggest("DMやカタログの案内を止めたいのですが")
    top = result.passages[0]
    assert top.section_id == "5"
    assert top.citation == finder.notice.get("5").citation
    assert "速やかに、ご案内を停止させていただきます。" in top.quote
    assert top.reply.endswith(f"出典: {top.citation}")


@pytest.mark.parametrize(
    ("message", "section"),
    [
        ("手数料はかかりますか", "4.2"),
        ("受付時間は何時から何時までですか", "7"),
        ("海外で個人データを扱っていますか", "6.7"),
        ("代理人でも請求できますか", "4.2"),
    ],
)
def test_questions_find_the_section_that_answers_them(
    finder: PassageFinder, message: str, section: str
) -> None:
    assert finder.suggest(message).passages[0].section_id == section


def test_top_k_passages_best_first_each_verbatim_from_the_notice(finder: PassageFinder) -> None:
    for message in ["開示請求の手続きを教えて", "Googleに私の情報を渡していますか",
                    "個人情報の利用目的は何ですか", "セキュリティ対策はどうなっていますか"]:
        passages = finder.suggest(message).passages
        assert 1 <= len(passages) <= 3
        assert [p.confidence for p in passages] == sorted(
            (p.confidence for p in passages), reverse=True)
        for p in passages:
            assert p.section_id in finder.notice
            assert 0.0 <= p.confidence <= 1.0
            assert p.quote and verbatim(p.quote, finder.notice, p.section_id), p


def test_k_limits_the_number_of_passages(finder: PassageFinder) -> None:
    assert len(finder.suggest("個人情報の開示と訂正と利用停止", k=1).passages) == 1
    assert len(finder.suggest("個人情報の開示と訂正と利用停止", k=5).passages) == 5


def test_the_fee_question_quotes_the_notice_and_invents_no_figure(finder: PassageFinder) -> None:
    top = finder.suggest("開示の手数料はいくらですか").passages[0]
    assert "手数料が必要となる場合" in top.quote
    assert not any(ch.isdigit() for ch in top.quote + top.reply.split("出典")[0])


@pytest.mark.parametrize(
    ("message", "reason"),
    [("", REASON_EMPTY), ("   ", REASON_EMPTY), ("こんにちは", REASON_NO_CONTENT),
     ("ありがとう！", REASON_NO_CONTENT), ("はい", REASON_NO_CONTENT)],
)
def test_a_message_without_content_words_gets_an_empty_result_with_a_reason(
    finder: PassageFinder, message: str, reason: str
) -> None:
    result = finder.suggest(message)
    assert not result and result.passages == []
    assert result.reason == reason


def test_confidence_is_monotone_in_the_score_and_bounded() -> None:
    values = [calibrate(s / 20) for s in range(-2, 25)]
    assert values == sorted(values)
    assert calibrate(0.0) == 0.0 and all(0.0 <= v <= 1.0 for v in values)
    assert calibrate(0.35) > 0.8 > calibrate(0.15)


def test_a_clear_question_is_confident_and_a_vague_one_is_not(finder: PassageFinder) -> None:
    clear = finder.suggest("海外で個人データを取り扱っていますか").passages[0]
    assert clear.confidence >= 0.8
    vague = finder.suggest("天気の話ですが傘は必要ですか").passages
    assert not vague or vague[0].confidence < clear.confidence
