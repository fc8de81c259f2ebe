"""Rasa graph component around madoguchi.intents: the intent of a message, clause by clause.

It takes the JapaneseTokenizer's tokens (dictionary form in `lemma`, katakana reading in
`data["reading"]`) and sets `intent` and `intent_ranking` as Rasa's own classifiers do, so the
FallbackClassifier and the policies after it see nothing unusual. The features and the model
are madoguchi.intents; this module only translates between Rasa's messages and it.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.shared.utils.io import raise_warning

from madoguchi.intents import KINDS, IntentModel, ModelConfig
from madoguchi.rasa_adapters.nlu.tokenizer import EMPTY_MESSAGE, JapaneseTokenizer


@dataclass(frozen=True)
class _Word:
    start: int
    lemma: str
    reading: str


def _words(message: Message) -> list[_Word]:
    tokens = message.get(TOKENS_NAMES[TEXT]) or []
    return [
        _Word(t.start, t.lemma or t.text, t.get("reading", "") or "")
        for t in tokens if t.lemma != EMPTY_MESSAGE
    ]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class JapaneseIntentClassifier(GraphComponent, IntentClassifier):
    """Logistic regression over dictionary forms, their characters and readings."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [JapaneseTokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        defaults = ModelConfig()
        return {
            "features": list(defaults.kinds),
            "reading_min_df": dict(defaults.min_df)["readings"],
            "max_iter": defaults.max_iter,
            "last_clause_weight": defaults.last_clause_weight,
            "whole_weight": defaults.whole_weight,
            "max_clauses": defaults.max_clauses,
            "addition_weight": defaults.addition_weight,
            "composed_scenes": defaults.composed_scenes,
            "ranking_length": 10,
            "random_state": 42,
        }

    @staticmethod
    def _model_config(config: dict[str, Any]) -> ModelConfig:
        features = config.get("features")
        if not isinstance(features, list) or not features or set(features) - set(KINDS):
            raise InvalidConfigException(
                f"JapaneseIntentClassifier: features must be a non-empty list of {KINDS},"
                f" got {features!r}."
            )
        model_config = ModelConfig(
            kinds=tuple(features),
            min_df=(("readings", int(config["reading_min_df"])),),
            max_iter=int(config["max_iter"]),
            last_clause_weight=float(config["last_clause_weight"]),
            whole_weight=float(config["whole_weight"]),
            max_clauses=int(config["max_clauses"]),
            addition_weight=(None if config["addition_weight"] is None
                             else float(config["addition_weight"])),
            composed_scenes=int(config["composed_scenes"]),
        )
        try:
            model_config.validate()
        except ValueError as exc:
            raise InvalidConfigException(f"JapaneseIntentClassifier: {exc}") from exc
        return model_config

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 model: IntentModel | None = None) -> None:
        self._config = config
        self._model_config = self._model_config(config)
        self._storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> JapaneseIntentClassifier:
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> JapaneseIntentClassifier:
        try:
            with model_storage.read_from(resource) as folder:
                model = IntentModel.load(folder)
        except (ValueError, FileNotFoundError):  # trained on no intents: nothing to load
            model = None
        # A long message's parse makes thousands of short-lived objects (Rasa's tokens), and
        # some outlive a young-generation collection; every few dozen such messages Python then
        # walks all of Rasa's half a million long-lived objects (TensorFlow's among them):
        # measured ~200 ms, on some customer's message. What is alive once the model is loaded
        # stays alive, so the collector stops walking it (bench/parse.py measures it).
        gc.freeze()
        return cls(config, model_storage, resource, model)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [
            (_words(m), m.get(INTENT))
            for m in training_data.intent_examples if m.get(INTENT) and m.get(TEXT)
        ]
        if len({label for _, label in examples}) < 2:
            raise_warning("JapaneseIntentClassifier needs examples of two intents; not trained.")
            return self._resource
        self._model = IntentModel.fit(examples, self._model_config, self._config["random_state"])
        with self._storage.write_to(self._resource) as folder:
            self._model.save(folder)
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        if self._model is None:
            return messages
        for message in messages:
            # Columns straight from Rasa's tokens: a long message has thousands of them.
            tokens = [t for t in message.get(TOKENS_NAMES[TEXT]) or [] if t.lemma != EMPTY_MESSAGE]
            ranking = self._model.rank_columns(
                message.get(TEXT) or "", [t.start for t in tokens],
                [t.lemma or t.text for t in tokens],
                [t.data.get("reading", "") or "" for t in tokens],
            )
            entries = [{"name": name, "confidence": p} for name, p in ranking]
            message.set(INTENT, entries[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, entries[: self._config["ranking_length"]],
                        add_to_output=True)
        return messages
