"""Specification of the PII finder and masker used on every chat message.

Card numbers and individual numbers (マイナンバー) must never be stored, so they are always
masked whole; other personal data is masked so that an operator can still recognise it.
"""

from __future__ import annotations

import re
import time
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from madoguchi.text.normalize import normalize_text
from madoguchi.text.pii import (
    CREDIT_CARD,
    EMAIL,
    LABELS,
    MEMBER_NUMBER,
    MY_NUMBER,
    NAME,
    PHONE,
    POSTAL_CODE,
    PiiSpan,
    contains_forbidden,
    find_pii,
    luhn_valid,
    mask,
    my_number_valid,
)

# ----------------------------------------------------------------- reference check digits
# Written independently of the module under test, from the published algorithms.


def luhn_check_digit(payload: str) -> str:
    """The digit that makes payload + digit pass Luhn."""
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:  # these positions are doubled once the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def with_luhn(payload: str) -> str:
    return payload + luhn_check_digit(payload)


def my_number_check(first11: str) -> str:
    """個人番号の検査用数字: 11 - (Σ Pn×Qn mod 11), 0 when the remainder is 0 or 1;
    Pn is the n-th digit from the right, Qn = n+1 (n ≤ 6) or n-5 (n ≥ 7)."""
    digits = [int(c) for c in reversed(first11)]
    total = sum(p * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(digits, start=1))
    remainder = total % 11
    return "0" if remainder <= 1 else str(11 - remainder)


def with_my_number_check(first11: str) -> str:
    return first11 + my_number_check(first11)


def wrong_last_digit(number: str) -> str:
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def group4(number: str, sep: str = " ") -> str:
    return sep.join(number[i : i + 4] for i in range(0, len(number), 4))


def to_full_width(text: str) -> str:
    return text.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))


VALID_MY_NUMBER = "123456789018"  # the number used in the official explanations
MY_NUMBER_2 = with_my_number_check("98765432109")
VISA_TEST = "4111111111111111"
CARD_2 = with_luhn("530011112222333")


def found(text: str) -> list[tuple[str, str]]:
    return [(s.label, s.text) for s in find_pii(text)]


# ----------------------------------------------------------------- check digits


def test_reference_numbers_are_what_they_claim():
    assert my_number_check("12345678901") == "8"
    assert luhn_check_digit("411111111111111") == "1"


@pytest.mark.parametrize("number", [VISA_TEST, "5555555555554444", "378282246310005", CARD_2])
def test_luhn_accepts_valid_card_numbers(number):
    assert luhn_valid(number)


@pytest.mark.parametrize("number", ["4111111111111112", "1234567812345678", "", "41a1"])
def test_luhn_rejects_invalid_card_numbers(number):
    assert not luhn_valid(number)


@pytest.mark.parametrize("number", [VALID_MY_NUMBER, MY_NUMBER_2, with_my_number_check("0" * 11)])
def test_my_number_check_digit_accepts_valid_numbers(number):
    assert my_number_valid(number)


@pytest.mark.parametrize(
    "number", [wrong_last_digit(VALID_MY_NUMBER), "12345678901", "1234567890180", "abcdefghijkl"]
)
def test_my_number_check_digit_rejects_invalid_numbers(number):
    assert not my_number_valid(number)


@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
@settings(max_examples=200)
def test_my_number_check_digit_agrees_with_the_official_algorithm(first11):
    for check in "0123456789":
        assert my_number_valid(first11 + check) == (check == my_number_check(first11))


# ----------------------------------------------------------------- phone numbers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("電話は090-1234-5678です", "090-1234-5678"),
        ("09012345678です", "09012345678"),
        ("携帯 080 1234 5678 まで", "080 1234 5678"),
        ("070-1234-5678", "070-1234-5678"),
        ("050-1234-5678", "050-1234-5678"),
        ("TEL:03-1234-5678", "03-1234-5678"),
        ("045-123-4567", "045-123-4567"),
        ("0466-12-3456", "0466-12-3456"),
        ("0312345678", "0312345678"),
        ("(03)1234-5678", "(03)1234-5678"),
        ("03(1234)5678", "03(1234)5678"),
        ("（０３）１２３４－５６７８", "（０３）１２３４－５６７８"),
        ("0120-123-456", "0120-123-456"),
        ("0570-064-555", "0570-064-555"),
        ("0800-123-4567", "0800-123-4567"),
        ("+81-90-1234-5678", "+81-90-1234-5678"),
        ("+81 3 1234 5678", "+81 3 1234 5678"),
        ("+819012345678", "+819012345678"),
        ("０９０ー１２３４ー５６７８", "０９０ー１２３４ー５６７８"),
        ("０９０－１２３４－５６７８", "０９０－１２３４－５６７８"),
        ("090−1234−5678", "090−1234−5678"),
        ("電話０９０\u3000１２３４\u3000５６７８", "０９０\u3000１２３４\u3000５６７８"),
        ("<td>090-1234-5678</td>", "090-1234-5678"),
        ("電話番号は090-1234-5678。", "090-1234-5678"),
    ],
)
def test_phone_numbers_are_found(text, expected):
    assert found(text) == [(PHONE, expected)]


