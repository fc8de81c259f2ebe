"""Retention: forget personal data older than the limit, keep the figures.

`anonymise(engine, days)` (what `madoguchi retention --days N` and the daily schedule of
`make run` run):
- conversations whose last event is older than the limit: every event is rewritten in place
  with its text, entity values and personal slot values masked (labels such as ［電話番号］);
  intents, confidences, actions, slot names, timestamps and the number of events stay, so the
  read model and every figure stay the same;
- closed tickets last changed before the limit lose their contact data
  (`TicketService.purge_contact`, the ticket lifecycle's own change, audited on the ticket).
Each run is written to the review audit. Days come from `--days` or MADOGUCHI_RETENTION_DAYS
(default 180; 0 or `off` disables the schedule).
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from madoguchi.conversation import events as ev
from madoguchi.conversation.table import EVENTS
from madoguchi.infra import db
from madoguchi.infra.settings import DEFAULT_RETENTION_DAYS, settings
from madoguchi.tickets import TicketService

from .masking import PERSONAL_SLOTS, ConversationMasker
from .models import Conversation, ReviewAudit
from .service import ReviewService

log = logging.getLogger(__name__)

DEFAULT_DAYS = DEFAULT_RETENTION_DAYS
ACTOR = "retention"
BATCH = 200
DAY_SECONDS = 24 * 3600


@dataclass(frozen=True)
class RetentionResult:
    cutoff: datetime
    conversations: int
    events: int
    tickets: int

    def as_dict(self) -> dict[str, Any]:
        return {"cutoff": self.cutoff.isoformat(), "conversations": self.conversations,
                "events": self.events, "tickets": self.tickets}


def retention_days() -> int | None:
    """MADOGUCHI_RETENTION_DAYS (default 180); None when set to 0 / off (no schedule)."""
    return settings().retention_days


def anonymise_event(event: dict[str, Any], masker: ConversationMasker,
                    asked: str | None) -> dict[str, Any]:
    """The event with everything personal masked; its structure and NLU results unchanged."""
    kind = event.get("event")
    out = dict(event)
    if kind == "user":
        text = str(event.get("text") or "")
        masked = masker.customer_text(text, asked)
        whole = asked in PERSONAL_SLOTS and not text.startswith("/")
        out["text"] = masked
        parse = dict(event.get("parse_data") or {})
        if parse:
            parse["text"] = masked
            parse["entities"] = [
                {**e, "value": masker.entities([e], whole)[0]["value"]}
                for e in parse.get("entities") or [] if isinstance(e, dict)
            ]
            out["parse_data"] = parse
    elif kind == "bot":
        out["text"] = masker.text(str(event.get("text") or "")) if event.get("text") else None
        data = event.get("data")
        if isinstance(data, dict) and data:
            out["data"] = masker.value(data)
    elif kind == "slot":
        out["value"] = masker.slot_value(str(event.get("name")), event.get("value"))
    return out


def anonymise_conversations(engine: Engine, cutoff: datetime, sessions: Any = None) -> tuple[
        int, int]:
    """Rewrite the events of conversations that ended before `cutoff`; (conversations, events)."""
    sessions = sessions or db.session_factory(engine)
    ReviewService(engine, sessions).refresh()
    done_convs = done_events = 0
    while True:
        with db.write_session(sessions) as session:
            convs = list(session.execute(
                select(Conversation).where(Conversation.last_at < cutoff,
                                           Conversation.anonymised_at.is_(None))
                .order_by(Conversation.id).limit(BATCH).with_for_update()
            ).scalars())
            if not convs:
                return done_convs, done_events
            now = db.utcnow()
            for conv in convs:
                done_events += _rewrite(session, conv.sender_id)
                conv.anonymised_at = now
            done_convs += len(convs)


def _rewrite(session: Any, sender_id: str) -> int:
    masker = ConversationMasker()
    asked: str | None = None
    changed = 0
    rows = session.execute(
        select(EVENTS.c.id, EVENTS.c.data)
        .where(EVENTS.c.sender_id == sender_id).order_by(EVENTS.c.id)
    ).all()
    for row_id, data in rows:
        event = ev.load(data)
        kind = event.get("event")
        if kind == "slot":
            masker.learn(str(event.get("name")), event.get("value"))
        new = anonymise_event(event, masker, asked)
        if kind == "slot" and event.get("name") == "requested_slot":
            value = event.get("value")
            asked = value if isinstance(value, str) else None
        elif kind in ("session_started", "restart"):
            asked = None
        if new != event:
            session.execute(update(EVENTS).where(EVENTS.c.id == row_id)
                            .values(data=json.dumps(new)))
            changed += 1
    return changed


def run(engine: Engine, days: int, *, actor: str = ACTOR,
        now: datetime | None = None) -> RetentionResult:
    if days < 1:
        raise ValueError("days must be at least 1")
    cutoff = (now or db.utcnow()) - timedelta(days=days)
    sessions = db.session_factory(engine)
    convs, events = anonymise_conversations(engine, cutoff, sessions)
    tickets = TicketService(sessions).purge_contact(cutoff, actor)
    result = RetentionResult(cutoff, convs, events, tickets)
    with db.write_session(sessions) as session:
        session.add(ReviewAudit(at=db.utcnow(), actor=actor, action="retention",
                                details={"days": days, **result.as_dict()}))
    return result


def start_schedule(database_url: str, days: int | None = None,
                   first_delay: float = 300.0) -> threading.Thread | None:
    """A daemon thread running retention five minutes after start, then every 24 hours."""
    days = days if days is not None else retention_days()
    if days is None:
        return None
    stop = threading.Event()

    def loop() -> None:
        delay = first_delay
        while not stop.wait(delay):
            delay = DAY_SECONDS
            engine = db.make_engine(database_url)
            try:
                result = run(engine, days)
                log.info("retention (%d days): %d conversations, %d tickets anonymised",
                         days, result.conversations, result.tickets)
            except Exception as exc:  # the next day tries again
                log.warning("retention failed: %s", type(exc).__name__)
            finally:
                engine.dispose()

    thread = threading.Thread(target=loop, name="madoguchi-retention", daemon=True)
    thread.start()
    return thread
