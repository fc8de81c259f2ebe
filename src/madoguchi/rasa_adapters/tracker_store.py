"""Rasa's SQL tracker store, made to wait out a database restart instead of forgetting.

Rasa 3.6 wraps every tracker store in `FailSafeTrackerStore`: when the database does not answer,
`retrieve` returns None (the conversation starts again from nothing) and `save` writes to an
in-memory store that nobody reads. After a PostgreSQL restart, Rasa's pool also hands out dead
connections, and each of them fails one turn that way. For a call center that means a customer
half-way through a request is greeted as a stranger.

This store (the scale profile's `tracker_store`, see madoguchi.runtime.scale) changes two things:
- the engine pings a pooled connection before using it (`pool_pre_ping`), so a restart leaves
  no dead connection behind;
- a call that meets a database that is down is retried with growing pauses for up to
  `patience` seconds (MADOGUCHI_TRACKER_PATIENCE, 30 by default): a restart of a few seconds
  only slows those turns down. Past that, `TrackerStoreUnavailable` is raised; it is not an
  `Exception`, precisely so that the fail-safe wrapper cannot turn it into a silent new
  conversation: the channel (madoguchi.rasa_adapters.resilience) tells the customer to send again.

It also makes a turn cost the same at the fiftieth turn as at the fifth (issue 14). Rasa reads
every event of the conversation and rebuilds each one from JSON on every turn, and counts them
again on every save. This store keeps, per conversation, the events of the current session as
last read or written, with a stamp of the table (how many rows the conversation has, and the
highest id). A retrieve asks the database for the stamp only (one indexed query); when it is the
one kept, the tracker is rebuilt from the kept events (replaying them is cheap, parsing was not);
when it is not — another replica wrote, rows were deleted —, the conversation is read as Rasa
reads it. A save appends the new events and extends the kept ones with them as a retrieve would
read them back (parsed from the JSON just written). A new session, an event older than the
session's start, or a conversation idle for `CACHE_IDLE_SECONDS` (longer than nothing: retention
rewrites only conversations idle for days, in place) drops what was kept. The SQLite file gets
the same settings as madoguchi's own tables (WAL, synchronous NORMAL), and its connections are
kept between turns instead of opened and closed for every read and save.

Importing this module also applies madoguchi.rasa_adapters.fast_paths.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import Event, SessionStarted, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.exc import DBAPIError, OperationalError

import madoguchi.rasa_adapters.fast_paths  # noqa: F401  (applies Rasa's once-built checks)
from madoguchi.infra.settings import settings
from madoguchi.rasa_adapters.resilience import TrackerStoreUnavailable

logger = logging.getLogger(__name__)
T = TypeVar("T")

CACHE_IDLE_SECONDS = 600.0
CACHE_CONVERSATIONS = 2000


@dataclass
class _Kept:
    """A conversation's current session as the database held it when `stamp` was taken."""

    stamp: tuple[int, int | None]  # (rows of the conversation, highest id)
    events: list[Event]  # what Rasa's retrieve would return, parsed
    session_start: float | None  # timestamp of the latest SessionStarted, as Rasa filters by
    used: float
    # The tracker the channel guard reads (never handed to Rasa, which changes its own), kept
    # up to date with each save instead of being rebuilt from every event for each read.
    view: DialogueStateTracker | None = None


def _shallow_copy(event: Event) -> Event:
    """What `copy.copy` makes of an event (no event class has its own copy protocol), without
    its generic machinery: a retrieve copies every event of the session, three times a turn."""
    twin = object.__new__(type(event))
    twin.__dict__.update(event.__dict__)
    return twin


def _detached(view: DialogueStateTracker) -> DialogueStateTracker:
    """A copy of `view` (fast_paths' copy: its state as it stands) holding copies of its
    events; the latest messages are the copies of the view's, as a replay would have them."""
    twin = view.copy()
    events = list(view.events)
    copies = [_shallow_copy(event) for event in events]
    twin.events = twin._create_events(copies)
    for name in ("latest_message", "latest_bot_utterance"):
        latest = getattr(twin, name)
        for original, duplicate in zip(reversed(events), reversed(copies), strict=True):
            if original is latest:
                setattr(twin, name, duplicate)
                break
    return twin


