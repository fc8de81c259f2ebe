"""Forms meet real customers: a sentence, a demand or a question is not a name or an address.

Read with the tokenizer's parts of speech, so kana names that MeCab reads as verbs
(「やまだ たろう」 → やま|だ|たろう) still pass, while 「外部の業者に俺の情報流すのやめろ」
does not.
"""

from __future__ import annotations

import pytest

from madoguchi.requests.fields import (
    REASONS,
    Invalid,
    Valid,
    address_sentence_reason,
    name_sentence_reason,
    validate,
)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("外部の業者に俺の情報流すのやめろ", "sentence"),  # the customer
        ("DMを止めろ", "sentence"),
        ("個人情報を消して", "sentence"),
        ("名前を教えたくないです", "sentence"),
        ("いいたくない", "sentence"),
        ("やめろ", "sentence"),
        ("山田です。よろしくお願いします", "sentence"),
        ("私", "sentence"),
        ("なんで名前が必要なんですか", "question"),
        ("名前は？", "question"),
        ("山田 太郎 090 1234", "not_a_name"),
    ],
)
def test_an_answer_that_cannot_be_a_name_is_refused(answer: str, reason: str) -> None:
    assert validate("customer_name", answer) == Invalid(reason)
    assert reason in REASONS


@pytest.mark.parametrize(
    ("answer", "name"),
    [
        ("山田花子です", "山田花子"),
        ("田中一郎と申します", "田中一郎"),
        ("山田 太郎", "山田 太郎"),
        ("やまだ たろう", "やまだ たろう"),
        ("すぎた のぞむ", "すぎた のぞむ"),
        ("おかだ ゆかり", "おかだ ゆかり"),
        ("うえの こころ", "うえの こころ"),
        ("ジョン・スミス", "ジョン・スミス"),
        ("Taro Yamada", "Taro Yamada"),
        ("佐藤", "佐藤"),
        ("鈴木まさる", "鈴木まさる"),
    ],
)
def test_names_as_customers_write_them_are_taken(answer: str, name: str) -> None:
    assert validate("customer_name", answer) == Valid(name)


def test_too_many_words_are_a_sentence() -> None:
    assert name_sentence_reason("私は山田で東京に住んでいて会員です") == "sentence"
    assert name_sentence_reason("佐藤 花子") is None


@pytest.mark.parametrize(
    "answer",
    [
        "〒135-0016 東京都江東区東陽1-2-3 サンプルマンション101",
        "京都府京都市上京区烏丸通下立売上る 123",  # Kyoto's addresses say 上る: a verb, no clause
        "大阪府大阪市北区梅田1丁目",
    ],
)
def test_addresses_are_taken(answer: str) -> None:
    assert isinstance(validate("postal_address", answer), Valid)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("東京都に住んでるけど住所は言いたくない", "sentence"),
        ("東京都港区のどこか", "question"),
    ],
)
def test_a_sentence_that_names_a_place_is_not_an_address(answer: str, reason: str) -> None:
    assert validate("postal_address", answer) == Invalid(reason)
    assert address_sentence_reason(answer) == reason
