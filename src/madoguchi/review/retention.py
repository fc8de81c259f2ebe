"""Retention: forget personal data older than the limit, keep the figures.

`run(engine, days)` (what `madoguchi retention --days N` and the daily schedule of `make run`
run) walks the inventory of stores that hold customer words (`madoguchi.privacy.stores`) and
calls each store's clearer here:
- `anonymise_conversations`: conversations whose last event is older than the limit get every
  event rewritten in place with its text, entity values and personal slot values masked
  (labels such as ［電話番号］); intents, confidences, actions, slot names, timestamps and the
  number of events stay, so every figure stays the same. The same pass rebuilds the review
  row's words from the masked events, masks the supervisors' comments and the examples the
  conversation gave the training file. A conversation that goes on later (a returning
  customer) is marked not anonymised by the projector, and anonymised again once it is old;
- `purge_tickets`: closed tickets last changed before the limit lose their contact data
  (`TicketService.purge_contact`, audited on the ticket) and their free text is masked with
  what that contact data was (`privacy.scrub`);
- `mask_review_audit`, `purge_pending_contact`, `purge_webhook_outbox`: below.

Small transactions: the masking (spaCy, milliseconds a message) happens before a transaction
opens, and each transaction writes one conversation's events or a few tickets, so the SQLite
write lock is never held long enough for Rasa (5 s busy timeout) to lose a turn.
Each run is written to the review audit. Days come from `--days` or MADOGUCHI_RETENTION_DAYS
(default 180; 0 or `off` disables the schedule).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import delete, inspect, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from madoguchi.conversation import events as ev
from madoguchi.conversation.table import EVENTS, events_table_exists
from madoguchi.infra import db
from madoguchi.infra.settings import DEFAULT_RETENTION_DAYS, settings
from madoguchi.infra.webhook import OutboxMessage
from madoguchi.privacy.pending_contact import PendingContact, PendingContacts
from madoguchi.privacy.scrub import scrub_ticket, ticket_masker
from madoguchi.privacy.stores import STORES
from madoguchi.tickets import TicketService
from madoguchi.tickets.models import Ticket

from .csat import CsatSurvey
from .masking import PERSONAL_SLOTS, ConversationMasker
from .models import Comment, Conversation, ReviewAudit
from .projector import MAX_SEARCH_CHARS
from .service import ReviewService
from .training import example_text, replace_examples, review_file

log = logging.getLogger(__name__)

DEFAULT_DAYS = DEFAULT_RETENTION_DAYS
ACTOR = "retention"
BATCH = 50  # conversations looked up at a time (read only)
TICKETS_PER_TRANSACTION = 10
ROWS_PER_TRANSACTION = 500  # review audit entries / surveys
DAY_SECONDS = 24 * 3600


@dataclass(frozen=True)
class RetentionResult:
    cutoff: datetime
    conversations: int
    events: int
    tickets: int
    others: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"cutoff": self.cutoff.isoformat(), "conversations": self.conversations,
                "events": self.events, "tickets": self.tickets, **self.others}


@dataclass
class Job:
    """One run: where, until when, and what each clearer counted."""

    engine: Engine
    sessions: sessionmaker
    cutoff: datetime
    now: datetime
    actor: str
    training_file: Path
    counts: dict[str, int] = field(default_factory=dict)


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


# --- the chat log, the review row, comments, training examples --------------------------------


def anonymise_conversations(job: Job) -> int:
    """Conversations that ended before the cutoff, one short transaction each."""
    ReviewService(job.engine, job.sessions).refresh()
    done_convs = done_events = after = 0
    replaced: dict[str, str] = {}
    while True:
        with job.sessions() as session:
            convs = list(session.execute(
                select(Conversation.id, Conversation.sender_id)
                .where(Conversation.last_at < job.cutoff, Conversation.anonymised_at.is_(None),
                       Conversation.id > after)
                .order_by(Conversation.id).limit(BATCH)).all())
        if not convs:
            break
        for conv_id, sender in convs:
            after = conv_id
            done_events += _anonymise_one(job, conv_id, sender, replaced)
            done_convs += 1
    if replaced:
        replace_examples(job.training_file, replaced)
    job.counts["conversations"] = done_convs
    job.counts["events"] = done_events
    job.counts["training_examples"] = len(replaced)
    return done_convs


def _known(job: Job, sender: str) -> ConversationMasker:
    """A masker that knows the conversation's contact data from its tickets (names and
    addresses the finder cannot see), before the events teach it the rest."""
    masker = ConversationMasker()
    with job.sessions() as session:
        for ticket in session.execute(
                select(Ticket).where(Ticket.conversation_id == sender)).scalars():
            ticket_masker(ticket, masker)
    return masker


def _anonymise_one(job: Job, conv_id: int, sender: str, replaced: dict[str, str]) -> int:
    masker = _known(job, sender)
    with job.sessions() as session:
        rows = session.execute(
            select(EVENTS.c.id, EVENTS.c.type_name, EVENTS.c.data)
            .where(EVENTS.c.sender_id == sender).order_by(EVENTS.c.id)).all()
        trained = {d.get("event_id") for (d,) in session.execute(
            select(ReviewAudit.details).where(ReviewAudit.sender_id == sender,
                                              ReviewAudit.action == "training_example"))
            if isinstance(d, dict)}
    # First every slot value, so that a name said before the form asked it is known too.
    for _, _, data in rows:
        event = ev.load(data)
        if event.get("event") == "slot":
            masker.learn(str(event.get("name")), event.get("value"))
    asked: str | None = None
    changes: list[tuple[int, str, str]] = []
    words: list[str] = []
    for row_id, type_name, data in rows:
        event = ev.load(data)
        kind = event.get("event")
        new = anonymise_event(event, masker, asked)
        if kind == "user":
            text = str(new.get("text") or "")
            if text and not text.startswith("/"):
                words.append(text)
            if row_id in trained:
                old_example = _example(type_name, data, asked)
                new_example = _example(type_name, json.dumps(new), asked)
                if old_example and new_example and old_example != new_example:
                    replaced[old_example] = new_example
        if kind == "slot" and event.get("name") == "requested_slot":
            value = event.get("value")
            asked = value if isinstance(value, str) else None
        elif kind in ("session_started", "restart"):
            asked = None
        if new != event:
            changes.append((row_id, data, json.dumps(new)))
    joined = "\n".join(words)[:MAX_SEARCH_CHARS]
    with db.write_session(job.sessions) as session:
        for row_id, old, new in changes:
            # Only the row as read: an event rewritten meanwhile is left to the next run.
            session.execute(update(EVENTS).where(EVENTS.c.id == row_id, EVENTS.c.data == old)
                            .values(data=new))
        conv = session.get(Conversation, conv_id)
        if conv is not None:
            conv.customer_text = joined
            conv.first_words = words[0][:200] if words else None
            conv.anonymised_at = job.now
        for comment in session.execute(
                select(Comment).where(Comment.conversation_id == conv_id)).scalars():
            comment.body = masker.text(comment.body)
        for survey in session.execute(
                select(CsatSurvey).where(CsatSurvey.conversation_id == sender,
                                         CsatSurvey.comment.is_not(None))).scalars():
            survey.comment = masker.text(survey.comment)
    return len(changes)


def _example(type_name: str, data: str, asked: str | None) -> str | None:
    try:
        return example_text(SimpleNamespace(type_name=type_name, data=data), asked)
    except Exception:  # a button or an empty message never became an example
        return None


# --- tickets ------------------------------------------------------------------------------------


def purge_tickets(job: Job) -> int:
    service = TicketService(job.sessions)
    total = 0
    while True:
        done = service.purge_contact(job.cutoff, job.actor, scrub=scrub_ticket,
                                     limit=TICKETS_PER_TRANSACTION)
        total += done
        if done < TICKETS_PER_TRANSACTION:
            break
    job.counts["tickets"] = total
    return total


# --- the review audit, CSAT comments, pending contact data ---------------------------------------


def mask_review_audit(job: Job) -> int:
    """Reveal reasons, export filters, status checks older than the cutoff: strings masked
    (with what the conversation's tickets say, for a name in a reason)."""
    return _mask_rows(job, ReviewAudit, ReviewAudit.at, "details", "review_audit")


def _mask_rows(job: Job, model: Any, at: Any, column: str, count: str) -> int:
    after, changed = 0, 0
    while True:
        with job.sessions() as session:
            rows = list(session.execute(
                select(model).where(at < job.cutoff, model.id > after)
                .order_by(model.id).limit(ROWS_PER_TRANSACTION)).scalars())
            session.expunge_all()
        if not rows:
            break
        after = rows[-1].id
        updates: dict[int, Any] = {}
        for row in rows:
            value = getattr(row, column)
            if value in (None, "", {}, []):
                continue
            masker = _known(job, row.sender_id) if row.sender_id else ConversationMasker()
            new = masker.value(value)
            if new != value:
                updates[row.id] = new
        if updates:
            with db.write_session(job.sessions) as session:
                for row_id, new in updates.items():
                    session.execute(update(model).where(model.id == row_id)
                                    .values({column: new}))
            changed += len(updates)
    job.counts[count] = changed
    return changed


def purge_pending_contact(job: Job) -> int:
    """Contact data waiting for a ticket that never came: gone once expired."""
    if not inspect(job.engine).has_table(PendingContact.__tablename__):
        return 0
    done = PendingContacts(job.sessions).purge_expired(job.now)
    job.counts["pending_contact"] = done
    return done


def purge_webhook_outbox(job: Job) -> int:
    """Handoff announcements created before the cutoff, deleted (a few hundred a transaction).

    Deleted rather than scrubbed: the body is what was signed and sent, and the outbox only
    carries it to the endpoint; the ticket and its audit log keep the handoff. One still
    undelivered after the whole retention period announces a ticket the desk has shown for
    months: it goes too, counted apart so that the run's audit entry says so."""
    if not inspect(job.engine).has_table(OutboxMessage.__tablename__):
        return 0
    deleted, undelivered = 0, 0
    while True:
        with job.sessions() as session:
            rows = session.execute(
                select(OutboxMessage.id, OutboxMessage.delivered_at)
                .where(OutboxMessage.created_at < job.cutoff)
                .order_by(OutboxMessage.id).limit(ROWS_PER_TRANSACTION)).all()
        if not rows:
            break
        with db.write_session(job.sessions) as session:
            session.execute(delete(OutboxMessage).where(
                OutboxMessage.id.in_([row.id for row in rows])))
        deleted += len(rows)
        undelivered += sum(1 for row in rows if row.delivered_at is None)
    job.counts["webhook_outbox"] = deleted
    job.counts["webhook_outbox_undelivered"] = undelivered
    return deleted


CLEARERS: dict[str, Callable[[Job], int]] = {
    "anonymise_conversations": anonymise_conversations,
    "purge_tickets": purge_tickets,
    "mask_review_audit": mask_review_audit,
    "purge_pending_contact": purge_pending_contact,
    "purge_webhook_outbox": purge_webhook_outbox,
}


def run(engine: Engine, days: int, *, actor: str = ACTOR, now: datetime | None = None,
        training_file: Path | None = None) -> RetentionResult:
    """Every store of the inventory cleared of what is older than `days`."""
    if days < 1:
        raise ValueError("days must be at least 1")
    now = now or db.utcnow()
    job = Job(engine, db.session_factory(engine), now - timedelta(days=days), now, actor,
              training_file or review_file())
    if not events_table_exists(engine):
        job.counts.update(conversations=0, events=0)
    done: set[str] = set()
    for store in STORES:
        if store.clearer in done:
            continue
        if store.clearer == "anonymise_conversations" and not events_table_exists(engine):
            done.add(store.clearer)
            continue
        CLEARERS[store.clearer](job)
        done.add(store.clearer)
    counts = dict(job.counts)
    result = RetentionResult(job.cutoff, counts.pop("conversations", 0),
                             counts.pop("events", 0), counts.pop("tickets", 0), counts)
    with db.write_session(job.sessions) as session:
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
