"""Form answers: what is accepted, how it is stored, and what is refused with which reason."""

from __future__ import annotations

import pytest

from madoguchi.requests import fields
from madoguchi.requests.fields import (
    FORBIDDEN_RESPONSE,
    REASONS,
    VALIDATORS,
    Invalid,
    Valid,
    contains_forbidden,
    parse_yes_no,
    response_name,
    scrub_forbidden,
    validate,
)

CARD = "4111 1111 1111 1111"  # Luhn-valid test card
MY_NUMBER = "123456789018"  # valid check digit


def ok(slot: str, text: str):
    result = validate(slot, text)
    assert isinstance(result, Valid), (slot, text, result)
    assert result.ok
    return result.value


def refused(slot: str, text: str) -> str:
    result = validate(slot, text)
    assert isinstance(result, Invalid), (slot, text, result)
    assert not result.ok
    assert result.reason in REASONS
    return result.reason


# --- every validator -------------------------------------------------------------------------


@pytest.mark.parametrize("slot", sorted(VALIDATORS))
@pytest.mark.parametrize(
    "text",
    [
        f"カード番号は{CARD}です",
        f"マイナンバーは{MY_NUMBER}です",
        "４１１１－１１１１－１１１１－１１１１",
        "1234 5678 9018",
    ],
)
def test_every_field_refuses_a_card_number_or_an_individual_number(slot, text):
    assert refused(slot, text) == "forbidden_number"
    assert response_name(slot, "forbidden_number") == FORBIDDEN_RESPONSE


@pytest.mark.parametrize("slot", sorted(VALIDATORS))
@pytest.mark.parametrize("text", ["", "   ", "\u3000\n\t", None, "😀🙏", "\x00\x1b"])
def test_every_field_refuses_nothing_typed_as_empty(slot, text):
    assert refused(slot, text) == "empty"


@pytest.mark.parametrize("slot", sorted(VALIDATORS))
@pytest.mark.parametrize(
    "text",
    [
        "あ" * 10_000,
        "😀" * 10_000,
        "<script>alert(1)</script>" * 400,
        "山\x00田\x07太\u200b郎\x1b[31m",
        "<b>山田</b>",
        "\ud800",
        "a\u0301" * 3000,
    ],
)
def test_every_field_handles_huge_emoji_html_and_control_input_without_raising(slot, text):
    result = validate(slot, text)
    assert isinstance(result, (Valid, Invalid))
    if isinstance(result, Invalid):
        assert result.reason in REASONS


def test_reasons_map_to_the_re_ask_responses_of_the_rasa_layer():
    assert response_name("phone", "bad_phone") == "utter_invalid_phone"
    assert response_name("email", "too_long") == "utter_invalid_email"
    assert response_name("email", "forbidden_number") == "utter_forbidden_number"


# --- customer_name ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("山田太郎", "山田太郎"),
        ("山田太郎です", "山田太郎"),
        ("山田 太郎と申します。", "山田 太郎"),
        ("私は佐藤花子です", "佐藤花子"),
        ("名前は鈴木一郎といいます", "鈴木一郎"),
        ("  髙橋　健  ", "髙橋 健"),
        ("ﾔﾏﾀﾞﾀﾛｳ", "ヤマダタロウ"),
        ("John Smith", "John Smith"),
        ("山田太郎😊", "山田太郎"),
        ("です", "です"),
    ],
)
def test_a_name_is_stored_without_polite_endings(text, expected):
    assert ok("customer_name", text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("12345", "not_a_name"),
        ("１２３４５", "not_a_name"),
        ("taro@example.com", "not_a_name"),
        ("090-1234-5678", "not_a_name"),
        ("!!!???", "empty"),
        ("山" * 51, "too_long"),
        ("<b>山田</b>", "markup"),
    ],
)
def test_a_name_that_is_not_a_name_is_refused(text, reason):
    assert refused("customer_name", text) == reason