@pytest.mark.parametrize(
    "text",
    [
        "2024-03-28に注文しました",
        "2024/03/28",
        "2023年3月28日",
        "3個注文しました",
        "合計12,800円（税込）",
        "注文番号は0312345678です",
        "ご注文番号：090-1234-5678",
        "商品コード0312345678",
        "10:00〜21:00",
        "1234567890",  # does not start with 0
        "090-1234-567",  # a digit short
        "03-1234-56789",
        "03-1234-5678-9",  # longer number
        "0312-34",
        "+811234567890",  # 0123… is no number
        "バージョン1.2.3",
        "192.168.0.1",
    ],
)
def test_things_that_are_not_phone_numbers(text):
    assert [s for s in find_pii(text) if s.label == PHONE] == []


def test_digits_that_nfkc_folds_are_digits_too():
    text = "𝟎𝟗𝟎-𝟏𝟐𝟑𝟒-𝟓𝟔𝟕𝟖"
    assert found(text) == [(PHONE, text)]
    assert mask(text) == "𝟎𝟗𝟎-****-𝟓𝟔𝟕𝟖"


def test_the_nearest_label_decides_a_phone_number():
    text = "注文番号12345の件ですが、電話は03-1234-5678です"
    assert found(text) == [(PHONE, "03-1234-5678")]


@pytest.mark.parametrize(
    "text",
    [
        "注文した商品の件で、090-1234-5678に連絡ください",
        "注文した商品について090-1234-5678まで",
        "住所と09012345678を変更したい",
        "注文番号は12345です、連絡は09012345678へ",
    ],
)
def test_a_label_that_does_not_name_the_number_does_not_hide_a_phone(text):
    assert [label for label, _ in found(text)] == [PHONE]


# ----------------------------------------------------------------- postal codes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("〒123-4567 東京都千代田区", "〒123-4567"),
        ("〒1234567", "〒1234567"),
        ("〒 123-4567", "〒 123-4567"),
        ("〒１２３－４５６７", "〒１２３－４５６７"),
        ("〒１２３ー４５６７", "〒１２３ー４５６７"),
        ("郵便番号は1234567です", "1234567"),
        ("郵便番号：123-4567", "123-4567"),
        ("住所は123-4567 大阪府大阪市", "123-4567"),
        ("123-4567 横浜市中区", "123-4567"),
        ("ZIP 123-4567", "123-4567"),
    ],
)
def test_postal_codes_are_found(text, expected):
    assert found(text) == [(POSTAL_CODE, expected)]


def test_a_postal_label_reaches_across_a_comma_in_the_same_sentence():
    text = "登録住所の郵便番号が１２３－４５６７になってますが、正しくは１２３－４５７６です"
    assert found(text) == [(POSTAL_CODE, "１２３－４５６７"), (POSTAL_CODE, "１２３－４５７６")]


@pytest.mark.parametrize(
    "text",
    ["123-4567", "注文番号123-4567", "1234567", "電話は123-4567", "123-4567-8 東京都"],
)
def test_bare_seven_digit_numbers_without_postal_context_are_not_postal_codes(text):
    assert found(text) == []


# ----------------------------------------------------------------- e-mail


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("メールは taro@example.com です", "taro@example.com"),
        ("taro.yamada+tag@mail.example.co.jp", "taro.yamada+tag@mail.example.co.jp"),
        ("メールはtaro_y-1@example.comです。", "taro_y-1@example.com"),
        ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ", "ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ"),
        ('<a href="mailto:a@b.jp">a@b.jp</a>', "a@b.jp"),
        ("...taro@example.com.", "taro@example.com"),
    ],
)
def test_email_addresses_are_found(text, expected):
    assert (EMAIL, expected) in found(text)
    assert all(label == EMAIL for label, _ in found(text))


