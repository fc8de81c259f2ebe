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
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from sqlalchemy.exc import DBAPIError, OperationalError

from madoguchi.infra.settings import settings
from madoguchi.rasa_adapters.resilience import TrackerStoreUnavailable

logger = logging.getLogger(__name__)
T = TypeVar("T")


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
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

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
        return await self._patiently("retrieve", lambda: super(
            DurableSQLTrackerStore, self).retrieve(sender_id))

    async def retrieve_full_tracker(self, conversation_id: str) -> Any:
        return await self._patiently("retrieve", lambda: super(
            DurableSQLTrackerStore, self).retrieve_full_tracker(conversation_id))

    async def save(self, tracker: Any) -> None:
        # Rasa's save appends only the events the database does not have yet, so repeating it
        # after a failed attempt never stores an event twice.
        await self._patiently("save", lambda: super(DurableSQLTrackerStore, self).save(tracker))

    async def keys(self) -> Any:
        return await self._patiently("keys", lambda: super(DurableSQLTrackerStore, self).keys())
