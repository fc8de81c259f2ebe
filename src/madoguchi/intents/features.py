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

from collections.abc import Callable, Sequence
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
        self._given = vocabularies or {}
        self._columns: _Columns | None = None
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
        self._columns = None
        return scipy.sparse.hstack(blocks, format="csr")

    def transform(self, stretches: Sequence[Stretch]) -> scipy.sparse.csr_matrix:
        blocks = [v.transform(stretches) for v in self._vectorizers.values()]
        return scipy.sparse.hstack(blocks, format="csr")

    def vocabularies(self) -> dict[str, dict[str, int]]:
        # A vectorizer given its vocabulary sets vocabulary_ only when it first transforms.
        return {
            kind: {gram: int(i) for gram, i in
                   (getattr(v, "vocabulary_", None) or self._given[kind]).items()}
            for kind, v in self._vectorizers.items()
        }

    def prepare(self) -> _Columns:
        """The lookup tables of transform_spans, built now rather than at a first message."""
        if self._columns is None:
            self._columns = _Columns(self.kinds, self.vocabularies())
        return self._columns

    def transform_spans(self, lemmas: Sequence[str], readings: Sequence[str],
                        spans: Sequence[tuple[int, int]]) -> scipy.sparse.csr_matrix:
        """transform() of the stretches words[a:b] for (a, b) in spans, the same matrix to the
        bit, for several stretches of one message (the whole and its clauses).

        lemmas are lower-cased already; readings are the words' own. A message of the channel's
        maximum length has thousands of words: each word's grams are found once for all its
        stretches, a word's own grams are remembered across messages, and the reading grams are
        looked up as integers in numpy rather than one by one."""
        columns = self.prepare()
        empty = np.empty(0, dtype=np.int64)
        known = columns.known_lemmas
        arrays = [known[lemma] for lemma in lemmas]
        by_word = np.concatenate(arrays) if arrays else empty
        word_at = np.zeros(len(lemmas) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, arrays), dtype=np.int64, count=len(arrays)),
                  out=word_at[1:])
        pairs = empty
        if columns.pairs is not None:
            pair = columns.pairs.get
            pairs = np.fromiter((pair(p, -1) for p in pairwise(lemmas)), dtype=np.int64,
                                count=max(len(lemmas) - 1, 0))
        grams: list[np.ndarray] = []
        reading_at = np.zeros(len(readings) + 1, dtype=np.int64)
        if columns.has_readings:
            np.cumsum([len(r) for r in readings], out=reading_at[1:])
            grams = columns.reading_columns("".join(readings))
        indptr = [0]
        indices: list[np.ndarray] = []
        data: list[np.ndarray] = []
        for a, b in spans:
            pieces = [by_word[word_at[a] : word_at[b]]]
            if len(pairs):
                pieces.append(pairs[a : max(a, b - 1)])
            low, high = reading_at[a], reading_at[b]
            for n, at in zip((2, 3, 4)[: len(grams)], grams, strict=True):
                pieces.append(at[low : max(low, high - n + 1)])
            found = np.concatenate(pieces)
            found = found[found >= 0]
            # Sorted columns and their counts, as CountVectorizer has them: by a sort for a
            # clause, by counting into every column for the whole of a long message.
            if len(found) * 8 < columns.size:
                nonzero, counts = np.unique(found, return_counts=True)
            else:
                counts = np.bincount(found, minlength=columns.size)
                nonzero = np.flatnonzero(counts)
                counts = counts[nonzero]
            indices.append(nonzero)
            data.append(counts.astype(np.float64))
            indptr.append(indptr[-1] + len(nonzero))
        return scipy.sparse.csr_matrix(
            (np.concatenate(data) if data else np.empty(0),
             np.concatenate(indices) if indices else empty, np.array(indptr)),
            shape=(len(spans), columns.size),
        )


