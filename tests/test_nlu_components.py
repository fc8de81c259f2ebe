"""Specification of our Rasa NLU components: the Japanese tokenizer and the intent classifier.

Both run here as Rasa runs them in a model: the tokenizer fills a message's tokens, the
classifier is trained on training data, persisted to model storage and loaded back.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from madoguchi.intents.model import COEF_FILE, INTERCEPT_FILE
from madoguchi.rasa_adapters.nlu.intent_classifier import JapaneseIntentClassifier
from madoguchi.rasa_adapters.nlu.tokenizer import EMPTY_MESSAGE, JapaneseTokenizer

TRAINING = [
    ("個人情報を削除してください", "request_suspension"),
    ("登録を消してほしい", "request_suspension"),
    ("登録内容を開示してほしい", "request_disclosure"),
    ("私の情報を見せてください", "request_disclosure"),
    ("カタログを止めてください", "request_marketing_optout"),
    ("ダイレクトメールはもういりません", "request_marketing_optout"),
    ("先日テレビで番組を見ました", "out_of_scope"),
    ("家族でよく買い物をしています", "out_of_scope"),
    ("昨日は雨が降っていました", "out_of_scope"),
    ("失礼します", "goodbye"),
    ("ありがとうございました", "thanks"),
]


def tokenized(text: str, intent: str | None = None) -> Message:
    message = Message({TEXT: text, **({INTENT: intent} if intent else {})})
    JapaneseTokenizer(JapaneseTokenizer.get_default_config()).process([message])
    return message


def context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), node_name="intents")


def trained(tmp_path: Path, **config) -> tuple[JapaneseIntentClassifier, LocalModelStorage]:
    storage = LocalModelStorage(tmp_path)
    classifier = JapaneseIntentClassifier.create(
        {**JapaneseIntentClassifier.get_default_config(), "reading_min_df": 1, **config},
        storage, Resource("intents"), context(),
    )
    classifier.train(TrainingData([tokenized(t, i) for t, i in TRAINING]))
    return classifier, storage


def parsed(classifier: JapaneseIntentClassifier, text: str) -> Message:
    message = tokenized(text)
    classifier.process([message])
    return message


def test_tokens_keep_surface_and_offsets_and_carry_lemma_part_of_speech_and_reading():
    tokens = tokenized("ﾃﾞｰﾀを消して").get(TOKENS_NAMES[TEXT])
    assert [(t.text, t.start, t.end, t.lemma) for t in tokens] == [
        ("ﾃﾞｰﾀ", 0, 4, "データ"),
        ("を", 4, 5, "を"),
        ("消し", 5, 7, "消す"),
        ("て", 7, 8, "て"),
    ]
    assert [t.get("reading") for t in tokens] == ["データ", "ヲ", "ケシ", "テ"]
    assert tokens[2].get("pos") == "動詞"


def test_a_blank_message_still_has_one_token_for_the_classifier():
    (token,) = tokenized("\u3000 ").get(TOKENS_NAMES[TEXT])
    assert token.lemma == EMPTY_MESSAGE


def test_a_message_longer_than_the_bound_is_read_from_a_sentence_near_its_end():
    story = "昨年の秋に引っ越しをして、いろいろな会社に住所変更を届けました。" * 60
    wish = "カタログはもう送らないでください。"
    text = story + wish
    limit = JapaneseTokenizer.get_default_config()["read_last_chars"]
    assert len(text) > limit
    tokens = tokenized(text).get(TOKENS_NAMES[TEXT])
    first = tokens[0].start
    # Within the bound, and at a sentence's start, not mid-word.
    assert len(text) - first <= limit and text[first - 1] == "。"
    assert [t.text for t in tokens[-8:]] == [t.text for t in tokenized(wish).get(
        TOKENS_NAMES[TEXT])][-8:]
    assert all(text[t.start:t.end] == t.text for t in tokens)


def test_a_message_within_the_bound_is_read_whole():
    text = "昨年の秋に引っ越しをしました。" * 10 + "カタログはもう送らないでください。"
    tokens = tokenized(text).get(TOKENS_NAMES[TEXT])
    assert tokens[0].start == 0 and tokens[-1].end == len(text)


def test_the_classifier_sets_the_intent_and_a_ranking_as_rasa_classifiers_do(tmp_path):
    classifier, _ = trained(tmp_path, ranking_length=3)
    message = parsed(classifier, "私の登録内容を開示してください")
    intent = message.get(INTENT)
    ranking = message.get(INTENT_RANKING_KEY)
    assert intent["name"] == "request_disclosure"
    assert len(ranking) == 3
    assert ranking[0] == intent
    assert [r["confidence"] for r in ranking] == sorted(
        (r["confidence"] for r in ranking), reverse=True)


def test_a_request_spelt_in_kana_reads_like_the_kanji_one(tmp_path):
    classifier, _ = trained(tmp_path)
    assert parsed(classifier, "さくじょしてください").get(INTENT)["name"] == "request_suspension"
    assert parsed(classifier, "ｶﾀﾛｸﾞをとめてください").get(INTENT)["name"] == (
        "request_marketing_optout")


def confidence_of(message: Message, intent: str) -> float:
    return next(r["confidence"] for r in message.get(INTENT_RANKING_KEY) if r["name"] == intent)


def test_a_story_before_the_wish_weighs_less_than_the_wish(tmp_path):
    """Read clause by clause, the wish at the end gains on the story it follows; counted as one
    bag of words (max_clauses 1) the story's words dominate."""
    text = "先日テレビで番組を見ました。家族でよく買い物をしています。カタログを止めてください"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    by_clause = parsed(trained(tmp_path / "a")[0], text)
    whole = parsed(trained(tmp_path / "b", max_clauses=1)[0], text)
    wish = "request_marketing_optout"
    assert [r["name"] for r in by_clause.get(INTENT_RANKING_KEY)[:2]].count(wish) == 1
    assert confidence_of(by_clause, wish) > 10 * confidence_of(whole, wish)


