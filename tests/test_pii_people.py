"""Names and addresses in free text (text/pii/people.py; issue 15, item 4).

Found only where the context leaves little doubt: a false positive hides the customer's own
words from the NLU and the review, so the true negatives here matter as much as the finds.
"""

from __future__ import annotations

import pytest

from madoguchi.text.pii import ADDRESS, NAME, PHONE, POSTAL_CODE, find_pii, mask
from madoguchi.text.pii.contact import conceal_contact


def found(text: str) -> list[tuple[str, str]]:
    return [(s.label, s.text) for s in find_pii(text)]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("佐藤花子と申します。", "佐藤花子"),
        ("お世話になります。高橋健太と申します", "高橋健太"),
        ("私は田中といいます", "田中"),
        ("わたしはさとうはなこと申します", "さとうはなこ"),
        ("ABC社の佐藤と申します", "佐藤"),
        ("母の代理で、鈴木一郎と言います", "鈴木一郎"),
        ("名前は山田太郎です", "山田太郎"),
        ("お名前は渡辺陽菜です。", "渡辺陽菜"),
        ("氏名：ヤマダタロウ", "ヤマダタロウ"),
        ("氏名: 山田 太郎\n住所変更です", "山田 太郎"),
        ("山田です。住所変更をお願いします", "山田"),
        ("こんにちは、鈴木です。", "鈴木"),
        ("先日お電話しました。長谷川です。", "長谷川"),
    ],
)
def test_a_name_the_customer_gives_as_theirs_is_found(text: str, name: str) -> None:
    assert found(text) == [(NAME, name)]


@pytest.mark.parametrize(
    "text",
    [
        "個人情報と申します",
        "お客様と申しますのは",
        "株式会社山田と申します",
        "山田商事です。",
        "トヨタと申します",
        "名前は変更したいです",
        "名前が違います",
        "名前は旧姓です",
        "氏名は不明です",
        "担当の森です",  # not the whole sentence: not a self-introduction
        "担当者は無理だと言います",
        "以上です。",
        "了解です。",
        "大丈夫です",
        "よろしくお願いします。",
        "山田さんに連絡してください",  # someone named, not a self-introduction
    ],
)
def test_words_that_are_no_self_introduction_are_left_alone(text: str) -> None:
    assert found(text) == []
    assert mask(text, style="label") == text


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("住所は大阪府大阪市北区梅田三丁目1-2です", "大阪府大阪市北区梅田三丁目1-2"),
        ("東京都江東区東陽1-2-3に住んでいます", "東京都江東区東陽1-2-3"),
        ("東京都江東区東陽１－２－３", "東京都江東区東陽１－２－３"),  # full-width, as typed
        ("新住所は港区六本木一丁目2番3号です", "港区六本木一丁目2番3号"),
        ("埼玉県さいたま市浦和区高砂3-15-1", "埼玉県さいたま市浦和区高砂3-15-1"),
        ("北海道札幌市中央区北1条西2丁目", "北海道札幌市中央区北1条西2丁目"),
        ("世田谷区自由が丘1-2-3 ハイツ山田201号室へ", "世田谷区自由が丘1-2-3 ハイツ山田201号室"),
        ("長野県北佐久郡軽井沢町大字軽井沢123番地", "長野県北佐久郡軽井沢町大字軽井沢123番地"),
        ("大阪市北区梅田2番地の5です", "大阪市北区梅田2番地の5"),
        ("新住所江東区東陽1-2-3", "江東区東陽1-2-3"),  # the label is not the address
        ("京都市左京区一乗寺竹ノ内町12番地", "京都市左京区一乗寺竹ノ内町12番地"),
    ],
)
def test_an_address_up_to_its_house_number_is_found(text: str, address: str) -> None:
    assert found(text) == [(ADDRESS, address)]


@pytest.mark.parametrize(
    "text",
    [
        "東京都の条例について教えてください",
        "東京都条例第3号について",
        "横浜市条例第3号の件",
        "大阪市に住んでいます",
        "住所が東京都港区のままです",
        "千代田区の2つの店舗で買いました",
        "渋谷区で3回買い物をしました",
        "東京都の3番目の店舗",
        "品川区役所の第2号窓口",
        "市区町村の窓口",
    ],
)
def test_places_without_a_house_number_are_no_address(text: str) -> None:
    assert found(text) == []
    assert mask(text, style="label") == text


def test_the_issue_example_masks_name_address_and_phone_and_keeps_the_words() -> None:
    text = ("お世話になります。佐藤花子と申します。住所は大阪府大阪市北区梅田三丁目1-2です。"
            "電話は090-1234-5678です")
    assert mask(text, style="label") == (
        "お世話になります。［氏名］と申します。住所は［住所］です。電話は［電話番号］です")
    tokens = iter(["a1a1a1", "b2b2b2", "c3c3c3"])
    concealed, items = conceal_contact(text, token=lambda: next(tokens))
    assert concealed == ("お世話になります。［氏名#a1a1a1］と申します。住所は［住所#b2b2b2］です。"
                         "電話は［電話番号#c3c3c3］です")
    assert [(i.kind, i.value) for i in items] == [
        (NAME, "佐藤花子"), (ADDRESS, "大阪府大阪市北区梅田三丁目1-2"), (PHONE, "090-1234-5678")]


def test_numbers_beside_an_address_keep_their_own_kind() -> None:
    text = "〒530-0001 大阪府大阪市北区梅田三丁目1番2号 梅田ビル5階 090-1234-5678"
    assert [label for label, _ in found(text)] == [POSTAL_CODE, ADDRESS, PHONE]
    assert "090-1234-5678" not in mask(text) and "梅田" not in mask(text)


def test_a_card_number_after_an_address_is_still_a_card_number() -> None:
    masked = mask("港区六本木1-2-3 4111 1111 1111 1111", style="label")
    assert masked == "［住所］ ［カード番号］"


@pytest.mark.parametrize("style", ["partial", "label"])
def test_masking_names_and_addresses_is_idempotent(style: str) -> None:
    text = "山田です。氏名：山田太郎、住所は東京都江東区東陽1-2-3、電話090-1234-5678"
    once = mask(text, style=style)
    assert mask(once, style=style) == once
    assert "山田" not in once and "東陽" not in once


@pytest.mark.parametrize(
    "text",
    ["市" * 5000, "大阪市北区" * 1000, "東京都" * 1700, "港区" + "一" * 4990 + "丁目",
     "と申します" * 1000, "名前は" + "山" * 4990, "1-" * 2500],
)
def test_a_message_of_the_channels_maximum_length_is_read_in_bounded_work(text: str) -> None:
    # Each of these once sent the address pattern into exponential backtracking; the
    # patterns now nest no quantifiers. (No clock here: a hang fails the run.)
    spans = find_pii(text)
    assert all(text[s.start:s.end] == s.text for s in spans)
