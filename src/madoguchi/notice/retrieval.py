"""Which notice section a question is about, by BM25 over the sections' content words.

A fallback and a cross-check for the NLU intent: it needs no training, so it follows a revised
notice at once, and its scores are normalised per question so that one threshold fits all.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from madoguchi.notice.model import Notice, Section
from madoguchi.text.tokenize import tokenize


def content_lemmas(text: str, notice: Notice) -> list[str]:
    """Lower-cased dictionary forms of the words that carry a topic (no particles, no です)."""
    return [
        w.lemma.lower()
        for w in tokenize(text)
        if w.pos in notice.content_pos and w.lemma.lower() not in notice.stop_lemmas
    ]


class BM25:
    """Okapi BM25 over pre-tokenised documents."""

    def __init__(self, docs: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.tfs = [Counter(d) for d in docs]
        self.lengths = [len(d) for d in docs]
        self.avgdl = (sum(self.lengths) / len(docs)) if docs else 0.0
        n = len(docs)
        df = Counter(term for tf in self.tfs for term in tf)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        # What a word no document has would weigh: it still counts against the question.
        self.unknown_idf = math.log(1 + (n + 0.5) / 0.5)

    def scores(self, query: Sequence[str]) -> list[float]:
        terms = set(query)
        out = []
        for tf, length in zip(self.tfs, self.lengths, strict=True):
            norm = self.k1 * (1 - self.b + self.b * length / self.avgdl)
            out.append(
                sum(self.idf[t] * tf[t] * (self.k1 + 1) / (tf[t] + norm) for t in terms if t in tf)
            )
        return out

    def ceiling(self, query: Sequence[str], unknown_weight: float = 0.5) -> float:
        """The most any document could score: every known term at saturation."""
        return sum(
            (self.idf[t] if t in self.idf else unknown_weight * self.unknown_idf) * (self.k1 + 1)
            for t in set(query)
        )


class SectionRetriever:
    """Ranks notice sections for a question; scores are fractions of the question's ceiling."""

    def __init__(
        self, notice: Notice, *, k1: float = 1.2, b: float = 0.75, unknown_weight: float = 0.5
    ) -> None:
        self.notice = notice
        self.ids = notice.ids
        self.unknown_weight = unknown_weight
        self.bm25 = BM25([self._document(s) for s in notice.sections], k1=k1, b=b)

    def _document(self, section: Section) -> list[str]:
        words = content_lemmas(f"{section.title}\n{section.text}", self.notice)
        for keyword in section.keywords:
            words.extend(content_lemmas(keyword, self.notice))
        return words

    def rank(self, question: str, k: int = 3) -> list[tuple[str, float]]:
        query = content_lemmas(question, self.notice)
        if not query:
            return []
        ceiling = self.bm25.ceiling(query, self.unknown_weight)
        scored = [
            (sid, score / ceiling)
            for sid, score in zip(self.ids, self.bm25.scores(query), strict=True)
        ]
        scored.sort(key=lambda pair: -pair[1])  # stable: the notice's order breaks ties
        return [pair for pair in scored[:k] if pair[1] > 0]

    def best(self, question: str, threshold: float = 0.2) -> str | None:
        """The best section, or None when nothing reaches threshold (not about the notice)."""
        ranked = self.rank(question, k=1)
        return ranked[0][0] if ranked and ranked[0][1] >= threshold else None

    def refine(self, section_id: str, question: str) -> str:
        """The sub-item of section_id the question is about, else section_id itself.

        The NLU may only know that a question is about §4; the reply is better from 4.2 when the
        question is about documents or agents.
        """
        family = {section_id, *(c.id for c in self.notice.children(section_id))}
        for candidate, _ in self.rank(question, k=len(self.ids)):
            if candidate in family:
                return candidate
        return section_id
