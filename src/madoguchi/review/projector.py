"""Fold Rasa's `events` table into the review read model, incrementally.

`catch_up()` reads the events after the last one it has seen (in batches), updates one row per
conversation and its facets, and moves its cursor, all in one transaction per batch: a crash
loses nothing and repeats nothing. The desk calls it before every read, so a list is never
staler than the call; a schedule is not needed.

Transactions stay short (issue 15, item 9): on SQLite a write transaction holds the database's
one write lock, and Rasa gives up on a turn's save after its 5 s busy timeout. So the customer
texts of a batch are masked (spaCy, the slow part) before the transaction opens, and a batch is
`batch` events (500), not thousands.

A conversation that receives new events after retention anonymised it is marked not anonymised
again (`anonymised_at` cleared), so that retention rewrites it once it is old in turn.

Rasa writes a conversation's events under its lock store, so within one conversation ids only
grow. Across conversations, PostgreSQL may commit a lower id after a higher one; the projector
therefore re-reads a window of recent ids there and skips what a conversation already has.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from madoguchi.conversation import events as ev
from madoguchi.conversation.table import EVENTS, events_table_exists
from madoguchi.infra import db

from .masking import PERSONAL_SLOTS, ConversationMasker
from .models import INTENT, REQUEST_TYPE, SECTION, Conversation, Cursor, Facet

CURSOR = "events"
JST = timezone(timedelta(hours=9))
# Customer words kept for search: enough for any real inquiry, bounded for the index.
MAX_SEARCH_CHARS = 20_000


@dataclass
class Projector:
    engine: Engine
    sessions: sessionmaker
    batch: int = 500
    # Re-read window for ids committed out of order (PostgreSQL with several Rasa servers).
    lookback: int | None = None

    def __post_init__(self) -> None:
        if self.lookback is None:
            self.lookback = 0 if self.engine.dialect.name == "sqlite" else 1000
        self._has_events = False

    def catch_up(self) -> int:
        """Project every event not yet seen; returns how many were applied."""
        if not self._has_events:
            if not events_table_exists(self.engine):
                return 0
            self._has_events = True
        applied = 0
        while True:
            done, count = self._one_batch()
            applied += count
            if done:
                return applied

    def _one_batch(self) -> tuple[bool, int]:
        with self.sessions() as peek:
            cursor = peek.get(Cursor, CURSOR)
            last = cursor.last_event_id if cursor else 0
            newest = peek.execute(select(EVENTS.c.id).order_by(EVENTS.c.id.desc())
                                  .limit(1)).scalar()
            if newest is None or (newest <= last and not self._late_rows(peek, last)):
                return True, 0
            # The slow part, outside the write transaction: each customer text masked.
            start = max(0, last - (self.lookback or 0))
            premasked = _premask(peek.execute(
                select(EVENTS.c.id, EVENTS.c.type_name, EVENTS.c.data)
                .where(EVENTS.c.id > start).order_by(EVENTS.c.id).limit(self.batch)).all())
        with db.write_session(self.sessions) as session:
            cursor = session.get(Cursor, CURSOR, with_for_update=True)
            if cursor is None:
                cursor = Cursor(name=CURSOR, last_event_id=0)
                session.add(cursor)
            start = max(0, cursor.last_event_id - (self.lookback or 0))
            rows = session.execute(
                select(EVENTS).where(EVENTS.c.id > start)
                .order_by(EVENTS.c.id).limit(self.batch)
            ).all()
            if not rows:
                return True, 0
            applied = self._apply(session, rows, premasked)
            top = rows[-1].id
            cursor.last_event_id = max(cursor.last_event_id, top)
            # A full batch of only re-read rows means the window is behind: keep going.
            full = len(rows) == self.batch
        return not full, applied

    def _late_rows(self, session: Session, last: int) -> bool:
        """Whether the re-read window holds an event its conversation has not seen (a cheap
        look at ids only, so that reading an up-to-date projection costs next to nothing)."""
        if not self.lookback:
            return False
        window = session.execute(
            select(EVENTS.c.id, EVENTS.c.sender_id)
            .where(EVENTS.c.id > max(0, last - self.lookback))
        ).all()
        senders = list({row.sender_id for row in window})
        seen: dict[str, int] = {}
        for chunk in _chunks(senders, 500):
            seen.update(session.execute(
                select(Conversation.sender_id, Conversation.last_event_id)
                .where(Conversation.sender_id.in_(chunk))).all())
        return any(row.id > seen.get(row.sender_id, 0) for row in window)

    def _apply(self, session: Session, rows: list[Any],
               premasked: dict[int, str] | None = None) -> int:
        """Fold rows into conversation states; write them with executemany (Core, not one ORM
        flush per object: a backlog of 100,000 conversations projects in seconds, not minutes).
        """
        table = Conversation.__table__
        by_sender: dict[str, list[Any]] = defaultdict(list)
        for row in rows:
            by_sender[row.sender_id].append(row)
        existing: dict[str, SimpleNamespace] = {}
        for chunk in _chunks(list(by_sender), 500):
            for found in session.execute(select(table).where(table.c.sender_id.in_(chunk))):
                existing[found.sender_id] = SimpleNamespace(**found._mapping)
        facets: dict[int, set[tuple[str, str]]] = defaultdict(set)
        for chunk in _chunks([c.id for c in existing.values()], 500):
            for cid, kind, value in session.execute(
                select(Facet.conversation_id, Facet.kind, Facet.value)
                .where(Facet.conversation_id.in_(chunk))
            ):
                facets[cid].add((kind, value))

        applied = 0
        created: list[SimpleNamespace] = []
        changed: list[SimpleNamespace] = []
        # A dict, not a set: the facets are inserted in the order the conversation reached them,
        # and the review lists them by id (first seen first), the same on every run.
        new_facets: dict[str, dict[tuple[str, str], None]] = defaultdict(dict)
        for sender, sender_rows in by_sender.items():
            conv = existing.get(sender)
            fresh = [r for r in sender_rows if conv is None or r.id > conv.last_event_id]
            if not fresh:
                continue
            if conv is None:
                conv = _new_state(sender, ev.at(fresh[0].timestamp))
                created.append(conv)
            else:
                changed.append(conv)
                conv.anonymised_at = None  # new words: retention has this one to do again
            seen = facets[conv.id] if conv.id else set()
            for row in fresh:
                for facet in _fold(conv, row, premasked or {}):
                    if facet not in seen:
                        new_facets[sender].setdefault(facet)
            applied += len(fresh)

        columns = [c.name for c in table.columns if c.name != "id"]
        if created:
            session.execute(insert(table), [{c: getattr(s, c) for c in columns}
                                            for s in created])
            for chunk in _chunks([s.sender_id for s in created], 500):
                ids = dict(session.execute(select(table.c.sender_id, table.c.id)
                                           .where(table.c.sender_id.in_(chunk))).all())
                for state in created:
                    if state.sender_id in ids:
                        state.id = ids[state.sender_id]
        if changed:
            session.execute(
                update(table).where(table.c.id == bindparam("_id")),
                [{"_id": s.id, **{c: getattr(s, c) for c in columns if c not in _REVIEW}}
                 for s in changed],
            )
        ids_of = {s.sender_id: s.id for s in (*created, *changed)}
        facet_rows = [{"conversation_id": ids_of[sender], "kind": kind, "value": value[:100]}
                      for sender, found in new_facets.items() for kind, value in found]
        if facet_rows:
            session.execute(insert(Facet.__table__), facet_rows)
        return applied


# Columns the supervisors' work owns: the projector never writes them back.
_REVIEW = frozenset({"reviewed", "reviewed_by", "reviewed_at", "sender_id"})


def _new_state(sender: str, first: datetime) -> SimpleNamespace:
    return SimpleNamespace(
        id=None, sender_id=sender, started_at=first, last_at=first,
        day=first.astimezone(JST).date(), last_event_id=0, turns=0, fallback_turns=0,
        first_words=None, customer_text="", handed_off=False, fell_back=False,
        min_confidence=None, ticket_reference=None, turns_to_ticket=None, operator_turns=0,
        pending_slot=None, reviewed=False, reviewed_by=None, reviewed_at=None,
        anonymised_at=None,
    )


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _premask(rows: list[Any]) -> dict[int, str]:
    """{event id: masked text} of the customer messages among `rows`."""
    out: dict[int, str] = {}
    for row in rows:
        if row.type_name == "user":
            out[row.id] = ConversationMasker().text(str(ev.load(row.data).get("text") or ""))
    return out


def _fold(conv: Any, row: Any, premasked: dict[int, str]) -> list[tuple[str, str]]:
    """Apply one event to its conversation's row; returns the facets it adds."""
    event = ev.load(row.data)
    kind = row.type_name or event.get("event")
    when = ev.at(row.timestamp if row.timestamp is not None else event.get("timestamp"))
    if when < conv.started_at:
        conv.started_at, conv.day = when, when.astimezone(JST).date()
    if when > conv.last_at:
        conv.last_at = when
    conv.last_event_id = max(conv.last_event_id or 0, row.id)
    found: list[tuple[str, str]] = []

    if kind == "user":
        reading = ev.Reading.of(event.get("parse_data"))
        conv.turns = (conv.turns or 0) + 1
        raw = str(event.get("text") or "")
        if conv.pending_slot in PERSONAL_SLOTS and not raw.startswith("/"):
            text = PERSONAL_SLOTS[conv.pending_slot]
        elif row.id in premasked:
            text = premasked[row.id]
        else:
            text = ConversationMasker().customer_text(raw, conv.pending_slot)
        if text and not text.startswith("/"):
            if conv.first_words is None:
                conv.first_words = text[:200]
            joined = f"{conv.customer_text}\n{text}" if conv.customer_text else text
            conv.customer_text = joined[:MAX_SEARCH_CHARS]
        if reading.intent:
            found.append((INTENT, reading.intent))
        if reading.fell_back:
            conv.fallback_turns = (conv.fallback_turns or 0) + 1
            conv.fell_back = True
        if reading.best_real_confidence is not None and (
            conv.min_confidence is None or reading.best_real_confidence < conv.min_confidence
        ):
            conv.min_confidence = reading.best_real_confidence
    elif kind == "action":
        if event.get("name") in ev.FALLBACK_ACTIONS or row.action_name in ev.FALLBACK_ACTIONS:
            conv.fell_back = True
    elif kind == "bot":
        if ev.operator_of(event):
            conv.operator_turns = (conv.operator_turns or 0) + 1
    elif kind == "pause":
        conv.handed_off = True
    elif kind in ("session_started", "restart"):
        conv.pending_slot = None
    elif kind == "slot":
        name, value = event.get("name"), event.get("value")
        if name == "requested_slot":
            conv.pending_slot = value if isinstance(value, str) else None
        elif name == "request_type" and isinstance(value, str) and value:
            found.append((REQUEST_TYPE, value))
        elif name == "request_types" and isinstance(value, list):
            found += [(REQUEST_TYPE, v) for v in value if isinstance(v, str) and v]
        elif name == "notice_section" and isinstance(value, str) and value:
            found.append((SECTION, value))
        elif name == "ticket_reference" and isinstance(value, str) and value:
            conv.ticket_reference = value[:32]
            if conv.turns_to_ticket is None:
                conv.turns_to_ticket = conv.turns
    return found
