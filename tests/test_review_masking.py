"""What the review and retention hide of a conversation (review/masking.py).

A slot value the masker learns is replaced in every later text, the bot's included: only a
value that can be personal data for that slot is learnt (issue 15, item 13), never a
non-answer such as 「なし」 for the member number, which would rewrite 「問題なしです」.
"""

from __future__ import annotations

import pytest

from madoguchi.review.masking import ConversationMasker, is_personal_value


@pytest.mark.parametrize(
    ("slot", "value"),
    [
        ("member_number", "なし"),
        ("member_number", "不明"),
        ("member_number", "わからない"),
        ("member_number", "ありません"),
        ("member_number", "会員ではない"),  # no digits: no member number
        ("customer_name", "不明"),
        ("customer_name", "なしです。"),
        ("postal_address", "わかりません"),
        ("phone", "ない"),
        ("phone", "携帯のみ"),
        ("email", "持っていない"),
        ("correction_value", "未定"),
    ],
)
def test_a_value_that_is_no_personal_data_is_not_learnt(slot: str, value: str) -> None:
    masker = ConversationMasker()
    masker.learn(slot, value)
    assert masker.known == {}
    assert not is_personal_value(slot, value)


def test_a_member_number_of_none_does_not_rewrite_the_bot_text() -> None:
    masker = ConversationMasker()
    masker.learn("member_number", "なし")
    assert masker.text("問題なしです") == "問題なしです"


@pytest.mark.parametrize(
    ("slot", "value", "label"),
    [
        ("member_number", "M12345678", "［会員番号］"),
        ("member_number", "１２３４５６７８", "［会員番号］"),
        ("customer_name", "山田花子", "［氏名］"),
        ("phone", "090-1234-5678", "［電話番号］"),
        ("email", "hanako@example.jp", "［メールアドレス］"),
        ("postal_address", "江東区東陽1-2-3", "［住所］"),
    ],
)
def test_personal_data_is_still_learnt_and_hidden(slot: str, value: str, label: str) -> None:
    masker = ConversationMasker()
    masker.learn(slot, value)
    assert masker.text(f"ご登録は{value}ですね") == f"ご登録は{label}ですね"