def test_the_persisted_classifier_loads_and_ranks_the_same(tmp_path):
    classifier, storage = trained(tmp_path)
    loaded = JapaneseIntentClassifier.load(
        {**JapaneseIntentClassifier.get_default_config(), "reading_min_df": 1}, storage,
        Resource("intents"), context(),
    )
    text = "昔の住所が残っているので私の情報を見せてください。それと削除もお願いします"
    assert parsed(loaded, text).get(INTENT_RANKING_KEY) == parsed(
        classifier, text).get(INTENT_RANKING_KEY)


def test_the_stored_model_is_arrays_and_json_never_a_pickle(tmp_path):
    _, storage = trained(tmp_path)
    with storage.read_from(Resource("intents")) as folder:
        for name in (COEF_FILE, INTERCEPT_FILE):
            assert np.load(folder / name, allow_pickle=False).size > 0
        assert not list(folder.glob("*.pkl")) and not list(folder.glob("*.joblib"))


def test_a_blank_message_gets_a_ranking_too(tmp_path):
    classifier, _ = trained(tmp_path)
    message = parsed(classifier, "\u3000 ")
    assert message.get(INTENT)["name"] in {i for _, i in TRAINING}


@pytest.mark.parametrize("config", [
    {"features": []},
    {"features": ["words", "sounds"]},
    {"last_clause_weight": 0.5},
    {"max_clauses": 0},
    {"whole_weight": -1},
    {"addition_weight": 0},
])
def test_a_nonsensical_configuration_is_refused(tmp_path, config):
    with pytest.raises(InvalidConfigException):
        JapaneseIntentClassifier.create(
            {**JapaneseIntentClassifier.get_default_config(), **config},
            LocalModelStorage(tmp_path), Resource("intents"), context(),
        )
