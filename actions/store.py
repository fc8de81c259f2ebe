"""The ticket store as the action server sees it: one engine per process, from the settings,
and the chat's one way to create a ticket."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.common import window
from madoguchi.infra.db import DatabaseError, make_engine, session_factory
from madoguchi.infra.settings import load_settings
from madoguchi.infra.webhook import Outbox, Webhook
from madoguchi.privacy.pending_contact import PendingContacts, tokens_in
from madoguchi.text.pii import scrub_forbidden
from madoguchi.tickets import Ticket, TicketDraft, TicketService


class ChatTickets(TicketService):
    """Tickets from the chat: the placeholders the channel put in the customer's words become
    the clear contact data on the ticket (madoguchi.privacy.pending_contact); the conversation's
    other pending items are deleted (those the ticket used stay until they expire: slots that
    carry over to a next request name them)."""

    def create(self, draft: TicketDraft, **kwargs: Any) -> Ticket:
        conversation = draft.conversation_id
        if not conversation:
            return super().create(draft, **kwargs)
        store = pending_contact()
        values = {f.name: store.reveal_all(conversation, getattr(draft, f.name))
                  for f in dataclasses.fields(draft)}
        ticket = super().create(dataclasses.replace(draft, **values), **kwargs)
        store.forget(conversation, keep=tokens_in(dataclasses.asdict(draft)))
        return ticket


@lru_cache(maxsize=1)
def pending_contact() -> PendingContacts:
    return PendingContacts(session_factory(make_engine(load_settings().database_url)))


@lru_cache(maxsize=1)
def tickets() -> TicketService:
    engine = make_engine(load_settings().database_url)
    return ChatTickets(session_factory(engine), text_filter=scrub_forbidden)


def create_ticket(
    dispatcher: CollectingDispatcher,
    draft: TicketDraft,
    *,
    key: str,
    also: Callable[[Session, Ticket], None] | None = None,
) -> Ticket | None:
    """The chat's ticket, once per `key`; None when the database did not answer, which the
    customer is told (with the contact to use), so that nothing is lost in silence."""
    try:
        return tickets().create(draft, idempotency_key=key, also=also)
    except DatabaseError:
        dispatcher.utter_message(response="utter_ticket_failed", **window().contact)
        return None


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
