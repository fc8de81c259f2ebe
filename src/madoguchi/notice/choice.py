"""Which notice section a message is about, and whether it is about the notice at all.

The NLU knows how customers ask; retrieval (BM25 over the notice's own words) knows what the
notice says. The choice weighs both, so the action that answers, the fallback's second chance
and a question in the middle of a request all decide the same way. It takes the message as NLU
read it (text and intent ranking), not a Rasa tracker.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from madoguchi.conversation.events import FALLBACK_INTENT
from madoguchi.notice.model import INTENT_PREFIX, Notice
from madoguchi.notice.retrieval import SectionRetriever

# With the NLU's best guess on a notice question, retrieval needs to clear only this share of
# the threshold.
SUPPORTED_FACTOR = 0.7
_EPSILON = 1e-9


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


@dataclass(frozen=True)
class Split:
    """A message between a notice answer and a request (「DMは止められますか」 is a question
    about §5 and a wish to stop): the notice answers and the request is offered beside it,
    instead of a fallback or a silent pick of one of the two.

    `neighbours`: request intent → the ids of the notice sections that speak of it
    (data/requests/neighbours.yml); `margin`: how close the two may be in NLU confidence;
    `floor`: the least confidence at which a request is offered on the NLU's word alone.
    """

    neighbours: Mapping[str, frozenset[str]]
    margin: float
    floor: float

    def request_beside(
        self,
        section_id: str,
        ranking: Sequence[tuple[str, float]],
        worded: Sequence[str] = (),
    ) -> str | None:
        """The request intent to offer beside an answer from `section_id`, if any.

        `worded`: request intents the customer's own words decide (the classifier's cues): the
        first that neighbours the section is offered whatever the NLU says. Otherwise the NLU's
        best request intent, when it neighbours the section, reaches the floor and is within
        the margin of the best real intent.
        """
        for intent in worded:
            if section_id in self.neighbours.get(intent, ()):
                return intent
        real = [(name, conf) for name, conf in ranking if name != FALLBACK_INTENT]
        if not real:
            return None
        best = real[0][1]
        for name, conf in real:
            if name in self.neighbours:
                close = best - conf <= self.margin + _EPSILON and conf >= self.floor
                return name if close and section_id in self.neighbours[name] else None
        return None

    def section_beside(
        self, request_intent: str, ranking: Sequence[tuple[str, float]], notice: Notice
    ) -> str | None:
        """The notice section to answer from before offering `request_intent`: the NLU's best
        notice intent when it neighbours the request and is within the margin of it."""
        confidences = dict(ranking)
        mine = confidences.get(request_intent, 0.0)
        sections = self.neighbours.get(request_intent, frozenset())
        for name, conf in ranking:
            section = notice.by_intent(name) if name.startswith(INTENT_PREFIX) else None
            if section is None:
                continue
            close = mine - conf <= self.margin + _EPSILON and conf >= self.floor
            return section.id if close and section.id in sections else None
        return None
