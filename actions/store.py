"""The ticket store as the action server sees it: one engine per process, from the settings."""

from __future__ import annotations

from functools import lru_cache

from madoguchi.infra.db import make_engine, session_factory
from madoguchi.infra.settings import load_settings
from madoguchi.infra.webhook import Outbox, Webhook
from madoguchi.text.pii import mask_forbidden
from madoguchi.tickets import TicketService


def _never_store_forbidden(text: str) -> str:
    return mask_forbidden(text)[0]


@lru_cache(maxsize=1)
def tickets() -> TicketService:
    engine = make_engine(load_settings().database_url)
    return TicketService(session_factory(engine), text_filter=_never_store_forbidden)


@lru_cache(maxsize=1)
def webhook_outbox() -> Outbox | None:
    """The durable webhook outbox with its worker running (None without MADOGUCHI_WEBHOOK_URL).

    Called when the action server loads, so that announcements left by a previous process are
    delivered even before the next handoff.
    """
    webhook = Webhook.from_env()
    if webhook is None:
        return None
    outbox = Outbox(session_factory(make_engine(load_settings().database_url)), webhook)
    outbox.start_worker()
    return outbox
