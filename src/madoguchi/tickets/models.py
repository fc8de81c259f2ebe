"""Tables of the ticket domain: tickets, their audit log and notes, identity checks and
decisions (the law's steps, see lifecycle.py), reference counters, users.

Every schema change here needs a migration under infra/migrations/versions (a test compares
the migrated schema with these models).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import relationship

from madoguchi.infra.db import Base, JSONType, UTCDateTime, utcnow

from .workflow import PRIORITIES, STATUSES

DECISION_STATES: tuple[str, ...] = ("effective", "pending", "approved", "returned")

# The customer's contact data: what retention (`purge_contact`) clears.
CONTACT_FIELDS: tuple[str, ...] = (
    "customer_name",
    "customer_phone",
    "customer_email",
    "customer_postal_address",
    "customer_member_number",
    "preferred_contact",
    "preferred_time",
)

ROLES: tuple[str, ...] = ("operator", "supervisor")


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _columns(row: Any, *leave_out: str) -> dict[str, Any]:
    """A row's columns as JSON-ready values, but those in `leave_out`."""
    return {c.name: _jsonable(getattr(row, c.key)) for c in row.__table__.columns
            if c.name not in leave_out}


def _ticket_id(**index: bool) -> Column:
    """The ticket a row belongs to: the row goes when the ticket goes."""
    return Column(Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, **index)


