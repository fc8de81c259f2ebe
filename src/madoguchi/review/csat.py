"""CSAT: 「今回の対応はいかがでしたか」, asked once per conversation, one rating of 1–5 and an
optional comment, kept with the conversation, its ticket and the operator who held it.

One row per conversation (a unique conversation id): the row is written when the question is
asked, so "asked once" holds across sessions, replicas and retries; the rating and the comment
fill it later. The comment is stored masked (every kind the PII finder knows becomes its label,
card and individual numbers included): the figures never need a customer's phone number.
Nothing here imports Rasa; the action server and the desk both call `CsatBook`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import CheckConstraint, Column, Index, Integer, String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from madoguchi.infra.db import Base, JSONType, UTCDateTime, utcnow, write_session
from madoguchi.infra.settings import project_root

MIN_SCORE, MAX_SCORE = 1, 5
MAX_COMMENT = 1000
QUESTION_FILE = Path("data") / "dialogue" / "csat.yml"

# Why the question was asked (what ended the conversation).
TRIGGERS = ("goodbye", "thanks", "handback", "resolved", "customer")

# Refusal reasons (CsatError.reason).
OUT_OF_RANGE = "out_of_range"
ALREADY_RATED = "already_rated"
NOT_RATED = "not_rated"
ALREADY_COMMENTED = "already_commented"
EMPTY_COMMENT = "empty_comment"

# Each answer: the column of its time, and the refusal of a second one.
ANSWERS = {
    "score": ("rated_at", ALREADY_RATED,
              "this conversation has been rated already (この会話はすでに評価されています)"),
    "comment": ("commented_at", ALREADY_COMMENTED,
                "a comment was given already (ご意見はすでに承っています)"),
}


class CsatError(ValueError):
    """A rating or comment that cannot be stored; `reason` is one of the constants above."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


class CsatSurvey(Base):
    """The question put to one conversation, and the customer's answer once given."""

    __tablename__ = "csat_surveys"
    __table_args__ = (
        CheckConstraint(f"score IS NULL OR (score >= {MIN_SCORE} AND score <= {MAX_SCORE})",
                        name="score"),
        Index("ix_csat_surveys_rated_at", "rated_at"),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, unique=True)
    ticket_reference = Column(String(32), index=True)
    operator = Column(String(64), index=True)
    request_types = Column(JSONType, nullable=False, default=list)
    trigger = Column(String(20), nullable=False)
    asked_at = Column(UTCDateTime, nullable=False, default=utcnow)
    score = Column(Integer)
    rated_at = Column(UTCDateTime)
    comment = Column(Text)  # masked
    commented_at = Column(UTCDateTime)

    def to_dict(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "conversation_id": self.conversation_id, "ticket_reference": self.ticket_reference,
            "operator": self.operator, "request_types": list(self.request_types or []),
            "trigger": self.trigger, "asked_at": iso(self.asked_at), "score": self.score,
            "rated_at": iso(self.rated_at), "comment": self.comment,
            "commented_at": iso(self.commented_at),
        }


def parse_score(value: Any) -> int:
    """A score as a button or a client sends it (4, "4", "４"); CsatError when not 1–5."""
    if isinstance(value, bool):
        value = None
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        value = int(text) if text.isdigit() and len(text) <= 3 else None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or not MIN_SCORE <= value <= MAX_SCORE:
        raise CsatError(OUT_OF_RANGE, f"score must be a whole number from {MIN_SCORE} to "
                                      f"{MAX_SCORE} (評価は{MIN_SCORE}〜{MAX_SCORE}です)")
    return value


def mask_comment(text: str) -> str:
    """The comment as it is kept: personal data as labels (the finder loads spaCy: late).

    The chat channel already turned the customer's contact data into placeholders with an id
    (［電話番号#a78465e3］). The id names a row in the pending store that the comment has no
    use for, so only the label is kept, as the README promises.
    """
    from madoguchi.text.pii import mask
    from madoguchi.text.pii.contact import strip_tokens

    return mask(strip_tokens(text), style="label")


@dataclass(frozen=True)
class QuestionTexts:
    """What data/dialogue/csat.yml says: the words that mean "no comment"."""

    skip_words: tuple[str, ...]

    def is_skip(self, text: str) -> bool:
        key = "".join(unicodedata.normalize("NFKC", text or "").split()).rstrip("。.!！")
        return not key or key in self.skip_words


@lru_cache(maxsize=1)
def question_texts() -> QuestionTexts:
    raw = yaml.safe_load((project_root() / QUESTION_FILE).read_text(encoding="utf-8")) or {}
    words = raw.get("skip_comment") or []
    if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words):
        raise ValueError(f"{QUESTION_FILE}: skip_comment must be a list of words")
    return QuestionTexts(tuple(
        "".join(unicodedata.normalize("NFKC", w).split()) for w in words))


class CsatBook:
    """Reads and writes the surveys; each method is one short transaction."""

    def __init__(self, sessions: sessionmaker, *, masker: Any = mask_comment) -> None:
        self._sessions = sessions
        self._mask = masker

    def get(self, conversation_id: str) -> CsatSurvey | None:
        with self._sessions() as session:
            return session.execute(
                select(CsatSurvey).where(CsatSurvey.conversation_id == conversation_id)
            ).scalar_one_or_none()

    def ask(self, conversation_id: str, trigger: str, *, ticket_reference: str | None = None,
            operator: str | None = None, request_types: Iterable[str] = ()) -> bool:
        """Record that the question is put; False when this conversation was asked before."""
        if trigger not in TRIGGERS:
            raise ValueError(f"unknown CSAT trigger {trigger!r}")
        if self.get(conversation_id) is not None:
            return False
        try:
            with write_session(self._sessions) as session:
                session.add(CsatSurvey(
                    conversation_id=conversation_id, trigger=trigger, asked_at=utcnow(),
                    ticket_reference=ticket_reference, operator=operator,
                    request_types=list(request_types)))
        except IntegrityError:  # another replica asked at the same moment
            return False
        return True

    def rate(self, conversation_id: str, score: Any) -> CsatSurvey:
        """Store the rating once. A rating nobody asked for (a client sending the button's
        command by itself) counts as asked by the customer; a second one is refused."""
        value = parse_score(score)
        self.ask(conversation_id, "customer")
        return self._answer(conversation_id, "score", value)

    def comment(self, conversation_id: str, text: Any) -> CsatSurvey:
        """The optional comment after the rating, masked, once."""
        if not isinstance(text, str) or not text.strip():
            raise CsatError(EMPTY_COMMENT, "the comment is empty (ご意見が空です)")
        return self._answer(conversation_id, "comment", self._mask(text.strip()[:MAX_COMMENT]))

    def _answer(self, conversation_id: str, column: str, value: Any) -> CsatSurvey:
        """Store one answer (the rating or the comment) and when it came, refused if given
        already: the one place where "once" is kept for both."""
        answered_at, already, detail = ANSWERS[column]
        with write_session(self._sessions) as session:
            found = session.execute(
                select(CsatSurvey).where(CsatSurvey.conversation_id == conversation_id))
            if column == "score":  # rate() has just asked, so the row is there
                survey = found.scalar_one()
            else:
                survey = found.scalar_one_or_none()
                if survey is None or survey.score is None:
                    raise CsatError(NOT_RATED, "rate the conversation before commenting "
                                               "(評価の前にご意見は承れません)")
            if getattr(survey, column) is not None:
                raise CsatError(already, detail)
            setattr(survey, column, value)
            setattr(survey, answered_at, utcnow())
            session.flush()
            session.expunge(survey)
        return survey
