"""Specification of the fugashi tokenizer on what customers really type.

Every token must point at the customer's own characters (entities and masking depend on it),
white space and control characters are never tokens, and `norm` / `lemma` see one form of a word
however it was typed.
"""

from __future__ import annotations

import pytest

from madoguchi.text.tokenize import Word, katakana, lemmas, reading, tokenize


def assert_exact_offsets(text: str, words: list[Word]) -> None:
    """The invariants every tokenization must keep."""
    previous_end = 0
    for w in words:
        assert text[w.start : w.end] == w.text, w
        assert w.start < w.end, w
        assert w.start >= previous_end, f"{w} overlaps the previous word"
        assert w.text.strip(), f"{w} is white space"
        previous_end = w.end


def surfaces(text: str) -> list[str]:
    return [w.text for w in tokenize(text)]


def test_empty_and_blank_text_have_no_tokens():
    assert tokenize("") == []
    assert tokenize("   ") == []
    assert tokenize("\u3000\n\t\r\n") == []


def test_mixed_scripts_keep_exact_offsets():
    text = "個人情報をdeleteしてPlease、ＡＢＣ社の123番"
    words = tokenize(text)
    assert_exact_offsets(text, words)
    assert [(w.text, w.start, w.end) for w in words] == [
        ("個人", 0, 2),
        ("情報", 2, 4),
        ("を", 4, 5),
        ("delete", 5, 11),
        ("し", 11, 12),
        ("て", 12, 13),
        ("Please", 13, 19),
        ("、", 19, 20),
        ("ＡＢＣ", 20, 23),
        ("社", 23, 24),
        ("の", 24, 25),
        ("123", 25, 28),
        ("番", 28, 29),
    ]


def test_dictionary_form_goes_into_lemma_and_part_of_speech_into_pos():
    words = tokenize("消してほしい")
    assert [(w.text, w.lemma, w.pos) for w in words] == [
        ("消し", "消す", "動詞"),
        ("て", "て", "助詞"),
        ("ほしい", "ほしい", "形容詞"),
    ]
    assert lemmas("消してほしい") == ("消す", "て", "ほしい")


def test_each_word_carries_its_katakana_reading_as_written():
    assert [(w.text, w.reading) for w in tokenize("消してほしい")] == [
        ("消し", "ケシ"),
        ("て", "テ"),
        ("ほしい", "ホシイ"),
    ]


@pytest.mark.parametrize(
    ("spellings", "sound"),
    [
        (["削除して", "さくじょして", "サクジョシテ"], "サクジョシテ"),
        (["失礼します", "ｼﾂﾚｲｼﾏｽ", "しつれいします"], "シツレイシマス"),
        (["開示請求", "かいじせいきゅう"], "カイジセイキュウ"),
    ],
)
def test_a_message_reads_the_same_in_kanji_hiragana_and_katakana(spellings, sound):
    assert {reading(text) for text in spellings} == {sound}


def test_punctuation_and_white_space_are_not_read():
    assert reading("はい。　ＯＫです！") == reading("はいＯＫです") == "ハイOKデス"


def test_katakana_turns_only_hiragana():
    assert katakana("ぁあゔゖ漢字カナabc") == "ァアヴヶ漢字カナabc"


def test_full_width_alphanumerics_keep_their_surface_but_normalise():
    words = tokenize("ＡＢＣ１２３")
    assert [(w.text, w.norm, w.start, w.end) for w in words] == [
        ("ＡＢＣ", "ABC", 0, 3),
        ("１２３", "123", 3, 6),
    ]


@pytest.mark.parametrize("text", ["ﾃﾞｰﾀ", "データ", "デ－タ", "デ-タ"])
def test_half_width_katakana_and_dash_variants_are_one_word_data(text):
    (word,) = tokenize(text)
    assert word.text == text
    assert (word.start, word.end) == (0, len(text))
    assert word.norm == word.lemma == "データ"


def test_half_width_dakuten_stays_with_its_kana():
    (word,) = tokenize("ｷｬﾝｾﾙ")
    assert word.norm == "キャンセル"
    text = "ﾃﾞｰﾀを消して"
    words = tokenize(text)
    assert_exact_offsets(text, words)
    assert words[0].text == "ﾃﾞｰﾀ"
    assert words[1].start == 4