class _Columns:
    """The vocabularies as global column numbers, built once per model for transform_spans."""

    def __init__(self, kinds: Sequence[str], vocabularies: dict[str, dict[str, int]]) -> None:
        offset = 0
        self.words: dict[str, int] | None = None
        self.pairs: dict[tuple[str, str], int] | None = None
        self.chars: dict[str, int] | None = None
        self.readings: list[tuple[np.ndarray, np.ndarray | None]] | None = None
        self.reading_vocabulary: dict[str, int] | None = None
        for kind in kinds:
            vocabulary = vocabularies[kind]
            shifted = {gram: offset + i for gram, i in vocabulary.items()}
            if kind == "words":
                self.words = shifted
                # "a b" as the pair (a, b), at every space: the message's neighbouring lemmas
                # are looked up as they come, without a string built for each pair.
                self.pairs = {
                    (gram[:i], gram[i + 1 :]): column
                    for gram, column in shifted.items()
                    for i, ch in enumerate(gram) if ch == " "
                }
            elif kind == "chars":
                self.chars = shifted
            else:
                self._reading_tables(shifted)
            offset += len(vocabulary)
        self.size = offset
        # A word's unigram and character grams depend on the word alone: looked up once.
        self.known_lemmas = _KnownLemmas(self.lemma_columns)

    def _reading_tables(self, vocabulary: dict[str, int]) -> None:
        # A reading gram becomes one integer, its characters as digits in base len(alphabet) + 1
        # (0 for a character no gram has), so that a message's thousands of grams are looked up
        # by numpy at once: in a table indexed by the integer where that is small (2- and
        # 3-grams of katakana: some 2.4 million entries), else by a search of the sorted keys.
        self.reading_vocabulary = vocabulary
        alphabet = sorted({ch for gram in vocabulary for ch in gram})
        self.base = len(alphabet) + 1
        if self.base**4 >= _MAX_KEY:
            return  # too many characters for one integer: the grams are looked up one by one
        self.digits = np.zeros(max((ord(ch) for ch in alphabet), default=0) + 2, dtype=np.int64)
        for i, ch in enumerate(alphabet):
            self.digits[ord(ch)] = i + 1
        tables: list[tuple[np.ndarray, np.ndarray | None]] = []
        for n in (2, 3, 4):
            grams = [(g, c) for g, c in vocabulary.items() if len(g) == n]
            keys = np.array([self._key([int(self.digits[ord(ch)]) for ch in g]) for g, _ in grams],
                            dtype=np.int64)
            columns = np.array([c for _, c in grams], dtype=np.int64)
            if self.base**n <= _DENSE_TABLE:
                table = np.full(self.base**n, -1, dtype=np.int32)
                table[keys] = columns
                tables.append((table, None))
            else:
                order = np.argsort(keys)
                tables.append((keys[order], columns[order]))
        self.readings = tables

    def _key(self, digits: Sequence[int]) -> int:
        key = 0
        for d in digits:
            key = key * self.base + d
        return key

    def lemma_columns(self, lemma: str) -> np.ndarray:
        columns: list[int] = []
        if self.words is not None and lemma in self.words:
            columns.append(self.words[lemma])
        if self.chars is not None:
            chars = self.chars
            columns += [chars[g] for g in char_grams(Stretch((lemma,), "")) if g in chars]
        return np.array(columns, dtype=np.int64)

    @property
    def has_readings(self) -> bool:
        return self.reading_vocabulary is not None

    def reading_columns(self, reading: str) -> list[np.ndarray]:
        """Per gram length 2, 3, 4: the column of the gram starting at each position, or -1."""
        if self.readings is None:
            vocabulary = self.reading_vocabulary or {}
            return [
                np.array([vocabulary.get(reading[i : i + n], -1)
                          for i in range(len(reading) - n + 1)], dtype=np.int64)
                for n in (2, 3, 4)
            ]
        codes = np.frombuffer(reading.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        # A character past the alphabet's last one reads as the table's final 0.
        digits = self.digits[np.minimum(codes, len(self.digits) - 1)]
        out: list[np.ndarray] = []
        keys = digits
        for n, (table, columns) in zip((2, 3, 4), self.readings, strict=True):
            keys = keys[:-1] * self.base + digits[n - 1 :]
            if columns is None:  # a dense table: the column, or -1, at each key
                out.append(table[keys].astype(np.int64))
            elif len(table) == 0 or len(keys) == 0:
                out.append(np.full(len(keys), -1, dtype=np.int64))
            else:
                at = np.minimum(np.searchsorted(table, keys), len(table) - 1)
                out.append(np.where(table[at] == keys, columns[at], -1))
        return out


class _KnownLemmas(dict[str, np.ndarray]):
    """Each lemma's columns, computed at its first sight; bounded, as customers can type
    endless new words."""

    def __init__(self, compute: Callable[[str], np.ndarray]) -> None:
        super().__init__()
        self._compute = compute

    def __missing__(self, lemma: str) -> np.ndarray:
        if len(self) >= _LEMMA_CACHE:
            self.clear()
        found = self[lemma] = self._compute(lemma)
        return found


# Reading grams become int64 keys below this.
_MAX_KEY = 2**62
# Distinct lemmas whose columns are kept (a few MB at most).
_LEMMA_CACHE = 100_000
# The largest table of reading grams indexed directly (entries of 4 bytes).
_DENSE_TABLE = 4_000_000