@pytest.mark.parametrize("text", ["a@b", "@example.com", "taro@", "taro @ example.com", "@@"])
def test_incomplete_addresses_are_not_email(text):
    assert found(text) == []


# ----------------------------------------------------------------- member numbers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("会員番号はM12345678です", "M12345678"),
        ("M12345678", "M12345678"),
        ("ｍ１２３４５６７８", "ｍ１２３４５６７８"),
        ("会員番号: 12345678", "12345678"),
        ("会員ID 1234567890", "1234567890"),
        ("お客様番号 1234-5678", "1234-5678"),
        ("会員番号は0312345678です", "0312345678"),  # labelled: not a phone
    ],
)
def test_member_numbers_are_found(text, expected):
    assert found(text) == [(MEMBER_NUMBER, expected)]


@pytest.mark.parametrize(
    "text", ["12345678", "XM12345678", "M123456789", "M1234567", "注文番号M12345678"]
)
def test_things_that_are_not_member_numbers(text):
    assert found(text) == []


# ----------------------------------------------------------------- card numbers


@pytest.mark.parametrize(
    "text",
    [
        VISA_TEST,
        group4(VISA_TEST),
        group4(VISA_TEST, "-"),
        to_full_width(group4(CARD_2, "-")),
        "3782 822463 10005",
        "3530111333300000",
        with_luhn("6" * 12),  # 13 digits
        with_luhn("35" + "1" * 16),  # 19 digits
        group4(with_luhn("4" + "2" * 17)),  # 4-4-4-4-3
    ],
)
def test_luhn_valid_card_numbers_are_found(text):
    assert found(f"カードは{text}です") == [(CREDIT_CARD, text)]


@pytest.mark.parametrize(
    "text",
    [
        wrong_last_digit(VISA_TEST),
        group4(wrong_last_digit(VISA_TEST)),
        group4(wrong_last_digit(VISA_TEST), "-"),
        "1234567812345678",
    ],
)
def test_sixteen_digits_failing_luhn_are_nothing(text):
    assert found(text) == []
    assert contains_forbidden(text) == set()


def test_a_labelled_order_number_that_passes_luhn_is_still_treated_as_a_card():
    # Never store a card number: a label is no proof.
    assert found(f"注文番号 {VISA_TEST}") == [(CREDIT_CARD, VISA_TEST)]


# ----------------------------------------------------------------- individual numbers


@pytest.mark.parametrize(
    "text",
    [
        VALID_MY_NUMBER,
        group4(VALID_MY_NUMBER),
        group4(MY_NUMBER_2, "-"),
        to_full_width(VALID_MY_NUMBER),
        to_full_width(group4(MY_NUMBER_2, "ー")),
    ],
)
def test_my_numbers_with_a_valid_check_digit_are_found(text):
    assert found(f"マイナンバーは{text}です") == [(MY_NUMBER, text)]


@pytest.mark.parametrize(
    "text", [wrong_last_digit(VALID_MY_NUMBER), group4(wrong_last_digit(MY_NUMBER_2))]
)
def test_twelve_digits_failing_the_check_digit_are_nothing(text):
    assert found(text) == []


def test_a_my_number_window_inside_a_longer_digit_group_run_is_not_one():
    # 4111 1111 1111 has a valid check digit, but here it is the head of a 16-digit number
    # that fails Luhn.
    assert my_number_valid("411111111111")
    assert found("4111 1111 1111 1112") == []
    assert found("4111-1111-1111-1112") == []


def test_an_international_phone_number_is_not_a_my_number():
    number = next(
        with_my_number_check(f"8190{n:07d}")
        for n in range(1000)
        if with_my_number_check(f"8190{n:07d}")[-1] != "0"
    )
    assert my_number_valid(number)
    assert found(f"+{number}") == [(PHONE, f"+{number}")]


# ----------------------------------------------------------------- several kinds, offsets


def test_offsets_point_into_the_original_text():
    text = (
        "山田です。電話は０９０ー１２３４ー５６７８、メールは taro@example.com、"
        "〒１２３-４５６７ 東京都、会員番号M12345678です。😀"
    )
    spans = find_pii(text)
    # 「山田です。」 opening the message is a self-introduction: a name (people.py).
    assert [s.label for s in spans] == [NAME, PHONE, EMAIL, POSTAL_CODE, MEMBER_NUMBER]
    for s in spans:
        assert text[s.start : s.end] == s.text
    assert spans[0] == PiiSpan(NAME, 0, 2, "山田")
    assert spans[1] == PiiSpan(PHONE, 8, 21, "０９０ー１２３４ー５６７８")


