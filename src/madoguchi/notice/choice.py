"""Which notice section a message is about, and whether it is about the notice at all.

The NLU knows how customers ask; retrieval (BM25 over the notice's own words) knows what the
notice says. The choice weighs both, so the action that answers, the fallback's second chance
and a question in the middle of a request all decide the same way. It takes the message as NLU
read it (text and intent ranking), not a Rasa tracker.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from madoguchi.notice.model import INTENT_PREFIX, Notice
from madoguchi.notice.retrieval import SectionRetriever

# With the NLU's best guess on a notice question, retrieval needs to clear only this share of
# the threshold.
SUPPORTED_FACTOR = 0.7


class ParsedMessage(Protocol):
    """The customer's message as NLU read it."""

    @property
    def text(self) -> str: ...

    @property
    def ranking(self) -> Sequence[tuple[str, float]]: ...

    @property
    def best_guess(self) -> tuple[str, float]:
        """The most likely real intent, even when the message fell back as unclear."""
        ...


@dataclass(frozen=True)
class NoticeChoice:
    """The notice, its retriever and the retrieval threshold (None: retrieval switched off).

    The threshold was measured by `make bench BENCH=notice`; the bench switches retrieval off
    (MADOGUCHI_RETRIEVAL_THRESHOLD=off) to show what it adds.
    """

    notice: Notice
    retriever: SectionRetriever
    threshold: float | None

    @property
    def retrieval_weight(self) -> float:
        """How much retrieval counts beside the NLU when both name a section."""
        return 0.0 if self.threshold is None else 1.0

    def best_section(self, message: ParsedMessage) -> str:
        """The section asked about: the NLU's notice intents and retrieval, weighed equally.

        Both are in [0, 1]; together they read held-out questions better than either alone
        (`make bench BENCH=notice`), since retrieval knows the notice's own words and the NLU
        knows how customers ask.
        """
        nlu = dict(message.ranking)
        weight = self.retrieval_weight
        found = dict(self.retriever.rank(message.text, k=len(self.notice))) if weight else {}
        return max(
            self.notice.sections,
            key=lambda s: nlu.get(s.intent, 0.0) + weight * found.get(s.id, 0.0),
        ).id

    def retrieved_section(self, text: str, share: float = 1.0) -> str | None:
        """The section retrieval is sure of on its own (at `share` of the threshold), if any."""
        if self.threshold is None:
            return None
        return self.retriever.best(text, self.threshold * share)

    def seems_about_the_notice(self, message: ParsedMessage) -> bool:
        """Retrieval is sure enough on its own, or the NLU's best guess is a notice question and
        retrieval agrees that the notice speaks of it."""
        if self.retrieved_section(message.text) is not None:
            return True
        guess, _ = message.best_guess
        return guess.startswith(INTENT_PREFIX) and (
            self.retrieved_section(message.text, SUPPORTED_FACTOR) is not None
        )
