"""Rasa graph component: Japanese tokenizer on fugashi + unidic-lite.

A thin adapter around `madoguchi.text.tokenize`: tokens keep the customer's surface text and
exact offsets (entities depend on them); `lemma` carries the normalised dictionary form, which
Rasa's CountVectorsFeaturizer uses by default, so features see one form of each word; the data
holds the part of speech and the katakana reading (for `JapaneseIntentClassifier`).

A message longer than `read_last_chars` is read from the first sentence within its last
`read_last_chars` characters: the wish of a long story is near its end, and a parse of a
message of the channel's maximum length (5,000 characters) stays as cheap as one of 1,000
(`make bench BENCH=parse` prints both). No training or evaluation message is that long.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

from madoguchi.text.sentences import reading_start
from madoguchi.text.tokenize import segments

# The one token of a message that has no words (empty, or white space only).
EMPTY_MESSAGE = "<empty>"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False
)
class JapaneseTokenizer(Tokenizer):
    """Segments Japanese (and mixed-script) text into words with MeCab."""

    @staticmethod
    def supported_languages() -> list[str] | None:
        return ["ja"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
            # 0 reads every message whole.
            "read_last_chars": 1000,
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["fugashi", "unidic_lite"]

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> JapaneseTokenizer:
        return cls(config)

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        text = message.get(attribute) or ""
        offset = reading_start(text, int(self._config.get("read_last_chars") or 0))
        tokens = [
            Token(surface, offset + start, end=offset + end, lemma=lemma,
                  data={"pos": pos, "norm": norm, "reading": reading})
            for surface, start, end, norm, lemma, pos, reading in segments(text[offset:])
        ]
        if not tokens:
            # An empty or blank message still has to reach the classifier as something: with
            # no token at all it gets no features, and logistic regression fails on it.
            tokens = [Token(text, 0, end=len(text), lemma=EMPTY_MESSAGE, data={"pos": ""})]
        return self._apply_token_pattern(tokens)
