"""Specification: the intent model ranks a message exactly as the straightforward reading does.

IntentModel.rank featurizes the whole message and its last clauses in one pass
(Featurizer.transform_spans: each word's grams found once, reading grams looked up as integers),
which a message of the channel's maximum length needs. The straightforward reading is
CountVectorizer on one Stretch per row, as in training; both must give the same matrix and the
same probabilities, on real customers' wording, the held-out sets and messages of 5,000
characters.
"""

from __future__ import annotations

from bisect import bisect_left
from pathlib import Path

import numpy as np
import pytest
import yaml

from madoguchi.intents import Featurizer, IntentModel, ModelConfig, Stretch
from madoguchi.intents import features as features_module
from madoguchi.rasa_adapters.nlu.intent_classifier import JapaneseIntentClassifier
from madoguchi.text.sentences import is_addition, message_clauses
from madoguchi.text.tokenize import Word, tokenize

from .test_nlu_components import tokenized, trained

# The fixture's model is fitted in few iterations on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ROOT = Path(__file__).resolve().parents[1]
MAX_CHARS = 5000


def _examples(paths: list[Path]) -> list[tuple[str, str]]:
    pairs = []
    for path in paths:
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" in block:
                pairs += [(line.strip()[2:], block["intent"])
                          for line in str(block["examples"]).splitlines()
                          if line.strip().startswith("- ")]
    return pairs


def _messages() -> list[str]:
    real = [row["text"] for row in yaml.safe_load(
        (ROOT / "eval/realworld/dev.yml").read_text(encoding="utf-8"))]
    held_out = [t for t, _ in _examples(sorted((ROOT / "eval").glob("nlu_heldout_*.yml")))]
    joined = "".join(real) * 3
    longest = [joined[i * 997 : i * 997 + MAX_CHARS] for i in range(4)]
    return [*real, *held_out, *longest, "", "　", "はい。", "ﾃﾞｰﾀ消して。🙏\nはい\n\n"]


MESSAGES = _messages()


@pytest.fixture(scope="module")
def model() -> IntentModel:
    """Fitted on the training data (few iterations: the weights need not be good, only real)."""
    examples = _examples(sorted((ROOT / "data/nlu").glob("**/*.yml")))
    return IntentModel.fit([(tokenize(t), i) for t, i in examples],
                           ModelConfig(max_iter=15, addition_weight=0.3))


def straightforward(model: IntentModel, text: str, words: list[Word]) -> np.ndarray:
    """The model's reading as first written: one Stretch per row, CountVectorizer on each."""
    whole = Stretch.of(words)
    starts = [w.start for w in words]
    spans = message_clauses(text)[-model.config.max_clauses :]
    read = [(Stretch.of(words[bisect_left(starts, s) : bisect_left(starts, e)]), text[s:e])
            for s, e in spans]
    read = [(c, t) for c, t in read if c.lemmas]
    if len(read) < 2:
        return model.probabilities([whole])[0]
    rows = model.probabilities([whole, *(c for c, _ in read)])
    weights = np.array([
        model.config.addition_weight if is_addition(t) else w
        for (_, t), w in zip(read, np.linspace(1.0, model.config.last_clause_weight, len(read)),
                             strict=True)
    ])
    by_clause = (rows[1:] * weights[:, None]).sum(axis=0) / weights.sum()
    return (model.config.whole_weight * rows[0] + by_clause) / (model.config.whole_weight + 1)


def test_every_message_gets_the_same_probabilities_and_ranking(model):
    for text in MESSAGES:
        words = tokenize(text)
        expected = straightforward(model, text, words)
        ranking = model.rank(text, words)
        got = dict(ranking)
        np.testing.assert_allclose([got[c] for c in model.classes], expected, rtol=0, atol=1e-12)
        order = [model.classes[i] for i in np.argsort(-expected, kind="stable")]
        assert [name for name, _ in ranking] == order, text[:40]


