"""The channel's side of "contact data only on the ticket" (README: Where personal data may live).

Three calls the channels make, each one line there:
- `conceal(agent, sender, text)` before Rasa reads a message: contact data becomes placeholders
  (`madoguchi.text.pii.contact`), the clear values go to `pending_contact`; the answer to the
  form's question for a name, address, phone … is concealed whole when the form's validator
  would accept it as one (a question or a wish for a person typed instead stays words the NLU
  can read, with only the finder's spans concealed);
- `join_split_number(agent, sender, text)`: a card or individual number typed over two
  messages. The channel sees one message at a time, so it reads the previous customer message
  from the tracker; when the two together hold the number, this message's digits are masked and
  the previous event is rewritten in the tracker store (decided over keeping digits in memory:
  the tracker is shared by every replica, and the first half must not stay in the log either);
- `reveal_messages` / `reveal_text` on the way out: the customer's own chat shows their data in
  clear (the summary they confirm), while the tracker keeps the placeholders.
Errors never let clear data in: if the pending store cannot be written, the items are replaced
by bare labels (the form then asks again).
"""

from __future__ import annotations

import asyncio
import json
import logging
from functools import lru_cache
from typing import Any

from sqlalchemy import select, update

from madoguchi.conversation.table import EVENTS
from madoguchi.infra.db import make_engine, session_factory, write_session
from madoguchi.infra.settings import settings
from madoguchi.privacy.pending_contact import PendingContacts
from madoguchi.requests.fields import Valid, validate
from madoguchi.text.pii.contact import (
    CONTACT_LABELS,
    WHOLE_ANSWERS,
    conceal_contact,
    placeholders,
    strip_tokens,
)
from madoguchi.text.pii.kinds import CREDIT_CARD, LABELS, MY_NUMBER
from madoguchi.text.pii.loose import contains_loose_forbidden, split_forbidden

logger = logging.getLogger(__name__)

@lru_cache(maxsize=1)
def pending() -> PendingContacts:
    return PendingContacts(session_factory(make_engine(settings().database_url)))


def _store(agent: Any) -> Any:
    """The agent's tracker store, under Rasa's fail-safe wrapper if there is one."""
    store = getattr(agent, "tracker_store", None)
    return getattr(store, "_tracker_store", store)


async def _tracker(agent: Any, sender: str) -> Any:
    """The conversation, only read here: DurableSQLTrackerStore's kept one when it has it."""
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return None
    reading = getattr(_store(agent), "retrieve_for_reading", None)
    if reading is not None:
        try:
            return await reading(sender)
        except Exception:  # as Rasa's fail-safe wrapper would: its own retrieve decides
            pass
    return await store.retrieve(sender)


def _asked(tracker: Any, text: str) -> tuple[str | None, str | None]:
    """The form question this message answers when its answer is a contact datum, and the
    answer the form's validator reads in it."""
    if tracker is None or not getattr(tracker, "active_loop_name", None):
        return None, None
    slot = tracker.get_slot("requested_slot")
    if slot not in WHOLE_ANSWERS:
        return None, None
    result = validate(slot, text)
    if not isinstance(result, Valid):
        return None, None  # a question, a wish, a sentence: words the NLU must read
    return slot, result.value if isinstance(result.value, str) else None


async def conceal(agent: Any, sender: str, text: str) -> str:
    """`text` with its contact data as placeholders, the clear values kept for the ticket."""
    if not text or text.lstrip().startswith("/"):
        return text
    asked, answer = await asyncio.to_thread(_asked, await _tracker(agent, sender), text)
    concealed, items = await asyncio.to_thread(conceal_contact, text, asked, answer)
    if not items:
        return text
    try:
        await asyncio.to_thread(pending().keep, sender, items)
    except Exception as exc:  # never the clear value in the log instead
        logger.error("contact data could not be kept for %s: %s", sender, type(exc).__name__)
        return strip_tokens(concealed)
    return concealed


async def join_split_number(agent: Any, sender: str, text: str) -> tuple[str, set[str]]:
    """`text` with the second half of a split card / individual number masked (and the first
    half masked in the tracker store), and the kinds found."""
    tracker = await _tracker(agent, sender)
    latest = None
    for event in reversed(list(getattr(tracker, "events", []) or [])):
        if getattr(event, "type_name", None) == "user":
            latest = event
            break
    if latest is None or not latest.text:
        return text, set()
    hit = split_forbidden(latest.text, text)
    if hit is None:
        return text, set()
    start, end = hit
    joined = latest.text[start:] + " " + text[:end]
    kinds = contains_loose_forbidden(joined) or {CREDIT_CARD}
    label = LABELS[MY_NUMBER if kinds == {MY_NUMBER} else CREDIT_CARD]
    try:
        await asyncio.to_thread(_rewrite_previous, sender, latest.text, latest.text[:start] + label)
        # What the store keeps of the conversation still has the first half in clear.
        forget = getattr(_store(agent), "forget", None)
        if forget is not None:
            forget(sender)
    except Exception as exc:
        logger.error("the previous message of %s could not be masked: %s", sender,
                     type(exc).__name__)
    return label + text[end:], kinds


def _rewrite_previous(sender: str, old: str, new: str) -> None:
    """The conversation's last customer message in the tracker store, masked in place."""
    sessions = pending().sessions
    with write_session(sessions) as session:
        row = session.execute(
            select(EVENTS.c.id, EVENTS.c.data).where(
                EVENTS.c.sender_id == sender, EVENTS.c.type_name == "user")
            .order_by(EVENTS.c.id.desc()).limit(1)).first()
        if row is None:
            return
        event = json.loads(row.data)
        if event.get("text") != old:
            return
        event["text"] = new
        if isinstance(event.get("parse_data"), dict):
            event["parse_data"]["text"] = new
            event["parse_data"]["entities"] = []
        session.execute(update(EVENTS).where(EVENTS.c.id == row.id)
                        .values(data=json.dumps(event)))


def reveal_text(sender: str, text: Any) -> Any:
    """What the customer sees: their own placeholders in clear."""
    if not isinstance(text, str) or not placeholders(text):
        return text
    try:
        return pending().reveal(sender, text)
    except Exception as exc:
        logger.error("contact data could not be shown to %s: %s", sender, type(exc).__name__)
        return strip_tokens(text)


async def reveal_messages(sender: str, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The REST answer's messages, each text revealed for its own conversation."""
    out = []
    for message in messages:
        if isinstance(message, dict) and isinstance(message.get("text"), str):
            message = {**message, "text": await asyncio.to_thread(
                reveal_text, sender, message["text"])}
        out.append(message)
    return out


__all__ = ["CONTACT_LABELS", "conceal", "join_split_number", "reveal_messages", "reveal_text"]
