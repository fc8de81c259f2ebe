"""The PII gate finds numbers and addresses however they are typed (issue 15, item 4).

Card and individual numbers are never stored: separated by dots, commas, underscores or new
lines, grouped 8-8, 6-6 or 3-3-3-3, one digit at a time, in kanji numerals, or split over two
messages. Phone numbers with dots and e-mail addresses in other scripts are contact data like
any other. Each case goes through the gate (with and without the spaCy finder) and the label
masker the review uses.
"""

from __future__ import annotations

import pytest

from madoguchi.text.pii import contains_forbidden, mask, mask_forbidden
from madoguchi.text.pii.contact import conceal_contact, placeholders, reveal
from madoguchi.text.pii.gate import Gate
from madoguchi.text.pii.loose import split_forbidden

CARD = "4111111111111111"
MY_NO = "123456789018"  # a valid individual number (check digit 8)

FORBIDDEN_FORMS = [
    "4111.1111.1111.1111",
    "4111,1111,1111,1111",
    "4111_1111_1111_1111",
    "4111\n1111\n1111\n1111",
    "41111111-11111111",  # 8-8
    "411111 1111111111",  # 6-10
    "411 111 111 111 1111",  # 3-3-3-3-4
    "4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1",  # one digit at a time
    "四一一一一一一一一一一一一一一一",  # kanji numerals
    "四一一一 一一一一 一一一一 一一一一",
    "１２３４．５６７８．９０１８",  # full-width, dots: an individual number
    "123456-789018",  # 6-6
    "123 456 789 018",  # 3-3-3-3
    "一二三四五六七八九〇一八",  # kanji with 〇
]


@pytest.mark.parametrize("form", FORBIDDEN_FORMS)
@pytest.mark.parametrize("finder", [True, False], ids=["finder", "check_digits_only"])
def test_a_card_or_individual_number_in_any_form_is_found_and_masked(form, finder):
    text = f"番号は{form}です"
    gate = Gate(None) if not finder else None
    found = gate.contains(text) if gate else contains_forbidden(text)
    masked, _ = gate.mask(text) if gate else mask_forbidden(text)
    assert found, form
    assert masked.startswith("番号は") and masked.endswith("です")
    assert not any(ch.isdigit() or ch in "〇一二三四五六七八九" for ch in masked[3:-2]), masked
    assert not contains_forbidden(masked)


def test_ordinary_numbers_are_left_alone():
    for text in ["注文は3点で、合計12,800円です", "2024.03.15 10:30に電話しました",
                 "1234 5678 9012 3456", "090-1234-5678", "一二三"]:
        assert contains_forbidden(text) == set(), text


@pytest.mark.parametrize("text,kept", [
    ("電話は090.1234.5678です", "電話は［電話番号］です"),
    ("メールは日本語@例え.jp です", "メールは［メールアドレス］ です"),
    ("user@bücher.de に送ってください", "［メールアドレス］ に送ってください"),
])
def test_dotted_phones_and_international_addresses_are_contact_data(text, kept):
    assert mask(text, style="label") == kept


@pytest.mark.parametrize("first,second", [
    ("カード番号は4111 1111", "1111 1111です"),
    ("41111111", "11111111"),
    ("個人番号は1234 5678", "9018です"),
])
def test_a_number_split_over_two_messages_is_found_in_both(first, second):
    assert not contains_forbidden(first) and not contains_forbidden(second)
    start, end = split_forbidden(first, second)
    assert contains_forbidden(first[start:] + second[:end])
    assert not any(ch.isdigit() for ch in first[:start] + second[end:])


def test_two_messages_that_only_look_joined_are_not_a_number():
    assert split_forbidden("電話090-1234", "5678です") is None
    assert split_forbidden("こんにちは", CARD[:8]) is None


def test_contact_data_becomes_placeholders_that_reveal_only_with_the_values():
    text = "電話は090-1234-5678、メールはtaro@example.jpです"
    concealed, items = conceal_contact(text)
    assert "090" not in concealed and "taro" not in concealed
    assert [i.kind for i in items] == ["PHONE", "EMAIL"]
    assert [t for _, t in placeholders(concealed)] == [i.token for i in items]
    assert reveal(concealed, {i.token: i.value for i in items}) == text
    assert reveal(concealed, {}) == concealed  # another conversation's ids open nothing
    whole, [name] = conceal_contact("山田花子です", "customer_name")
    assert whole == name.placeholder and name.kind == "NAME" and name.value == "山田花子です"
