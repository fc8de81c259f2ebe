"""Specification of the intent model's pieces: clauses of a message, what each feature kind sees."""

from __future__ import annotations

import pytest

from madoguchi.intents import Featurizer, Stretch
from madoguchi.intents.features import char_grams, reading_grams, word_grams
from madoguchi.text.sentences import (
    is_addition,
    message_clauses,
    reading_start,
    split_sentences,
)
from madoguchi.text.tokenize import tokenize


def clauses(text: str) -> list[str]:
    return [text[s:e] for s, e in message_clauses(text)]


def test_a_message_is_read_clause_by_clause_at_its_sentence_ends():
    assert clauses("先日カタログが届きました！もう送らないでください\n母の分もです") == [
        "先日カタログが届きました！", "もう送らないでください", "母の分もです",
    ]


def test_a_quoted_wish_stays_in_the_sentence_that_reports_it():
    text = "電話で「もう送らないで。お願いします」と言ったのに、また届きました。"
    assert clauses(text) == [text]


def test_fragments_too_short_to_say_anything_join_the_next_clause():
    text = "はい。あと、\n住所を直してください。"
    assert clauses(text) == [text]
    assert clauses("住所を直してください。🙏") == ["住所を直してください。🙏"]


def test_a_wish_added_inside_a_sentence_is_a_clause_of_its_own():
    text = "DMを止めてもらって、ついでに私の個人情報も消去してください。"
    assert clauses(text) == ["DMを止めてもらって、", "ついでに私の個人情報も消去してください。"]
    # A word listed after 、 is too short to be a clause: 「住所、それと電話番号」 is one wish.
    one_wish = "住所、それと電話番号を直してください"
    assert clauses(one_wish) == [one_wish]


@pytest.mark.parametrize("clause", [
    "あと、DMも止めてください。", "それと、住所も直して", "ついでに私の情報も消して",
    "また、購入履歴も開示してください", "あわせて第三者提供も止めてください", "  それから、退会も",
])
def test_a_clause_opening_with_and_also_adds_a_wish(clause):
    assert is_addition(clause)


@pytest.mark.parametrize("clause", [
    "あとで電話します", "またDMが届きました", "それとも削除ですか", "先日、また届きました",
    "もう送らないでください",
])
def test_a_clause_that_only_looks_like_it_adds_nothing(clause):
    assert not is_addition(clause)


def test_the_notice_keeps_its_own_sentence_rule():
    line = "請求用紙（「用紙」といいます。）を送ります。確認します！続きます"
    assert split_sentences(line) == [
        "請求用紙（「用紙」といいます。）を送ります。", "確認します！続きます",
    ]


def test_a_stretch_holds_dictionary_forms_and_the_reading_run_together():
    stretch = Stretch.of(tokenize("ﾃﾞｰﾀを消して"))
    assert stretch.lemmas == ("データ", "を", "消す", "て")
    assert stretch.reading == "データヲケシテ"


def test_each_kind_of_feature_sees_its_own_grams():
    stretch = Stretch(("登録", "消す"), "トウロクケス")
    assert word_grams(stretch) == ["登録", "消す", "登録 消す"]
    assert " 登" in char_grams(stretch) and "録 " in char_grams(stretch)
    assert "トウ" in reading_grams(stretch) and "ロクケス" in reading_grams(stretch)


def test_kanji_and_kana_spellings_share_their_reading_grams():
    featurizer = Featurizer(["readings"])
    featurizer.fit_transform([Stretch.of(tokenize("削除してください"))])
    kanji = featurizer.transform([Stretch.of(tokenize("削除してください"))]).toarray()
    kana = featurizer.transform([Stretch.of(tokenize("さくじょしてください"))]).toarray()
    assert kanji.sum() > 0
    assert (kanji == kana).all()


def test_unknown_feature_kinds_are_refused():
    with pytest.raises(ValueError, match="feature kinds"):
        Featurizer(["words", "sounds"])


def test_reading_start_a_long_message_from_the_first_whole_sentence_within_the_bound():
    text = "あ" * 30 + "。" + "い" * 10 + "。" + "う" * 5
    assert reading_start(text, 100) == 0
    assert reading_start(text, 0) == 0
    assert reading_start(text, 20) == 31  # 「いい…。ううううう」: 16 characters
    assert reading_start(text, 15) == 42  # 「いい…」 would exceed 15: 「ううううう」 alone
    # One sentence longer than the bound is cut at the bound itself.
    assert reading_start("え" * 50, 20) == 30