# --- phone -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("090-1234-5678", "090-1234-5678"),
        ("09012345678", "090-1234-5678"),
        ("０９０１２３４５６７８", "090-1234-5678"),
        ("０９０ー１２３４ー５６７８", "090-1234-5678"),
        ("090ｰ1234ｰ5678", "090-1234-5678"),
        ("090−1234−5678", "090-1234-5678"),
        ("090 1234 5678", "090-1234-5678"),
        ("+81 90-1234-5678", "090-1234-5678"),
        ("+81(0)90-1234-5678", "090-1234-5678"),
        ("＋８１９０１２３４５６７８", "090-1234-5678"),
        ("080-1111-2222", "080-1111-2222"),
        ("070-1111-2222", "070-1111-2222"),
        ("050-1234-5678", "050-1234-5678"),
        ("03-1234-5678", "03-1234-5678"),
        ("0312345678", "03-1234-5678"),
        ("(03)1234-5678", "03-1234-5678"),
        ("03(1234)5678", "03-1234-5678"),
        ("0451234567", "045-123-4567"),
        ("0466-12-3456", "0466-12-3456"),
        ("0120-000-123", "0120-000-123"),
        ("0120000123", "0120-000-123"),
        ("0570-000-111", "0570-000-111"),
        ("0800-123-4567", "0800-123-4567"),
        ("電話番号は090-1234-5678です", "090-1234-5678"),
        ("携帯：090 1234 5678 (平日のみ)", "090-1234-5678"),
    ],
)
def test_japanese_phone_numbers_are_stored_hyphenated(text, expected):
    assert ok("phone", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "1234",
        "090-1234-567",
        "0901234567",
        "090123456789",
        "1234567890",
        "0012345678",
        "+1 212 555 1234",
        "090-1234-5678 と 03-1234-5678",
        "電話はありません",
    ],
)
def test_what_is_not_one_japanese_phone_number_is_refused(text):
    assert refused("phone", text) == "bad_phone"


# --- email -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("taro@example.com", "taro@example.com"),
        ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ", "taro@example.com"),
        ("Taro.Yamada@Example.CO.JP", "Taro.Yamada@example.co.jp"),
        ("メールは taro+shop@example.jp です", "taro+shop@example.jp"),
        ("taro..yamada.@docomo.ne.jp", "taro..yamada.@docomo.ne.jp"),
        ("taro_1980@mail.example-isp.ne.jp", "taro_1980@mail.example-isp.ne.jp"),
    ],
)
def test_an_email_address_is_accepted_however_it_is_typed(text, expected):
    assert ok("email", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "taro@",
        "@example.com",
        "taro@example",
        "taro@example.c",
        "taro example.com",
        "あいう@example.com",
        "a@example.com と b@example.com",
        "taroーyamada@example.com",
    ],
)
def test_what_is_not_one_email_address_is_refused(text):
    assert refused("email", text) == "bad_email"


# --- postal_address --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("東京都江東区東陽7-2-18", "東京都江東区東陽7-2-18"),
        ("〒135-0016 東陽7-2-18", "〒135-0016 東陽7-2-18"),
        ("横浜市中区山下町１－１", "横浜市中区山下町１－１"),
        ("  東京都　 江東区\n東陽七丁目2番18号  ", "東京都 江東区 東陽七丁目2番18号"),
        ("北海道札幌市中央区北1条西2丁目", "北海道札幌市中央区北1条西2丁目"),
    ],
)
def test_an_address_is_kept_as_typed_with_tidy_spaces(text, expected):
    assert ok("postal_address", text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("東京", "too_short"),
        ("あいうえおかきく", "bad_address"),
        ("〒135-0016", "bad_address"),
        ("09012345678", "bad_address"),
        ("taro@example.com 東京都", "bad_address"),
        ("東京都" + "あ" * 200, "too_long"),
    ],
)
def test_an_answer_that_is_not_an_address_is_refused(text, reason):
    assert refused("postal_address", text) == reason


