"""Specification of spaCy's blank Japanese pipeline on our fugashi segmentation."""

from __future__ import annotations

import pickle

import pytest
import spacy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spacy.matcher import Matcher

from madoguchi.text.spacy_ja import (
    GAP_TAG,
    TOKENIZER_NAME,
    FugashiTokenizer,
    make_nlp,
)
from madoguchi.text.tokenize import tokenize

HARD_TEXTS = [
    "",
    " ",
    "  ",
    "a b",
    " 先頭に空白",
    "末尾に空白 ",
    "二つの  空白",
    "全角\u3000空白",
    "改行\nあり\r\nです\n",
    "タブ\tです",
    "制御\x00文字\x07と\u200bゼロ幅",
    "\ufeffBOMつき",
    "👨\u200d👩\u200d👧\u200d👦 家族👍🏽",
    "ﾃﾞｰﾀを消して",
    "０９０ー１２３４ー５６７８",
    "㍿の½",
    "<p>HTML&amp;です</p>",
    "a \n b",
]


@pytest.fixture(scope="module")
def nlp():
    return make_nlp()


def test_make_nlp_is_a_cached_blank_japanese_pipeline_on_our_tokenizer(nlp):
    assert make_nlp() is nlp
    assert nlp.lang == "ja"
    assert nlp.pipe_names == []
    assert isinstance(nlp.tokenizer, FugashiTokenizer)
    assert nlp.config["nlp"]["tokenizer"]["@tokenizers"] == TOKENIZER_NAME


def test_the_tokenizer_is_registered_in_spacys_registry():
    factory = spacy.registry.tokenizers.get(TOKENIZER_NAME)()
    nlp = spacy.blank("ja", config={"nlp": {"tokenizer": {"@tokenizers": TOKENIZER_NAME}}})
    assert isinstance(factory(nlp), FugashiTokenizer)
    assert [t.text for t in nlp("個人情報")] == ["個人", "情報"]


@pytest.mark.parametrize("text", HARD_TEXTS)
def test_doc_text_is_exactly_the_input(nlp, text):
    doc = nlp(text)
    assert doc.text == text
    assert "".join(t.text_with_ws for t in doc) == text


@pytest.mark.parametrize("text", HARD_TEXTS)
def test_words_are_the_tokenize_words_with_the_same_offsets(nlp, text):
    doc = nlp(text)
    words = [(t.idx, t.idx + len(t.text), t.text) for t in doc if t.tag_ != GAP_TAG]
    assert words == [(w.start, w.end, w.text) for w in tokenize(text)]


def test_a_single_space_is_a_trailing_space_flag_not_a_token(nlp):
    doc = nlp("開示 請求")
    assert [(t.text, t.whitespace_) for t in doc] == [("開示", " "), ("請求", "")]


@pytest.mark.parametrize(
    ("text", "gap"),
    [
        ("開示\n請求", "\n"),
        ("開示\u3000請求", "\u3000"),
        ("開示  請求", "  "),
        ("開示\r\n\r\n請求", "\r\n\r\n"),
        (" 請求", " "),
    ],
)
def test_any_other_white_space_is_one_token_of_its_own(nlp, text, gap):
    doc = nlp(text)
    gaps = [t for t in doc if t.tag_ == GAP_TAG]
    assert [t.text for t in gaps] == [gap]
    assert gaps[0].is_space
    assert gaps[0].pos_ == "SPACE"


def test_control_characters_are_kept_as_their_own_tokens(nlp):
    doc = nlp("制御\x00文字\u200bです")
    assert [t.text for t in doc] == ["制御", "\x00", "文字", "\u200b", "です"]
    assert [t.pos_ for t in doc if t.tag_ == GAP_TAG] == ["X", "X"]


def test_norm_holds_the_normalised_form_and_lemma_the_dictionary_form(nlp):
    doc = nlp("ﾃﾞｰﾀを消して０９０ー１２３４")
    assert [(t.text, t.norm_, t.lemma_) for t in doc] == [
        ("ﾃﾞｰﾀ", "データ", "データ"),
        ("を", "を", "を"),
        ("消し", "消し", "消す"),
        ("て", "て", "て"),
        ("０９０", "090", "090"),
        ("ー", "-", "-"),
        ("１２３４", "1234", "1234"),
    ]


def test_line_break_gaps_normalise_to_a_line_break_and_other_gaps_to_one_space(nlp):
    doc = nlp("a\u3000b\r\nc  d")
    assert [t.norm_ for t in doc] == ["a", " ", "b", "\n", "c", " ", "d"]


def test_tags_are_unidic_parts_of_speech_and_pos_is_universal(nlp):
    doc = nlp("個人情報を消して123")
    assert [(t.tag_, t.pos_) for t in doc] == [
        ("名詞", "NOUN"),
        ("名詞", "NOUN"),
        ("助詞", "ADP"),
        ("動詞", "VERB"),
        ("助詞", "ADP"),
        ("名詞", "NUM"),
    ]


def test_matcher_patterns_on_norm_see_full_width_digits_and_ime_dashes(nlp):
    matcher = Matcher(nlp.vocab)
    digits = {"NORM": {"REGEX": r"^\d+$"}}
    matcher.add("PHONE", [[digits, {"NORM": "-"}, digits, {"NORM": "-"}, digits]])
    doc = nlp("電話は０９０ー１２３４ー５６７８です")
    ((_, start, end),) = matcher(doc)
    assert doc[start:end].text == "０９０ー１２３４ー５６７８"


def test_pipeline_round_trips_through_bytes(nlp):
    data = nlp.to_bytes()
    fresh = spacy.blank("ja", config={"nlp": {"tokenizer": {"@tokenizers": TOKENIZER_NAME}}})
    fresh.from_bytes(data)
    assert [t.text for t in fresh("個人情報の開示")] == ["個人", "情報", "の", "開示"]
    assert nlp.tokenizer.from_bytes(nlp.tokenizer.to_bytes()) is nlp.tokenizer


def test_pipeline_round_trips_through_disk(nlp, tmp_path):
    nlp.to_disk(tmp_path / "nlp")
    loaded = spacy.load(tmp_path / "nlp")
    assert isinstance(loaded.tokenizer, FugashiTokenizer)
    assert loaded("全角\u3000空白").text == "全角\u3000空白"


def test_tokenizer_pickles_and_pipes(nlp):
    tokenizer = pickle.loads(pickle.dumps(nlp.tokenizer))
    assert tokenizer("開示です").text == "開示です"
    docs = list(nlp.pipe(["開示", "訂正 です", ""]))
    assert [d.text for d in docs] == ["開示", "訂正 です", ""]


def test_a_hundred_kilobyte_text_round_trips(nlp):
    text = ("個人情報の開示をお願いします。電話は090-1234-5678です。😀\n" * 3000)[:100_000]
    doc = nlp(text)
    assert doc.text == text


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=80))
def test_doc_text_equals_any_input(text):
    doc = make_nlp()(text)
    assert doc.text == text
    for token in doc:
        assert text[token.idx : token.idx + len(token.text)] == token.text
