"""Rasa graph component: character n-grams of how a message sounds.

Customers write the same word in kanji, hiragana or half-width katakana (削除 / さくじょ,
失礼します / ｼﾂﾚｲｼﾏｽ), and MeCab segments an unfamiliar kana spelling differently from the
kanji one, so word features and per-word character features do not meet. The katakana reading
of the whole message, run together, does: its n-grams are the same whatever the script and
wherever the words were cut. The reading comes from the tokenizer (`Token.data["reading"]`);
this component only counts n-grams, like Rasa's CountVectorsFeaturizer does for surfaces.
"""

from __future__ import annotations

from typing import Any

import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.sparse_featurizer.sparse_featurizer import SparseFeaturizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.shared.utils.io import dump_obj_as_json_to_file, raise_warning, read_json_file
from sklearn.feature_extraction.text import CountVectorizer

from madoguchi.rasa_adapters.nlu.tokenizer import JapaneseTokenizer

VOCABULARY_FILE = "reading_vocabulary.json"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True
)
class ReadingFeaturizer(SparseFeaturizer, GraphComponent):
    """Counts character n-grams of the katakana reading of each word and of the message."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [JapaneseTokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # min_df 2: an n-gram from a single training message almost never helps on new
        # wording (held-out macro-F1 within one message of min_df 1) but doubles the
        # classifier's training time, so it is left out of the vocabulary.
        return {
            **SparseFeaturizer.get_default_config(),
            "min_ngram": 2,
            "max_ngram": 4,
            "min_df": 2,
        }

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        low, high = config.get("min_ngram"), config.get("max_ngram")
        if not (isinstance(low, int) and isinstance(high, int) and 1 <= low <= high):
            raise InvalidConfigException(
                f"ReadingFeaturizer needs 1 <= min_ngram <= max_ngram, got {low}, {high}."
            )
        min_df = config.get("min_df")
        if not (isinstance(min_df, int) and min_df >= 1):
            raise InvalidConfigException(
                f"ReadingFeaturizer needs min_df, a whole number of messages >= 1, got {min_df}."
            )

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        vocabulary: dict[str, int] | None = None,
    ) -> None:
        super().__init__(execution_context.node_name, config)
        self._model_storage = model_storage
        self._resource = resource
        # None until trained or loaded, and when training found no n-gram to keep.
        self._vectorizer = self._new_vectorizer(vocabulary) if vocabulary else None

    def _new_vectorizer(self, vocabulary: dict[str, int] | None = None) -> CountVectorizer:
        return CountVectorizer(
            analyzer="char",
            ngram_range=(self._config["min_ngram"], self._config["max_ngram"]),
            lowercase=True,
            min_df=self._config["min_df"],
            vocabulary=vocabulary,
        )

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ReadingFeaturizer:
        return cls(config, model_storage, resource, execution_context)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> ReadingFeaturizer:
        with model_storage.read_from(resource) as path:
            vocabulary = read_json_file(path / VOCABULARY_FILE)
        return cls(config, model_storage, resource, execution_context, vocabulary)

    def train(self, training_data: TrainingData) -> Resource:
        readings = [
            _message_reading(m) for m in training_data.training_examples if _tokens(m)
        ]
        vectorizer = self._new_vectorizer()
        try:
            vectorizer.fit(readings)
            vocabulary = {gram: int(i) for gram, i in vectorizer.vocabulary_.items()}
        except ValueError:  # no message, or no n-gram in min_df of them
            vocabulary = {}
            raise_warning(
                f"{type(self).__name__} found no reading n-gram that occurs in"
                f" min_df={self._config['min_df']} training messages; it adds no features."
            )
        self._vectorizer = vectorizer if vocabulary else None
        with self._model_storage.write_to(self._resource) as path:
            dump_obj_as_json_to_file(path / VOCABULARY_FILE, vocabulary)
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        if self._vectorizer is None:
            return messages
        for message in messages:
            tokens = _tokens(message)
            if not tokens:
                continue
            words = [t.get("reading", "") for t in tokens]
            # One call for the words and the whole message: most of a transform is overhead.
            counts = self._vectorizer.transform([*words, "".join(words)])
            self.add_features_to_message(
                sequence=scipy.sparse.coo_matrix(counts[:-1]),
                sentence=scipy.sparse.coo_matrix(counts[-1:]),
                attribute=TEXT,
                message=message,
            )
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data


def _tokens(message: Message) -> list[Any]:
    return message.get(TOKENS_NAMES[TEXT]) or []


def _message_reading(message: Message) -> str:
    return "".join(t.get("reading", "") for t in _tokens(message))