# --- member_number ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("M12345678", "M12345678"),
        ("ｍ１２３４５６７８", "M12345678"),
        ("会員番号はM12345678です", "M12345678"),
        ("12345678", "12345678"),
        ("1234-5678", "12345678"),
        ("1234567890", "1234567890"),
        ("会員番号は 1234 5678 です", "12345678"),
    ],
)
def test_a_member_number_is_accepted_in_the_documented_format(text, expected):
    assert ok("member_number", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "なし",
        "ありません",
        "わからない",
        "分かりません",
        "不明",
        "持っていません",
        "会員ではないです",
    ],
)
def test_no_member_number_is_a_valid_answer(text):
    assert ok("member_number", text) is None


def test_the_no_member_number_marker_the_form_stores_reads_back_as_none():
    assert validate("member_number", fields.NO_MEMBER_NUMBER) == Valid(None)


@pytest.mark.parametrize(
    "text", ["1234", "12345678901", "M1234", "わかります", "12345678と87654321"]
)
def test_a_wrong_member_number_is_refused(text):
    assert refused("member_number", text) == "bad_member_number"


# --- preferred_time --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("平日の午前中", "平日の午前中"),
        ("18時以降", "18時以降"),
        ("１８時以降", "18時以降"),
        ("いつでも", "いつでも"),
        ("土日の10時〜12時", "土日の10時〜12時"),
    ],
)
def test_a_preferred_time_is_free_text_normalised(text, expected):
    assert ok("preferred_time", text) == expected


def test_a_preferred_time_over_100_characters_is_refused():
    assert refused("preferred_time", "平日" * 51) == "too_long"


# --- yes / no, agent, membership -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("はい", True),
        ("ええ", True),
        ("お願いします", True),
        ("そうです", True),
        ("うん", True),
        ("OK", True),
        ("ｏｋ", True),
        ("はい、お願いします", True),
        ("違いません", True),
        ("いいえ", False),
        ("違います", False),
        ("いや", False),
        ("結構です", False),
        ("そうではありません", False),
        ("必要ありません", False),
        ("希望しません", False),
        ("わからない", None),
        ("いいえ、お願いします", None),
        ("", None),
        ("こんにちは", None),
    ],
)
def test_yes_and_no_are_read_from_japanese_answers(text, expected):
    assert parse_yes_no(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("本人です", False),
        ("自分のことです", False),
        ("代理ではありません", False),
        ("代理人です", True),
        ("家族の代わりです", True),
        ("母の代理で申し込みます", True),
        ("本人ではなく代理人です", True),
        ("はい", True),
        ("いいえ", False),
        ("はい、代理です", True),
        ("いいえ、本人です", False),
    ],
)
def test_agent_or_self_is_read_from_the_answer(text, expected):
    assert ok("is_agent", text) is expected


def test_an_agent_answer_that_says_neither_is_refused():
    assert refused("is_agent", "うーん") == "unclear"
    assert refused("is_agent", "わかりません") == "unclear"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("はい", True),
        ("退会します", True),
        ("退会も希望します", True),
        ("いいえ", False),
        ("退会はしません", False),
        ("退会は希望しません", False),
        ("会員は続けたい", False),
        ("退会しないでください", False),
        ("結構です", False),
    ],
)
def test_whether_to_cancel_the_membership_is_read_from_the_answer(text, expected):
    assert ok("cancel_membership", text) is expected


def test_an_unclear_membership_answer_is_refused():
    assert refused("cancel_membership", "わからない") == "unclear"
    assert refused("cancel_membership", "どうしよう") == "unclear"


# --- suspension_scope ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "scope"),
    [
        ("全部", "all"),
        ("すべてのデータ", "all"),
        ("一切使わないで", "all"),
        ("アカウントごと", "all"),
        ("メールアドレスだけ", "specific"),
        ("住所以外すべて", "specific"),
        ("広告への利用", "specific"),
    ],
)
def test_the_scope_of_a_suspension_is_all_or_specific_with_the_words(text, scope):
    value = ok("suspension_scope", text)
    assert value["scope"] == scope
    assert value["detail"]


