"""The notice passages that answer a customer's message, for the operator's side panel.

Ranking is the notice package's own BM25 (`SectionRetriever`); the quoted words are the
notice's sentences as the loader splits them, and the ready-to-edit reply is the answer
composer's, so the operator sees exactly what the assistant would have said.

Confidence is calibrated, not the raw score. `SectionRetriever.rank` scores a section as the
share of the question's BM25 ceiling it reaches (0–1). On the held-out notice questions
(eval/notice_questions.yml, 187 questions) the share of top sections that were right (the
section or its family) per score band was: 0.1–0.2 → 57 %, 0.2–0.3 → 74 %, 0.3–0.4 → 98 %,
0.4 and above → about 95 %. `_CALIBRATION` is that curve, made monotone and piecewise linear,
pulled down towards 0 for scores below 0.1 (there the eval has no questions, and messages that
are not about the notice live). A passage below the top one gets the calibrated value of its own
score times its score relative to the top one: it is right only when the top one is not.
"""

from __future__ import annotations

import dataclasses
import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field

from madoguchi.notice import Notice, SectionRetriever, compose_answer, load_notice
from madoguchi.notice.retrieval import content_lemmas
from madoguchi.text.sentences import split_sentences

DEFAULT_K = 3
QUOTE_MAX_CHARS = 160

# Empty-result reasons.
REASON_EMPTY = "empty_message"
REASON_NO_CONTENT = "no_content_words"
REASON_NO_MATCH = "no_matching_section"

# (normalised BM25 score, probability that the section answers the message); see module doc.
_CALIBRATION: tuple[tuple[float, float], ...] = (
    (0.0, 0.0),
    (0.1, 0.45),
    (0.2, 0.6),
    (0.3, 0.8),
    (0.4, 0.95),
    (1.0, 0.97),
)
# A further sentence is quoted when it weighs at least this share of the best one.
_RELATIVE_WEIGHT = 0.6
# A list marker or a ※ at the start of a notice line is layout, not words to quote.
_LAYOUT = re.compile(r"^(?:-\s+)")
# A section's heading line: a number label and a title, no full stop.
_HEADING = re.compile(r"^(\d+\.|\(\d+\))[^。]*$")


def calibrate(score: float) -> float:
    """The normalised BM25 score mapped onto the measured share of right answers, in [0, 1]."""
    xs = [x for x, _ in _CALIBRATION]
    s = min(max(score, 0.0), 1.0)
    i = bisect_right(xs, s) - 1
    if i >= len(_CALIBRATION) - 1:
        return _CALIBRATION[-1][1]
    (x0, y0), (x1, y1) = _CALIBRATION[i], _CALIBRATION[i + 1]
    return y0 + (y1 - y0) * (s - x0) / (x1 - x0)


@dataclass(frozen=True)
class Passage:
    """One suggestion: where in the notice, its own words, and the reply the assistant would give.

    `quote` is one or more whole sentences of the section, verbatim; `reply` is the composed
    chat answer with its citation line (for a question the notice leaves open it is the honest
    reply of limits.yml, and `limit_id` names it).
    """

    section_id: str
    title: str
    citation: str
    quote: str
    reply: str
    score: float
    confidence: float
    limit_id: str | None = None

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Suggestions:
    """Passages best first; when there are none, `reason` says why (for a clear empty state)."""

    passages: list[Passage] = field(default_factory=list)
    reason: str | None = None

    def __bool__(self) -> bool:
        return bool(self.passages)

    def as_dict(self) -> dict[str, object]:
        return {"passages": [p.as_dict() for p in self.passages], "reason": self.reason}


