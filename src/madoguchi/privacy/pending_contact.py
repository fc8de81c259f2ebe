"""Contact data between the chat and the ticket: clear values keyed by conversation and id.

The chat channel replaces contact data with placeholders before Rasa sees a message
(`madoguchi.text.pii.contact`) and puts the clear value here; the action server reads it back
to validate a form answer and to fill the ticket, and the customer's own chat shows it again.
A row lives `TTL` at most: retention deletes expired rows, and creating the ticket deletes the
conversation's rows that its slots no longer name. The table is in madoguchi's database (the
same one as the tickets), never in the tracker store's `events`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, Index, String, Text, delete, select
from sqlalchemy.orm import sessionmaker

from madoguchi.infra.db import Base, UTCDateTime, utcnow, write_session
from madoguchi.text.pii.contact import (
    WHOLE_ANSWERS,
    ContactItem,
    new_token,
    placeholders,
    reveal,
)

# Long enough for a slow form (the customer looks up a member number), short next to the
# retention period: a conversation left half-way loses its contact data within hours.
TTL = timedelta(hours=6)


class PendingContact(Base):
    """One contact item a customer typed, waiting for its ticket."""

    __tablename__ = "pending_contact"
    __table_args__ = (Index("ix_pending_contact_expires_at", "expires_at"),)

    token = Column(String(16), primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    kind = Column(String(20), nullable=False)
    value = Column(Text, nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    expires_at = Column(UTCDateTime, nullable=False)


@dataclass
class PendingContacts:
    """The store, on madoguchi's database."""

    sessions: sessionmaker
    ttl: timedelta = TTL

    def keep(self, conversation_id: str, items: Iterable[ContactItem],
             now: datetime | None = None) -> None:
        items = list(items)
        if not items:
            return
        now = now or utcnow()
        with write_session(self.sessions) as session:
            for item in items:
                session.add(PendingContact(
                    token=item.token, conversation_id=conversation_id, kind=item.kind,
                    value=item.value, created_at=now, expires_at=now + self.ttl))

    def values(self, conversation_id: str, tokens: Iterable[str],
               now: datetime | None = None) -> dict[str, str]:
        """{token: clear value} of this conversation's unexpired items among `tokens`."""
        wanted = sorted(set(tokens))
        if not wanted:
            return {}
        now = now or utcnow()
        with self.sessions() as session:
            rows = session.execute(
                select(PendingContact.token, PendingContact.value).where(
                    PendingContact.conversation_id == conversation_id,
                    PendingContact.token.in_(wanted), PendingContact.expires_at > now))
            return dict(rows.all())

    def reveal(self, conversation_id: str, text: str) -> str:
        """`text` with this conversation's placeholders in clear (others stay placeholders)."""
        found = placeholders(text) if isinstance(text, str) else []
        if not found:
            return text
        return reveal(text, self.values(conversation_id, [t for _, t in found]))

    def reveal_all(self, conversation_id: str, value: object) -> object:
        """The same through strings, lists and dicts (slot values, ticket details)."""
        if isinstance(value, str):
            return self.reveal(conversation_id, value)
        if isinstance(value, list):
            return [self.reveal_all(conversation_id, v) for v in value]
        if isinstance(value, dict):
            return {k: self.reveal_all(conversation_id, v) for k, v in value.items()}
        return value

    def forget(self, conversation_id: str, keep: Iterable[str] = ()) -> int:
        """Delete the conversation's items except the tokens in `keep` (still named by a slot
        that carries over to the next request); how many went."""
        kept = set(keep)
        with write_session(self.sessions) as session:
            query = delete(PendingContact).where(
                PendingContact.conversation_id == conversation_id)
            if kept:
                query = query.where(PendingContact.token.not_in(sorted(kept)))
            return session.execute(query).rowcount or 0

    def purge_expired(self, now: datetime | None = None) -> int:
        with write_session(self.sessions) as session:
            return session.execute(delete(PendingContact).where(
                PendingContact.expires_at <= (now or utcnow()))).rowcount or 0


def tokens_in(values: Mapping[str, object] | Iterable[object]) -> set[str]:
    """The placeholder tokens named anywhere in slot values."""
    items = values.values() if isinstance(values, Mapping) else values
    out: set[str] = set()
    for value in items:
        if isinstance(value, str):
            out |= {t for _, t in placeholders(value)}
        elif isinstance(value, list | dict):
            out |= tokens_in(value if isinstance(value, list) else list(value.values()))
    return out


def conceal_value(store: PendingContacts, conversation_id: str, slot: str, value: object,
                  token: str | None = None) -> object:
    """A validated form answer as the slot keeps it: a placeholder for a contact slot (the
    clear value kept here for the ticket), anything else unchanged."""
    kind = WHOLE_ANSWERS.get(slot)
    if kind is None or not isinstance(value, str) or not value.strip():
        return value
    if placeholders(value):
        return value
    item = ContactItem(token or new_token(), kind, value)
    store.keep(conversation_id, [item])
    return item.placeholder