def test_a_scope_answer_that_is_only_yes_or_unknown_is_refused():
    assert refused("suspension_scope", "はい") == "unclear"
    assert refused("suspension_scope", "わからない") == "unclear"


# --- correction, recipients, channels, complaint ---------------------------------------------


def test_correction_item_and_value_are_free_text_up_to_200_characters():
    assert ok("correction_item", "住所") == "住所"
    assert ok("correction_value", "東京都江東区東陽７－２－１８") == "東京都江東区東陽7-2-18"
    assert refused("correction_value", "あ" * 201) == "too_long"
    assert refused("correction_item", "<img src=x onerror=alert(1)>") == "markup"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GoogleとLINE", ["Google", "LINE"]),
        ("ｸﾞｰｸﾞﾙ", ["Google"]),
        ("広告の会社", ["広告配信事業者"]),
        ("全部", ["すべての第三者提供先"]),
        ("知らない会社", ["知らない会社"]),
    ],
)
def test_recipients_are_named_or_kept_in_the_customers_words(text, expected):
    assert ok("third_party_recipients", text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("メールとカタログ", ["email", "catalogue"]),
        ("ﾒﾙﾏｶﾞ", ["email"]),
        ("Ｅメール", ["email"]),
        ("DM", ["post"]),
        ("電話もメールも全部", ["phone", "email"]),
        ("全部", ["phone", "email", "post", "catalogue", "sms"]),
        ("すべて止めて", ["phone", "email", "post", "catalogue", "sms"]),
    ],
)
def test_marketing_channels_are_normalised_and_all_means_every_channel(text, expected):
    assert ok("marketing_channels", text) == expected


def test_marketing_channels_must_name_a_channel():
    assert refused("marketing_channels", "よくわからない") == "no_channel"


def test_complaint_details_keep_the_customers_lines_and_refuse_over_2000_characters():
    text = "オペレーターの対応がひどい。\r\n\r\n\r\n\r\n改善してください😡"
    assert ok("complaint_details", text) == "オペレーターの対応がひどい。\n\n改善してください😡"
    assert ok("complaint_details", "<b>ひどい</b>") == "<b>ひどい</b>"  # escaped on output
    assert ok("complaint_details", "あ" * 2000) == "あ" * 2000
    assert refused("complaint_details", "あ" * 2001) == "too_long"


# --- the forbidden-number guard itself -------------------------------------------------------


def test_forbidden_numbers_are_found_and_scrubbed_from_any_text():
    text = f"カードは{CARD}、番号は{MY_NUMBER}、電話090-1234-5678"
    assert contains_forbidden(text) == {"CREDIT_CARD", "MY_NUMBER"}
    scrubbed = scrub_forbidden(text)
    assert not contains_forbidden(scrubbed)
    assert "1111" not in scrubbed and MY_NUMBER not in scrubbed
    assert "090-1234-5678" in scrubbed  # a phone number is not forbidden


def test_numbers_that_fail_the_check_digit_are_not_forbidden():
    assert contains_forbidden("4111 1111 1111 1112") == set()
    assert contains_forbidden("123456789012") == set()
    assert contains_forbidden("090-1234-5678") == set()


def test_without_the_pii_module_the_built_in_checks_still_refuse_the_numbers(monkeypatch):
    monkeypatch.setattr(fields, "pii_module", lambda: None)
    assert contains_forbidden(f"カード{CARD}") == {"CREDIT_CARD"}
    assert contains_forbidden(f"番号 {MY_NUMBER[:4]}-{MY_NUMBER[4:8]}-{MY_NUMBER[8:]}") == {
        "MY_NUMBER"
    }
    assert validate("phone", CARD) == Invalid("forbidden_number")
    assert "[CREDIT_CARD]" in scrub_forbidden(f"カード{CARD}です")