class PassageFinder:
    """Finds passages in one loaded notice; build it once, it keeps the BM25 index."""

    def __init__(self, notice: Notice | None = None) -> None:
        self.notice = notice or load_notice()
        self.retriever = SectionRetriever(self.notice)

    def suggest(self, message: str, k: int = DEFAULT_K) -> Suggestions:
        """The top-k sections for the message, or an empty result with its reason."""
        if not message or not message.strip():
            return Suggestions(reason=REASON_EMPTY)
        words = content_lemmas(message, self.notice)
        if not words:
            return Suggestions(reason=REASON_NO_CONTENT)
        ranked = self.retriever.rank(message, k=max(1, k))
        if not ranked:
            return Suggestions(reason=REASON_NO_MATCH)
        top = ranked[0][1]
        passages = []
        for i, (section_id, score) in enumerate(ranked):
            confidence = calibrate(score) * (1.0 if i == 0 else score / top)
            passages.append(self._passage(section_id, score, confidence, message, set(words)))
        return Suggestions(passages=passages)

    def _passage(
        self, section_id: str, score: float, confidence: float, message: str, words: set[str]
    ) -> Passage:
        section = self.notice.get(section_id)
        answer = compose_answer(self.notice, section_id, message)
        return Passage(
            section_id=section_id,
            title=section.title,
            citation=section.citation,
            quote=self.quote(section_id, words),
            reply=answer.text,
            score=round(score, 4),
            confidence=round(min(max(confidence, 0.0), 1.0), 4),
            limit_id=answer.limit_id,
        )

    def sentences(self, section_id: str) -> list[str]:
        """The section's sentences as the notice writes them (list markers aside)."""
        out: list[str] = []
        for line in self.notice.get(section_id).lines:
            out.extend(split_sentences(_LAYOUT.sub("", line)))
        return out

    def quote(self, section_id: str, words: set[str], max_chars: int = QUOTE_MAX_CHARS) -> str:
        """The sentences that share the most weight with the message, in the notice's order.

        A sentence weighs the BM25 idf of the message's words it contains; the best one is
        always quoted, the next ones (at least _RELATIVE_WEIGHT of its weight) while they fit
        max_chars. With no shared word (the section
        was found by its keywords) the quote is the section's first sentences that are not a
        heading.
        """
        sentences = self.sentences(section_id)
        idf = self.retriever.bm25.idf
        scored = []
        for index, sentence in enumerate(sentences):
            if index == 0 and len(sentences) > 1 and _is_heading(sentence):
                continue  # the citation already names the section
            shared = words & set(content_lemmas(sentence, self.notice))
            scored.append((sum(idf.get(w, 0.0) for w in shared), index))
        chosen: list[int] = []
        length = 0
        best = max((weight for weight, _ in scored), default=0.0)
        if best > 0:
            strong = [s for s in scored if s[0] >= _RELATIVE_WEIGHT * best]
            order = sorted(strong, key=lambda s: (-s[0], s[1]))
        else:
            order = scored
        for _, index in order:
            size = len(sentences[index])
            if chosen and length + size > max_chars:
                continue
            chosen.append(index)
            length += size
        return "\n".join(sentences[i] for i in sorted(chosen))


def _is_heading(sentence: str) -> bool:
    """A line that only names its section (「5. 個人情報の利用制限」「(2) お手続き方法」)."""
    return bool(_HEADING.match(sentence))


_default: PassageFinder | None = None


def suggest(message: str, k: int = DEFAULT_K) -> Suggestions:
    """Passages from the project's notice (data/notice), loaded once per process."""
    global _default
    if _default is None:
        _default = PassageFinder()
    return _default.suggest(message, k)


def verbatim(text: str, notice: Notice, section_id: str) -> bool:
    """Whether every line of text is in the section (white space aside): for checks and tests."""
    squeezed = "".join(notice.subtree_text(section_id).split())
    return all("".join(line.split()) in squeezed for line in text.splitlines() if line.strip())


__all__: Sequence[str] = (
    "DEFAULT_K",
    "REASON_EMPTY",
    "REASON_NO_CONTENT",
    "REASON_NO_MATCH",
    "Passage",
    "PassageFinder",
    "Suggestions",
    "calibrate",
    "suggest",
    "verbatim",
)