def test_spans_are_sorted_and_do_not_overlap():
    text = f"{VISA_TEST} と 090-1234-5678 と {VALID_MY_NUMBER} と a@example.com"
    spans = find_pii(text)
    assert [s.label for s in spans] == [CREDIT_CARD, PHONE, MY_NUMBER, EMAIL]
    assert all(a.end <= b.start for a, b in pairwise(spans))


def test_contains_forbidden_reports_cards_and_my_numbers_only():
    assert contains_forbidden(f"カード{VISA_TEST}とマイナンバー{VALID_MY_NUMBER}") == {
        CREDIT_CARD,
        MY_NUMBER,
    }
    assert contains_forbidden(f"カード {group4(VISA_TEST)}") == {CREDIT_CARD}
    assert contains_forbidden("電話090-1234-5678、taro@example.com") == set()
    assert contains_forbidden("") == set()


def test_a_card_number_hidden_inside_a_longer_span_is_still_forbidden_and_masked_whole():
    text = f"{VISA_TEST}@example.com"
    assert contains_forbidden(text) == {CREDIT_CARD}
    assert VISA_TEST not in mask(text)
    assert "4***" not in mask(text)


# ----------------------------------------------------------------- masking


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("電話は090-1234-5678です", "電話は090-****-5678です"),
        ("電話は０９０ー１２３４ー５６７８です", "電話は０９０ー****ー５６７８です"),
        ("09012345678", "090****5678"),
        ("0312345678", "03****5678"),
        ("(03)1234-5678", "(03)****-5678"),
        ("+81-90-1234-5678", "+81-90-****-5678"),
        ("メールは taro@example.com です", "メールは t***@example.com です"),
        ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ", "ｔ***＠ｅｘａｍｐｌｅ．ｃｏｍ"),
        ("〒123-4567 東京都", "〒***-**67 東京都"),
        ("会員番号M12345678", "会員番号M****5678"),
        (f"カード{group4(VISA_TEST)}です", "カード［カード番号］です"),
        (f"番号は{group4(VALID_MY_NUMBER)}です", "番号は［個人番号］です"),
        ("個人情報の開示をお願いします", "個人情報の開示をお願いします"),
    ],
)
def test_partial_masking_keeps_structure_but_hides_the_middle(text, masked):
    assert mask(text) == masked


def test_label_masking_replaces_every_span_with_its_label():
    text = (
        f"佐藤花子と申します。電話090-1234-5678 メールtaro@example.com 〒123-4567 "
        f"東京都江東区東陽1-2-3 会員番号M12345678 カード{VISA_TEST} マイナンバー{VALID_MY_NUMBER}"
    )
    assert mask(text, style="label") == (
        "［氏名］と申します。電話［電話番号］ メール［メールアドレス］ ［郵便番号］ ［住所］ "
        "会員番号［会員番号］ カード［カード番号］ マイナンバー［個人番号］"
    )
    assert set(LABELS.values()) == {
        "［電話番号］",
        "［メールアドレス］",
        "［郵便番号］",
        "［会員番号］",
        "［カード番号］",
        "［個人番号］",
        "［氏名］",
        "［住所］",
    }


def test_cards_and_my_numbers_are_never_partially_shown():
    for text in (VISA_TEST, group4(CARD_2, "-"), VALID_MY_NUMBER, group4(MY_NUMBER_2)):
        masked = mask(text)
        assert masked in (LABELS[CREDIT_CARD], LABELS[MY_NUMBER])
        assert not re.search(r"\d", masked)


IDEMPOTENCE_SAMPLES = [
    "電話は090-1234-5678、メールは taro.yamada@example.co.jp です。",
    "〒１２３－４５６７ 東京都千代田区1-2-3、会員番号M12345678",
    f"カード {group4(VISA_TEST)} とマイナンバー {group4(VALID_MY_NUMBER)}",
    "+81 90 1234 5678 / (03)1234-5678 / 0120-123-456",
    "注文番号は0312345678、2024-03-28に3個、12,800円",
]


