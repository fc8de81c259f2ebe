"""Tables of the review side: a read model of Rasa's conversations and the supervisors' work.

Rasa's `events` table is one row per event with the text inside JSON: nothing a list filter
can use. The projector (`projector.py`) folds those events into one row per conversation plus
its facets (intents, request types, notice sections), all masked, with the indexes the filters
need. Tags, comments, the reviewed mark and the audit of reveals and exports are ours alone.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)

from madoguchi.infra.db import Base, JSONType, UTCDateTime, utcnow

# Facet kinds: what a conversation touched, one row per distinct value.
INTENT, REQUEST_TYPE, SECTION = "intent", "request_type", "section"


class Conversation(Base):
    """One conversation (a Rasa sender id) as supervisors filter and count it; text is masked."""

    __tablename__ = "review_conversations"
    __table_args__ = (
        Index("ix_review_conversations_started_at", "started_at", "id"),
        Index("ix_review_conversations_day", "day"),
        Index("ix_review_conversations_handed_off", "handed_off", "started_at"),
        Index("ix_review_conversations_fell_back", "fell_back", "started_at"),
        Index("ix_review_conversations_reviewed", "reviewed", "started_at"),
        Index("ix_review_conversations_min_confidence", "min_confidence"),
        Index("ix_review_conversations_last_at", "last_at"),
    )

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False, unique=True)
    started_at = Column(UTCDateTime, nullable=False)
    last_at = Column(UTCDateTime, nullable=False)
    day = Column(Date, nullable=False)  # the JST day it started: figures are per day
    last_event_id = Column(Integer, nullable=False)
    turns = Column(Integer, nullable=False, default=0)  # the customer's messages
    fallback_turns = Column(Integer, nullable=False, default=0)
    first_words = Column(Text)
    customer_text = Column(Text, nullable=False, default="")  # masked; what `q` searches
    handed_off = Column(Boolean, nullable=False, default=False)
    fell_back = Column(Boolean, nullable=False, default=False)
    min_confidence = Column(Float)
    ticket_reference = Column(String(32))
    turns_to_ticket = Column(Integer)
    operator_turns = Column(Integer, nullable=False, default=0)
    # The form slot being asked: the customer's next message is that contact datum, masked whole.
    pending_slot = Column(String(64))
    reviewed = Column(Boolean, nullable=False, default=False)
    reviewed_by = Column(String(64))
    reviewed_at = Column(UTCDateTime)
    anonymised_at = Column(UTCDateTime)


class Facet(Base):
    """An intent, request type or notice section that occurred in a conversation."""

    __tablename__ = "review_facets"
    __table_args__ = (
        UniqueConstraint("conversation_id", "kind", "value", name="uq_review_facets_value"),
        Index("ix_review_facets_lookup", "kind", "value", "conversation_id"),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(
        Integer, ForeignKey("review_conversations.id", ondelete="CASCADE"), nullable=False
    )
    kind = Column(String(20), nullable=False)
    value = Column(String(100), nullable=False)


class Tag(Base):
    __tablename__ = "review_tags"
    __table_args__ = (
        UniqueConstraint("conversation_id", "tag", name="uq_review_tags_tag"),
        Index("ix_review_tags_lookup", "tag", "conversation_id"),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(
        Integer, ForeignKey("review_conversations.id", ondelete="CASCADE"), nullable=False
    )
    tag = Column(String(64), nullable=False)
    added_by = Column(String(64), nullable=False)
    added_at = Column(UTCDateTime, nullable=False, default=utcnow)


class Comment(Base):
    """A supervisor's comment on one message (event id) of a conversation."""

    __tablename__ = "review_comments"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(
        Integer, ForeignKey("review_conversations.id", ondelete="CASCADE"), nullable=False,
        index=True,
    )
    event_id = Column(Integer, nullable=False)
    at = Column(UTCDateTime, nullable=False, default=utcnow)
    author = Column(String(64), nullable=False)
    body = Column(Text, nullable=False)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "event_id": self.event_id, "at": self.at.isoformat(),
                "author": self.author, "body": self.body}


class ReviewAudit(Base):
    """Who did what on the review side, when: reveals (with the reason), labels, exports,
    retention runs. Conversations need not have a ticket, so this is not the tickets' log."""

    __tablename__ = "review_audit"

    id = Column(Integer, primary_key=True)
    at = Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    actor = Column(String(64), nullable=False)
    action = Column(String(32), nullable=False)
    sender_id = Column(String(255), index=True)
    details = Column(JSONType, nullable=False, default=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at.isoformat(), "actor": self.actor,
                "action": self.action, "conversation_id": self.sender_id,
                "details": self.details}


class Cursor(Base):
    """How far the projector has read Rasa's `events` table."""

    __tablename__ = "review_cursor"

    name = Column(String(32), primary_key=True)
    last_event_id = Column(Integer, nullable=False)