@pytest.mark.parametrize("wave", ["〜", "～", "~"])
def test_wave_dash_variants_normalise_to_one_form(wave):
    text = f"10時{wave}12時"
    words = tokenize(text)
    assert_exact_offsets(text, words)
    (tilde,) = [w for w in words if w.start == 3]
    assert tilde.text == wave
    assert tilde.norm == tilde.lemma == "〜"


def test_wave_inside_a_word_is_normalised_in_norm_and_lemma():
    assert tokenize("すご～い")[0].norm == tokenize("すご〜い")[0].norm == "すご〜い"
    assert tokenize("すご～い")[0].lemma == "すご〜い"


def test_ime_dashes_between_digits_become_hyphens():
    text = "０９０ー１２３４ー５６７８"
    words = tokenize(text)
    assert_exact_offsets(text, words)
    assert [w.norm for w in words] == ["090", "-", "1234", "-", "5678"]
    assert [w.text for w in words] == ["０９０", "ー", "１２３４", "ー", "５６７８"]


def test_emoji_with_zwj_and_skin_tone_stay_whole_tokens():
    family = "👨\u200d👩\u200d👧\u200d👦"
    thumbs = "👍🏽"
    text = f"{family}家族{thumbs}です"
    words = tokenize(text)
    assert_exact_offsets(text, words)
    assert [(w.text, w.start, w.end) for w in words] == [
        (family, 0, 7),
        ("家族", 7, 9),
        (thumbs, 9, 11),
        ("です", 11, 13),
    ]


def test_line_breaks_are_never_tokens_and_offsets_continue_after_them():
    text = "1行目\r\n2行目\n\n3行目"
    words = tokenize(text)
    assert_exact_offsets(text, words)
    assert [(w.text, w.start) for w in words if w.text.isdigit()] == [
        ("1", 0),
        ("2", 5),
        ("3", 10),
    ]


def test_ideographic_space_is_never_a_token():
    text = "お名前\u3000山田\u3000太郎"
    words = tokenize(text)
    assert_exact_offsets(text, words)
    assert surfaces(text) == ["お", "名前", "山田", "太郎"]
    assert [w.start for w in words] == [0, 1, 4, 7]


@pytest.mark.parametrize("control", ["\x00", "\x07", "\x1b", "\u200b", "\ufeff", "\ud800"])
def test_control_and_zero_width_characters_are_never_tokens(control):
    text = f"制御{control}文字"
    words = tokenize(text)
    assert_exact_offsets(text, words)
    assert [(w.text, w.start, w.end) for w in words] == [("制御", 0, 2), ("文字", 3, 5)]


def test_one_character_that_expands_is_one_token_not_two_with_the_same_offsets():
    # ㍿ normalises to 株式会社 and ½ to 1⁄2, which MeCab splits; the pieces must not become
    # several words sharing one original character.
    text = "㍿の½杯"
    words = tokenize(text)
    assert_exact_offsets(text, words)
    assert [(w.text, w.norm) for w in words] == [
        ("㍿", "株式会社"),
        ("の", "の"),
        ("½", "1⁄2"),
        ("杯", "杯"),
    ]


def test_a_five_thousand_character_message_keeps_exact_offsets():
    unit = "個人情報の開示をお願いします。ﾃﾞｰﾀは０９０ー１２３４ー５６７８へ😀\u3000\n"
    text = (unit * (5000 // len(unit) + 1))[:5000]
    assert len(text) == 5000
    words = tokenize(text)
    assert_exact_offsets(text, words)
    assert len(words) > 1000
    # Nothing but white space (or the last, cut word's rest) is left uncovered.
    covered = {i for w in words for i in range(w.start, w.end)}
    assert all(text[i].isspace() for i in range(len(text)) if i not in covered)


def test_html_and_symbols_are_tokenized_without_loss():
    text = "<p>電話:090-1234-5678</p>"
    words = tokenize(text)
    assert_exact_offsets(text, words)
    assert "".join(w.text for w in words) == text