def test_the_whole_and_the_clauses_give_the_same_matrix_as_one_stretch_each(model):
    text = MESSAGES[-5]
    assert len(text) == MAX_CHARS
    words = tokenize(text)
    lemmas = [w.lemma.lower() for w in words]
    readings = [w.reading for w in words]
    spans = [(0, len(words)), (0, 0), (5, 6), (10, 200), (len(words) - 50, len(words))]
    fast = model.featurizer.transform_spans(lemmas, readings, spans)
    plain = model.featurizer.transform([Stretch.of(words[a:b]) for a, b in spans])
    assert (fast != plain).nnz == 0
    assert fast.shape == plain.shape


@pytest.mark.parametrize("kinds", [("words", "chars"), ("words",), ("readings",)])
def test_any_choice_of_feature_kinds_gives_the_same_matrix(kinds):
    """The bench's ablation trains without readings: the fast path must not assume them."""
    examples = [(tokenize(t), i) for t, i in _examples(
        sorted((ROOT / "data/nlu").glob("**/*.yml")))[:400]]
    small = IntentModel.fit(examples, ModelConfig(kinds=kinds, max_iter=5))
    text = MESSAGES[-5]
    words = tokenize(text)
    spans = [(0, len(words)), (5, 6), (len(words) - 50, len(words))]
    fast = small.featurizer.transform_spans([w.lemma.lower() for w in words],
                                            [w.reading for w in words], spans)
    plain = small.featurizer.transform([Stretch.of(words[a:b]) for a, b in spans])
    assert (fast != plain).nnz == 0
    assert small.rank(text, words)


@pytest.mark.parametrize("dense_table", [0, 10**9])
def test_reading_grams_are_found_by_search_or_by_table_alike(monkeypatch, dense_table):
    monkeypatch.setattr(features_module, "_DENSE_TABLE", dense_table)
    train = [Stretch.of(tokenize(t)) for t in MESSAGES[:40]]
    featurizer = Featurizer(["readings"], {"readings": 2})
    featurizer.fit_transform(train)
    words = tokenize(MESSAGES[-5])
    spans = [(0, len(words)), (100, 180)]
    fast = featurizer.transform_spans([w.lemma.lower() for w in words],
                                      [w.reading for w in words], spans)
    plain = featurizer.transform([Stretch.of(words[a:b]) for a, b in spans])
    assert (fast != plain).nnz == 0


def test_an_alphabet_too_large_for_integer_keys_is_looked_up_gram_by_gram(monkeypatch):
    monkeypatch.setattr(features_module, "_MAX_KEY", 0)
    featurizer = Featurizer(["words", "readings"])
    featurizer.fit_transform([Stretch.of(tokenize(t)) for t in MESSAGES[:40]])
    words = tokenize(MESSAGES[3])
    fast = featurizer.transform_spans([w.lemma.lower() for w in words],
                                      [w.reading for w in words], [(0, len(words))])
    assert (fast != featurizer.transform([Stretch.of(words)])).nnz == 0


def test_a_loaded_model_ranks_as_the_fitted_one(model, tmp_path):
    model.save(tmp_path)
    loaded = IntentModel.load(tmp_path)
    for text in MESSAGES[-6:]:
        words = tokenize(text)
        assert loaded.rank(text, words) == model.rank(text, words)


def test_the_rasa_component_ranks_from_its_tokens_as_the_model_does(tmp_path):
    classifier, _ = trained(tmp_path)
    assert isinstance(classifier, JapaneseIntentClassifier)
    model = classifier._model
    assert model is not None
    for text in MESSAGES[-6:]:
        message = tokenized(text)
        classifier.process([message])
        expected = straightforward(model, text, tokenize(text))
        ranking = {r["name"]: r["confidence"] for r in message.get("intent_ranking")}
        for name, p in ranking.items():
            assert p == pytest.approx(expected[model.classes.index(name)], abs=1e-12)