def _owned(model: str, **options: Any) -> Any:
    """A ticket's rows of `model`: loaded with the ticket, deleted with it."""
    return relationship(model, back_populates="ticket", cascade="all, delete-orphan",
                        lazy="selectin", **options)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(STATUSES)})", name="status"),
        CheckConstraint(f"priority IN ({_in(PRIORITIES)})", name="priority"),
        Index("ix_tickets_queue", "status", "priority", "due_at"),
    )

    id = Column(Integer, primary_key=True)
    reference = Column(String(32), nullable=False, unique=True)
    request_types = Column(JSONType, nullable=False, default=list)
    status = Column(String(20), nullable=False, default="new")
    priority = Column(String(10), nullable=False, default="normal")
    due_at = Column(UTCDateTime, nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = Column(UTCDateTime, nullable=False, default=utcnow)

    customer_name = Column(String(200))
    customer_phone = Column(String(50))
    customer_email = Column(String(254))
    customer_postal_address = Column(Text)
    customer_member_number = Column(String(50))
    preferred_contact = Column(String(50))
    preferred_time = Column(String(200))

    # What exactly is asked, per request type (item + new value, channels, recipients, scope …).
    details = Column(JSONType, nullable=False, default=dict)
    is_agent = Column(Boolean, nullable=False, default=False)
    customer_words = Column(Text)
    nlu_intent = Column(String(100))
    nlu_confidence = Column(Float)
    notice_sections = Column(JSONType, nullable=False, default=list)
    next_steps = Column(Text)
    conversation_id = Column(String(255), index=True)
    assignee = Column(String(64))
    idempotency_key = Column(String(200), unique=True)
    contact_purged_at = Column(UTCDateTime)

    # The law's steps (lifecycle.py). The day the request reached us (a form by post may
    # arrive after the chat): the internal target and Art. 39's two weeks count from it.
    received_at = Column(UTCDateTime, nullable=False, default=utcnow)
    # The notice version the customer saw (the chat fills it).
    notice_version = Column(String(64))
    agent_kind = Column(String(32))
    agent_relation = Column(String(200))
    disclosure_kind = Column(String(32))
    delivery_method = Column(String(32))
    disclosure_scope = Column(String(16))
    disclosure_items = Column(JSONType)
    fee_amount = Column(Integer)  # yen; None = no fee recorded
    fee_told_at = Column(UTCDateTime)

    audit = _owned("AuditEntry", order_by="AuditEntry.id")
    notes = _owned("Note", order_by="Note.id")
    identity = _owned("IdentityCheck", uselist=False)
    decisions = _owned("Decision", order_by="Decision.id")

    @property
    def decision(self) -> Decision | None:
        """The decision in force or awaiting approval (a returned proposal is history)."""
        current = [d for d in self.decisions if d.state != "returned"]
        return current[-1] if current else None

    def __repr__(self) -> str:
        return f"<Ticket {self.reference} {self.status} {self.priority} {self.assignee}>"

    def to_dict(self, *, history: bool = False) -> dict[str, Any]:
        """JSON-ready fields; with `history`, also the audit log and notes."""
        data = _columns(self, "idempotency_key")
        if history:
            data["audit"] = [entry.to_dict() for entry in self.audit]
            data["notes"] = [note.to_dict() for note in self.notes]
            data["identity"] = self.identity.to_dict() if self.identity else None
            data["decisions"] = [d.to_dict() for d in self.decisions]
            data["decision"] = self.decision.to_dict() if self.decision else None
        return data


class IdentityCheck(Base):
    """How the person was confirmed to be the person (本人確認): one per ticket."""

    __tablename__ = "ticket_identity_checks"

    id = Column(Integer, primary_key=True)
    ticket_id = _ticket_id(unique=True)
    method = Column(String(32), nullable=False)
    received = Column(Text, nullable=False)  # what we received (documents, the call …)
    received_at = Column(UTCDateTime, nullable=False)
    verified_by = Column(String(64), nullable=False)
    verified_at = Column(UTCDateTime, nullable=False)

    ticket = relationship("Ticket", back_populates="identity")

    def to_dict(self) -> dict[str, Any]:
        return _columns(self, "id", "ticket_id")


class Decision(Base):
    """The answer to a request: its outcome, ground and reasons (Art. 36), the letter, who
    decided, and for a refusal in whole or part who approved it (four eyes)."""

    __tablename__ = "ticket_decisions"
    __table_args__ = (CheckConstraint(f"state IN ({_in(DECISION_STATES)})", name="state"),)

    id = Column(Integer, primary_key=True)
    ticket_id = _ticket_id(index=True)
    outcome = Column(String(20), nullable=False)
    ground = Column(String(64))
    explanation = Column(Text)
    letter = Column(Text, nullable=False)
    state = Column(String(16), nullable=False)
    decided_by = Column(String(64), nullable=False)
    decided_at = Column(UTCDateTime, nullable=False)
    approved_by = Column(String(64))
    approved_at = Column(UTCDateTime)
    returned_by = Column(String(64))
    returned_at = Column(UTCDateTime)
    return_reason = Column(Text)

    ticket = relationship("Ticket", back_populates="decisions")

    @property
    def effective_at(self) -> datetime | None:
        """When the decision took effect: at once for a grant, at approval otherwise."""
        if self.state == "effective":
            return self.decided_at
        return self.approved_at if self.state == "approved" else None

    def to_dict(self) -> dict[str, Any]:
        data = _columns(self, "ticket_id")
        data["effective_at"] = _jsonable(self.effective_at)
        return data


class AuditEntry(Base):
    """One change of one ticket: who, when, what (`changes` = {field: {"old": …, "new": …}})."""

    __tablename__ = "audit_entries"

    id = Column(Integer, primary_key=True)
    ticket_id = _ticket_id(index=True)
    at = Column(UTCDateTime, nullable=False, default=utcnow)
    actor = Column(String(64), nullable=False)
    action = Column(String(32), nullable=False)
    changes = Column(JSONType, nullable=False, default=dict)

    ticket = relationship("Ticket", back_populates="audit")

    def to_dict(self) -> dict[str, Any]:
        return _columns(self, "id", "ticket_id")


class Note(Base):
    """An operator's internal note on a ticket (never shown to the customer)."""

    __tablename__ = "ticket_notes"

    id = Column(Integer, primary_key=True)
    ticket_id = _ticket_id(index=True)
    at = Column(UTCDateTime, nullable=False, default=utcnow)
    author = Column(String(64), nullable=False)
    body = Column(Text, nullable=False)

    ticket = relationship("Ticket", back_populates="notes")

    def to_dict(self) -> dict[str, Any]:
        return _columns(self, "ticket_id")


class TicketCounter(Base):
    """The last reference number handed out on one JST day."""

    __tablename__ = "ticket_counters"

    day = Column(Date, primary_key=True)
    last = Column(Integer, nullable=False)


class User(Base):
    """A desk user; only a hash of the bearer token is stored."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(f"role IN ({_in(ROLES)})", name="role"),)

    id = Column(Integer, primary_key=True)
    name = Column(String(64), nullable=False, unique=True)
    role = Column(String(20), nullable=False)
    token_hash = Column(String(64), nullable=False, unique=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    active = Column(Boolean, nullable=False, default=True)

    def __repr__(self) -> str:
        return f"<User {self.name} {self.role}{'' if self.active else ' inactive'}>"
