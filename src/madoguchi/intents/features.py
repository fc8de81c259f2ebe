"""What the intent model sees of a stretch of words: three kinds of sparse counts.

- words: dictionary forms (lower-cased) and pairs of neighbouring ones — what is asked;
- chars: character 1–3-grams within each dictionary form — misspellings, variants, compounds
  MeCab cut differently (会員データ / 会員 データ);
- readings: character 2–4-grams of the stretch's katakana reading run together — the same
  whatever the script (削除 / さくじょ / ｻｸｼﾞｮ) and wherever the words were cut.

The vocabularies are plain dicts so that a trained model is stored as JSON and arrays, never
as a pickle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Protocol

import numpy as np
import scipy.sparse
from sklearn.feature_extraction.text import CountVectorizer

KINDS = ("words", "chars", "readings")


class WordLike(Protocol):
    """A token as the model needs it: madoguchi.text.tokenize.Word, or a Rasa token's view."""

    start: int
    lemma: str
    reading: str


@dataclass(frozen=True)
class Stretch:
    """The words of a message, or of one of its clauses."""

    lemmas: tuple[str, ...]
    reading: str

    @classmethod
    def of(cls, words: Sequence[WordLike]) -> Stretch:
        return cls(tuple(w.lemma.lower() for w in words), "".join(w.reading for w in words))


def word_grams(stretch: Stretch) -> list[str]:
    lemmas = stretch.lemmas
    return [*lemmas, *(f"{a} {b}" for a, b in pairwise(lemmas))]


def char_grams(stretch: Stretch) -> list[str]:
    grams: list[str] = []
    for lemma in stretch.lemmas:
        padded = f" {lemma} "
        for n in (1, 2, 3):
            grams.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams


def reading_grams(stretch: Stretch) -> list[str]:
    text = stretch.reading
    return [text[i : i + n] for n in (2, 3, 4) for i in range(len(text) - n + 1)]


ANALYZERS = {"words": word_grams, "chars": char_grams, "readings": reading_grams}


class Featurizer:
    """The counts of the chosen kinds side by side, vocabularies learnt from training data."""

    def __init__(self, kinds: Sequence[str], min_df: dict[str, int] | None = None,
                 vocabularies: dict[str, dict[str, int]] | None = None) -> None:
        unknown = set(kinds) - set(KINDS)
        if unknown or not kinds:
            raise ValueError(f"feature kinds must be some of {KINDS}, got {list(kinds)}")
        self.kinds = tuple(kinds)
        min_df = min_df or {}
        self._vectorizers = {
            kind: CountVectorizer(
                analyzer=ANALYZERS[kind],
                min_df=min_df.get(kind, 1),
                vocabulary=(vocabularies or {}).get(kind),
                dtype=np.float64,
            )
            for kind in self.kinds
        }

    def fit_transform(self, stretches: Sequence[Stretch]) -> scipy.sparse.csr_matrix:
        blocks = [v.fit_transform(stretches) for v in self._vectorizers.values()]
        return scipy.sparse.hstack(blocks, format="csr")

    def transform(self, stretches: Sequence[Stretch]) -> scipy.sparse.csr_matrix:
        blocks = [v.transform(stretches) for v in self._vectorizers.values()]
        return scipy.sparse.hstack(blocks, format="csr")

    def vocabularies(self) -> dict[str, dict[str, int]]:
        return {
            kind: {gram: int(i) for gram, i in v.vocabulary_.items()}
            for kind, v in self._vectorizers.items()
        }
