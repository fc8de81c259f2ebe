"""Specification of our Rasa NLU components: the Japanese tokenizer and the reading featurizer.

Both run here as Rasa runs them in a model: the tokenizer fills a message's tokens, the
featurizer is trained on training data, persisted to model storage and loaded back.
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
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from madoguchi.rasa_adapters.nlu.reading_featurizer import ReadingFeaturizer
from madoguchi.rasa_adapters.nlu.tokenizer import EMPTY_MESSAGE, JapaneseTokenizer

TRAINING = [
    ("個人情報を削除してください", "request_suspension"),
    ("登録内容を開示してほしい", "request_disclosure"),
    ("失礼します", "goodbye"),
    ("ありがとうございました", "thanks"),
]


def tokenized(text: str, intent: str | None = None) -> Message:
    message = Message({TEXT: text, **({INTENT: intent} if intent else {})})
    JapaneseTokenizer(JapaneseTokenizer.get_default_config()).process([message])
    return message


def context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), node_name="reading")


def trained(tmp_path: Path, **config: int) -> tuple[ReadingFeaturizer, LocalModelStorage]:
    return trained_on(tmp_path, TRAINING, **{"min_df": 1, **config})


def trained_on(
    tmp_path: Path, examples: list[tuple[str, str]], **config: int
) -> tuple[ReadingFeaturizer, LocalModelStorage]:
    storage = LocalModelStorage(tmp_path)
    featurizer = ReadingFeaturizer.create(
        {**ReadingFeaturizer.get_default_config(), **config}, storage, Resource("reading"),
        context(),
    )
    data = TrainingData([tokenized(text, intent) for text, intent in examples])
    featurizer.train(data)
    return featurizer, storage


def sentence_vector(featurizer: ReadingFeaturizer, text: str) -> np.ndarray:
    message = tokenized(text)
    featurizer.process([message])
    _, sentence = message.get_sparse_features(TEXT)
    return sentence.features.toarray()[0]


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


def test_kanji_and_kana_spellings_of_a_request_get_the_same_reading_features(tmp_path):
    featurizer, _ = trained(tmp_path)
    kanji = sentence_vector(featurizer, "削除してください")
    kana = sentence_vector(featurizer, "さくじょしてください")
    assert kanji.sum() > 0
    np.testing.assert_array_equal(kanji, kana)


def test_half_width_katakana_reads_like_the_kanji_it_spells(tmp_path):
    featurizer, _ = trained(tmp_path)
    np.testing.assert_array_equal(
        sentence_vector(featurizer, "ｼﾂﾚｲｼﾏｽ"), sentence_vector(featurizer, "失礼します")
    )


def test_sequence_features_have_one_row_per_token(tmp_path):
    featurizer, _ = trained(tmp_path)
    message = tokenized("開示してほしいです")
    featurizer.process([message])
    sequence, sentence = message.get_sparse_features(TEXT)
    assert sequence.features.shape[0] == len(message.get(TOKENS_NAMES[TEXT]))
    assert sentence.features.shape == (1, sequence.features.shape[1])


def test_n_grams_never_seen_in_training_add_nothing(tmp_path):
    featurizer, _ = trained(tmp_path)
    assert sentence_vector(featurizer, "ヴョヴョ").sum() == 0


def test_punctuation_has_no_reading_so_it_changes_nothing(tmp_path):
    featurizer, _ = trained(tmp_path)
    np.testing.assert_array_equal(
        sentence_vector(featurizer, "削除、してください！"),
        sentence_vector(featurizer, "削除してください"),
    )


def test_a_message_without_tokens_gets_no_features(tmp_path):
    featurizer, _ = trained(tmp_path)
    message = Message({TEXT: "削除"})  # not tokenized
    featurizer.process([message])
    assert message.get_sparse_features(TEXT) == (None, None)


def test_the_persisted_featurizer_loads_with_the_same_vocabulary(tmp_path):
    featurizer, storage = trained(tmp_path)
    loaded = ReadingFeaturizer.load(
        ReadingFeaturizer.get_default_config(), storage, Resource("reading"), context()
    )
    text = "登録内容を削除してほしい"
    np.testing.assert_array_equal(sentence_vector(loaded, text), sentence_vector(featurizer, text))


def test_n_grams_from_fewer_than_min_df_training_messages_are_left_out(tmp_path):
    featurizer, _ = trained_on(
        tmp_path, [("削除して", "a"), ("削除したい", "b"), ("開示して", "c")], min_df=2
    )
    assert sentence_vector(featurizer, "サクジョ").sum() > 0  # in two messages
    assert sentence_vector(featurizer, "カイジ").sum() == 0  # in one


def test_training_data_without_a_shared_n_gram_gives_a_featurizer_that_adds_nothing(tmp_path):
    with pytest.warns(UserWarning, match="no reading n-gram"):
        featurizer, storage = trained_on(tmp_path, [("削除", "a")], min_df=2)
    message = tokenized("削除")
    featurizer.process([message])
    assert message.get_sparse_features(TEXT) == (None, None)
    loaded = ReadingFeaturizer.load(
        ReadingFeaturizer.get_default_config(), storage, Resource("reading"), context()
    )
    loaded.process([message])
    assert message.get_sparse_features(TEXT) == (None, None)


@pytest.mark.parametrize("config", [{"min_ngram": 0}, {"min_ngram": 4, "max_ngram": 2},
                                    {"max_ngram": "4"}, {"min_df": 0}, {"min_df": 0.5}])
def test_a_nonsensical_n_gram_range_is_refused(tmp_path, config):
    with pytest.raises(InvalidConfigException):
        trained(tmp_path, **config)
