"""The ticket store as the action server sees it: one engine per process, from the settings."""

from __future__ import annotations

from functools import lru_cache

from madoguchi.db import make_engine, session_factory
from madoguchi.settings import load_settings
from madoguchi.text.pii import mask_forbidden
from madoguchi.tickets.repository import TicketRepository


def _never_store_forbidden(text: str) -> str:
    return mask_forbidden(text)[0]


@lru_cache(maxsize=1)
def tickets() -> TicketRepository:
    engine = make_engine(load_settings().database_url)
    return TicketRepository(session_factory(engine), text_filter=_never_store_forbidden)