@pytest.mark.parametrize("text", IDEMPOTENCE_SAMPLES)
@pytest.mark.parametrize("style", ["partial", "label"])
def test_masking_is_idempotent(text, style):
    once = mask(text, style=style)
    assert mask(once, style=style) == once
    assert find_pii(once) == []


def test_unknown_mask_style_is_an_error():
    with pytest.raises(ValueError, match="style"):
        mask("090-1234-5678", style="stars")


# ----------------------------------------------------------------- robustness and speed


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\x00\x01\x1b[31m赤\x7f",
        "👨\u200d👩\u200d👧\u200d👦👍🏽" * 50,
        "<script>alert('090-1234-5678')</script><br/>&nbsp;",
        "\ud800\udfff",
        "@" * 1000,
        "0" * 5000,
        "1-" * 3000,
        "a." * 3000 + "@example.com",
        "٠٩٠-١٢٣٤-٥٦٧٨ +٨١٩٠١٢٣٤٥٦٧٨ ०९०१२३४५६७८",  # digits NFKC does not fold
    ],
)
def test_odd_input_does_not_break_anything(text):
    spans = find_pii(text)
    for s in spans:
        assert text[s.start : s.end] == s.text
    mask(text)
    mask(text, style="label")
    contains_forbidden(text)


def test_a_hundred_kilobyte_message_is_handled():
    unit = "個人情報の開示をお願いします。電話は090-1234-5678、メールは a@example.com です。\n"
    text = (unit * (100_000 // len(unit) + 1))[:100_000]
    started = time.perf_counter()
    spans = find_pii(text)
    assert time.perf_counter() - started < 15
    assert len([s for s in spans if s.label == PHONE]) == text.count("090-1234-5678")
    assert "090-1234-5678" not in mask(text)


def test_an_ordinary_message_is_fast():
    find_pii("warm up 090-1234-5678")
    started = time.perf_counter()
    for i in range(50):  # distinct texts: results are cached per text
        find_pii(f"先日注文した件({i})で、電話番号を090-1234-5678に変更したいです。")
    assert (time.perf_counter() - started) / 50 < 0.02


# ----------------------------------------------------------------- properties

FILLER = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=("Cs",)),
        st.sampled_from(list("0123456789０１２３-ー @.〒会員番号電話 \u3000\n")),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FILLER)
def test_find_and_mask_never_raise_and_spans_are_well_formed(text):
    spans = find_pii(text)
    for s in spans:
        assert s.label in LABELS
        assert text[s.start : s.end] == s.text
    assert all(a.end <= b.start for a, b in pairwise(spans))
    assert isinstance(mask(text), str)
    assert isinstance(mask(text, style="label"), str)


def _format(number: str, style: str) -> str:
    if style == "spaced":
        return group4(number)
    if style == "dashed":
        return group4(number, "-")
    if style == "full-width":
        return to_full_width(group4(number, "-"))
    return number


secrets = st.one_of(
    st.builds(
        lambda brand, rest: with_luhn(brand + rest),
        st.sampled_from("3456"),
        st.text(alphabet="0123456789", min_size=14, max_size=14),
    ),
    st.text(alphabet="0123456789", min_size=11, max_size=11).map(with_my_number_check),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FILLER, secrets, st.sampled_from(["plain", "spaced", "dashed", "full-width"]), FILLER)
def test_mask_never_lets_a_valid_card_or_my_number_survive(before, number, style, after):
    secret = _format(number, style)
    text = f"{before}\n{secret}\n{after}"
    assert contains_forbidden(text) & {CREDIT_CARD, MY_NUMBER}
    for masked in (mask(text), mask(text, style="label")):
        assert secret not in masked
        folded = re.sub(r"[ \-]", "", normalize_text(masked))
        assert number not in folded


FRAGMENTS = st.lists(
    st.sampled_from(
        [
            "090-1234-5678",
            "０３（１２３４）５６７８",
            "電話",
            "は",
            "、",
            " ",
            "\u3000",
            "\n",
            "〒",
            "123",
            "-",
            "4567",
            "会員番号",
            "M12345678",
            "taro@example.com",
            VISA_TEST,
            group4(VALID_MY_NUMBER),
            "東京都",
            "注文番号",
            "1234",
            "５６７８",
            "0120",
            "+81",
        ]
    ),
    max_size=12,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FRAGMENTS, st.sampled_from(["partial", "label"]))
def test_masking_is_idempotent_even_on_glued_fragments(parts, style):
    once = mask("".join(parts), style=style)
    assert mask(once, style=style) == once
