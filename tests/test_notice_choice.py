"""Choosing the notice section a message is about, from the NLU's ranking and retrieval."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from madoguchi.notice import SectionRetriever, load_notice
from madoguchi.notice.choice import NoticeChoice


@dataclass(frozen=True)
class Message:
    """A message as NLU read it; best_guess as the actions' reading gives it."""

    text: str
    ranking: list[tuple[str, float]]

    @property
    def best_guess(self) -> tuple[str, float]:
        return next(((n, c) for n, c in self.ranking if n != "nlu_fallback"), ("", 0.0))


@pytest.fixture(scope="module")
def retriever() -> SectionRetriever:
    return SectionRetriever(load_notice())


def choice(retriever: SectionRetriever, threshold: float | None = 0.35) -> NoticeChoice:
    return NoticeChoice(retriever.notice, retriever, threshold)


def test_retrieval_settles_what_the_nlu_only_guessed(retriever: SectionRetriever) -> None:
    message = Message("個人データを外国で取り扱っていますか",
                      [("notice_6", 0.31), ("notice_3", 0.30)])
    assert choice(retriever).best_section(message) == "6.7"


def test_the_nlu_decides_alone_when_retrieval_is_off(retriever: SectionRetriever) -> None:
    message = Message("個人データを外国で取り扱っていますか",
                      [("notice_6", 0.31), ("notice_3", 0.30)])
    off = choice(retriever, None)
    assert off.best_section(message) == "6"
    assert off.retrieved_section(message.text) is None
    assert not off.seems_about_the_notice(message)


def test_a_clear_question_is_about_the_notice_whatever_the_nlu_thought(
    retriever: SectionRetriever,
) -> None:
    message = Message("苦情の窓口の電話番号を教えてください", [("nlu_fallback", 0.3)])
    assert choice(retriever).seems_about_the_notice(message)
    assert choice(retriever).retrieved_section(message.text) == "7"


def test_unrelated_words_are_not_about_the_notice(retriever: SectionRetriever) -> None:
    message = Message("明日の天気を教えて", [("nlu_fallback", 0.3), ("notice_2", 0.2)])
    assert not choice(retriever).seems_about_the_notice(message)


def test_a_notice_guess_needs_less_agreement_from_retrieval(retriever: SectionRetriever) -> None:
    """Between 0.7 × threshold and the threshold: a notice guess is enough, another is not."""
    scored = [(t, score) for t in ("利用目的を教えて", "広告に使うのですか", "書類はどこに送る")
              for _, score in retriever.rank(t, k=1)]
    text, score = scored[0]
    threshold = score / 0.85  # the score lies between 0.7 and 1 times the threshold
    chooser = choice(retriever, threshold)
    assert chooser.seems_about_the_notice(Message(text, [("notice_2", 0.4)]))
    assert not chooser.seems_about_the_notice(Message(text, [("out_of_scope", 0.4)]))