def _is_outage(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


class DurableSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore with pre-ping and patience.

    Endpoints name it as `type: madoguchi.rasa_adapters.tracker_store.DurableSQLTrackerStore`.
    """

    def __init__(self, *args: Any, patience: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.patience = float(patience if patience is not None
                              else settings().tracker_patience)
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **_engine_kwargs(url))
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        self._kept: OrderedDict[str, _Kept] = OrderedDict()
        # Built once: the stamp is asked for in every retrieve and save, and building the ORM
        # query each time cost more than running it (issue 14's turn profile).
        self._stamp_query = sa.select(
            sa.func.count(self.SQLEvent.id), sa.func.max(self.SQLEvent.id)
        ).where(self.SQLEvent.sender_id == sa.bindparam("sender_id"))

    async def _patiently(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        deadline = time.monotonic() + self.patience
        pause = 0.2
        while True:
            try:
                return await call()
            except (OperationalError, DBAPIError) as exc:
                if not _is_outage(exc):
                    raise
                if time.monotonic() + pause > deadline:
                    raise TrackerStoreUnavailable(
                        f"tracker store did not answer for {self.patience:.0f}s ({what})"
                    ) from exc
                logger.warning("tracker store unavailable (%s); retrying in %.1fs", what, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 2.0)

    async def retrieve(self, sender_id: str) -> Any:
        return await self._patiently("retrieve", lambda: self._retrieve_kept(sender_id))

    async def retrieve_for_reading(self, sender_id: str) -> DialogueStateTracker | None:
        """The conversation as `retrieve` reads it, for a reader that changes nothing (the
        channel guard reads two things in it before every turn): the same tracker object is
        handed to every such reader until the conversation changes."""
        return await self._patiently("retrieve", lambda: self._read_kept(sender_id))

    async def retrieve_full_tracker(self, conversation_id: str) -> Any:
        return await self._patiently("retrieve", lambda: super(
            DurableSQLTrackerStore, self).retrieve_full_tracker(conversation_id))

    async def save(self, tracker: Any) -> None:
        # Like Rasa's, this save appends only the events the database does not have yet, so
        # repeating it after a failed attempt never stores an event twice.
        await self.stream_events(tracker)
        await self._patiently("save", lambda: self._append(tracker))

    def _stamp(self, session: Any, sender_id: str) -> tuple[int, int | None]:
        row = session.execute(self._stamp_query, {"sender_id": sender_id}).one()
        return int(row[0]), row[1]

    def _fresh(self, sender_id: str, stamp: tuple[int, int | None]) -> _Kept | None:
        kept = self._kept.get(sender_id)
        now = time.monotonic()
        if kept is None or kept.stamp != stamp or now - kept.used > CACHE_IDLE_SECONDS:
            self._kept.pop(sender_id, None)
            return None
        kept.used = now
        self._kept.move_to_end(sender_id)
        return kept

    def _keep(self, sender_id: str, kept: _Kept) -> None:
        self._kept[sender_id] = kept
        self._kept.move_to_end(sender_id)
        while len(self._kept) > CACHE_CONVERSATIONS:
            self._kept.popitem(last=False)

    def _view(self, sender_id: str, kept: _Kept) -> DialogueStateTracker:
        """The conversation's tracker for readers, replayed once and then kept up to date by
        each save (events copied, so that nothing done to them reaches what is kept)."""
        if kept.view is None:
            kept.view = DialogueStateTracker.from_events(
                sender_id, [_shallow_copy(event) for event in kept.events], self.domain.slots)
        return kept.view

    def _tracker(self, sender_id: str, kept: _Kept) -> DialogueStateTracker:
        """A tracker of its own for the turn: the view's state with copies of its events, as
        replaying copies of every event would make it (Rasa changes a few attributes of the
        events of the turn's tracker)."""
        return _detached(self._view(sender_id, kept))

    async def _retrieve_kept(self, sender_id: str) -> DialogueStateTracker | None:
        kept = await self._kept_fresh(sender_id)
        return None if kept is None else self._tracker(sender_id, kept)

    async def _read_kept(self, sender_id: str) -> DialogueStateTracker | None:
        kept = await self._kept_fresh(sender_id)
        return None if kept is None else self._view(sender_id, kept)

    async def _kept_fresh(self, sender_id: str) -> _Kept | None:
        """What is kept of the conversation, read again from the database if it changed."""
        with self.session_scope() as session:
            stamp = self._stamp(session, sender_id)
            kept = self._fresh(sender_id, stamp)
            if kept is not None:
                return kept
            rows = self._event_query(session, sender_id,
                                     fetch_events_from_all_sessions=False).all()
            events = deserialise_events([json.loads(row.data) for row in rows])
            starts = [row.timestamp for row in rows if row.type_name == SessionStarted.type_name]
        if not events:
            return None
        # The stamp was taken first: a row written meanwhile makes it stale, never the events.
        kept = _Kept(stamp, events, max(starts) if starts else None, time.monotonic())
        self._keep(sender_id, kept)
        return kept

    async def _append(self, tracker: DialogueStateTracker) -> None:
        sender_id = tracker.sender_id
        with self.session_scope() as session:
            stamp = self._stamp(session, sender_id)
            kept = self._fresh(sender_id, stamp)
            stored = len(kept.events) if kept is not None else self._event_query(
                session, sender_id, fetch_events_from_all_sessions=False).count()
            if kept is not None and len(tracker.events) < stored:
                kept = None  # not a continuation of what is kept: leave it to the database
            rows = []
            for event in list(tracker.events)[stored:]:
                data = event.as_dict()
                row = self.SQLEvent(
                    sender_id=sender_id, type_name=event.type_name,
                    timestamp=data.get("timestamp"),
                    intent_name=data.get("parse_data", {}).get("intent", {}).get(
                        INTENT_NAME_KEY),
                    action_name=data.get("name"), data=json.dumps(data))
                session.add(row)
                rows.append(row)
            session.flush()
            written = [(row.id, row.type_name, row.timestamp, row.data) for row in rows]
            session.commit()
        if kept is None or not written:
            return
        if any(type_name == SessionStarted.type_name for _, type_name, _, _ in written) or any(
                kept.session_start is not None
                and (timestamp is None or timestamp < kept.session_start)
                for _, _, timestamp, _ in written):
            self._kept.pop(sender_id, None)  # Rasa's read would start elsewhere: read it next
            return
        added = deserialise_events([json.loads(data) for _, _, _, data in written])
        kept.events = kept.events + added
        if kept.view is not None:
            for event in added:
                kept.view.update(_shallow_copy(event))
        kept.stamp = (stamp[0] + len(written),
                      max(i for i in [stamp[1], *(w[0] for w in written)] if i is not None))

    def forget(self, sender_id: str) -> None:
        """Drop what is kept of a conversation whose stored events were changed in place (the
        channel masks the first half of a number split over two messages): the next read comes
        from the database. An in-place change keeps the row count and the last id, so the
        stamp alone would not notice it."""
        self._kept.pop(sender_id, None)

    async def keys(self) -> Any:
        return await self._patiently("keys", lambda: super(DurableSQLTrackerStore, self).keys())


def _engine_kwargs(url: Any) -> dict[str, Any]:
    """Rasa's engine arguments; for an SQLite file, a pool that keeps its connections.

    SQLAlchemy 1.4 opens and closes an SQLite file's connection for every session (NullPool).
    Closing the last connection checkpoints the WAL into the database and deletes it, and the
    next write creates it again: about 10 ms of a turn's save, and a connection opened for each
    of a turn's three reads (issue 14's profile). A kept connection is only ever used by one
    session at a time, whichever thread holds it (as SQLAlchemy 2.0 pools SQLite files).
    """
    kwargs = create_engine_kwargs(url)
    database = url.database or ""
    if url.get_backend_name() == "sqlite" and database not in ("", ":memory:") \
            and not database.startswith("file::memory:"):
        kwargs["poolclass"] = sa.pool.QueuePool
        kwargs["connect_args"] = {**kwargs.get("connect_args", {}), "check_same_thread": False}
    return kwargs


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """madoguchi's SQLite settings (madoguchi.infra.db): WAL, fsync at checkpoints only."""
    cursor = dbapi_connection.cursor()
    try:
        mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() != "wal":
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()
