"""Reading and changing tickets; every change leaves an audit entry (who, when, old → new).

Each method is one short transaction of its own and returns detached objects (readable after
the session has closed, audit log and notes included). Concurrency rests on the database: the
unique constraints (reference, idempotency key), a conditional UPDATE for claims, row locks
(`SELECT … FOR UPDATE` on PostgreSQL, `BEGIN IMMEDIATE` on SQLite) for the rest.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from sqlalchemy import String, case, cast, or_, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, raiseload, sessionmaker
from sqlalchemy.sql import type_coerce

from madoguchi.infra.db import utcnow, write_session

from . import workflow
from .errors import Conflict, InvalidField, InvalidTransition, NotFound
from .models import CONTACT_FIELDS, AuditEntry, Note, Ticket
from .references import next_reference
from .service_target import ServiceTarget

# The actor of changes the assistant makes (ticket creation from the chat).
ASSISTANT = "assistant"
PURGED = "[purged]"
MAX_PAGE = 500


class _Named(Protocol):
    name: str


Actor = str | _Named


@dataclass
class TicketDraft:
    """What the assistant collected in the conversation; `create` turns it into a ticket.

    `details` says what exactly is asked, by request type, e.g. correction:
    {"item": "住所", "new_value": "…"}, marketing_optout: {"channels": ["phone", "email"]},
    third_party_stop: {"recipients": ["…"]}, suspension: {"scope": "…", "cancel_membership": True}.
    `priority` None means "normal, high for complaints".
    """

    request_types: list[str] = field(default_factory=list)
    customer_name: str | None = None
    customer_phone: str | None = None
    customer_email: str | None = None
    customer_postal_address: str | None = None
    customer_member_number: str | None = None
    preferred_contact: str | None = None
    preferred_time: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    is_agent: bool = False
    customer_words: str | None = None
    nlu_intent: str | None = None
    nlu_confidence: float | None = None
    notice_sections: list[str] = field(default_factory=list)
    next_steps: str | None = None
    conversation_id: str | None = None
    priority: str | None = None


# Fields an operator may change with `update_fields` (status goes through the workflow).
EDITABLE_FIELDS: frozenset[str] = frozenset(
    {
        *CONTACT_FIELDS,
        "request_types",
        "priority",
        "due_at",
        "details",
        "is_agent",
        "next_steps",
        "notice_sections",
        "status",
    }
)


class TicketRepository:
    def __init__(
        self,
        session_factory: sessionmaker,
        *,
        service_target: ServiceTarget | None = None,
        clock: Callable[[], datetime] = utcnow,
        text_filter: Callable[[str], str] | None = None,
    ) -> None:
        """`text_filter` runs over free text before it is stored (customer_words, the strings
        in details, note bodies): the place to mask card numbers and My Numbers that must never
        reach a table. Contact fields are left alone: a phone number there is wanted."""
        self._sessions = session_factory
        self._target = service_target if service_target is not None else ServiceTarget.from_env()
        self._clock = clock
        self._text_filter = text_filter

    # --- creating --------------------------------------------------------------------------

    def create(
        self, draft: TicketDraft, *, idempotency_key: str | None = None, actor: Actor = ASSISTANT
    ) -> Ticket:
        """A new ticket; the same `idempotency_key` again returns the first ticket unchanged.

        Two concurrent creates with one key race on the key's unique constraint: the loser
        rolls back (its reference number with it) and returns the winner's ticket.
        """
        values = self._filtered(_draft_values(draft))
        key = _clean_key(idempotency_key)
        who = _who(actor)
        try:
            with write_session(self._sessions) as session:
                if key is not None:
                    existing = _by_key(session, key)
                    if existing is not None:
                        return existing
                now = self._now()
                ticket = Ticket(
                    **values,
                    reference=next_reference(session, now),
                    status=workflow.NEW,
                    created_at=now,
                    updated_at=now,
                    due_at=self._target.due_at(now),
                    idempotency_key=key,
                    audit=[],
                    notes=[],
                )
                ticket.audit.append(
                    AuditEntry(
                        at=now,
                        actor=who,
                        action="created",
                        changes={
                            name: _change(None, getattr(ticket, name))
                            for name in ("status", "priority", "request_types", "due_at")
                        },
                    )
                )
                session.add(ticket)
            return ticket
        except IntegrityError:
            if key is not None:
                with self._sessions() as session:
                    existing = _by_key(session, key)
                if existing is not None:
                    return existing
            # Anything else (a reference taken although the counter is authoritative: someone
            # edited ticket_counters by hand) is a real error, not something to retry.
            raise

    # --- reading ---------------------------------------------------------------------------

    def get(self, reference: str) -> Ticket | None:
        """The ticket with its audit log and notes, or None."""
        with self._sessions() as session:
            return _by_reference(session, reference)

    def find_by_conversation(self, conversation_id: str) -> list[Ticket]:
        """The conversation's tickets, newest first."""
        with self._sessions() as session:
            stmt = (
                select(Ticket)
                .where(Ticket.conversation_id == conversation_id)
                .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            )
            return list(session.execute(stmt).scalars())

    def list_queue(
        self,
        status: str | Iterable[str] | None = None,
        type: str | None = None,  # the desk's query parameter
        assignee: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Ticket]:
        """The queue: most urgent priority first, then earliest due, then oldest.

        `status` None means the open tickets (new, assigned, waiting_customer); "all" means
        every status; otherwise one status or several. The tickets come without their audit
        log and notes (reading them raises): a queue row needs neither, and loading them made
        the queue three times slower with 10,000 tickets (bench/queue.py); `get` has them.
        """
        statuses = _statuses(status)
        limit = max(1, min(int(limit), MAX_PAGE))
        offset = max(0, int(offset))
        stmt = select(Ticket).options(raiseload(Ticket.audit), raiseload(Ticket.notes))
        if statuses is not None:
            stmt = stmt.where(Ticket.status.in_(sorted(statuses)))
        if assignee is not None:
            stmt = stmt.where(Ticket.assignee == assignee)
        with self._sessions() as session:
            if type is not None:
                _check_request_types([type])
                stmt = stmt.where(_has_request_type(session, type))
            stmt = stmt.order_by(
                case(workflow.PRIORITY_RANK, value=Ticket.priority, else_=len(workflow.PRIORITIES)),
                Ticket.due_at,
                Ticket.created_at,
                Ticket.id,
            )
            return list(session.execute(stmt.limit(limit).offset(offset)).scalars())

    # --- changing --------------------------------------------------------------------------

    def claim(self, reference: str, user: Actor) -> Ticket:
        """Assign the ticket to `user` (a `new` ticket becomes `assigned`).

        Raises `Conflict` if someone else holds it; claiming one's own ticket again is a no-op.
        The UPDATE only matches while the ticket is free or already ours, so of two operators
        claiming at once exactly one wins, on any backend.
        """
        name = _who(user)
        with write_session(self._sessions) as session:
            ticket = _locked(session, reference)
            if ticket.status in workflow.CLOSED_STATUSES:
                raise InvalidTransition(
                    ticket.status, workflow.ASSIGNED, f"{ticket.reference} is {ticket.status}"
                )
            if ticket.assignee not in (None, name):
                raise Conflict(
                    f"{ticket.reference} is held by {ticket.assignee}", holder=ticket.assignee
                )
            new_status = workflow.ASSIGNED if ticket.status == workflow.NEW else ticket.status
            if ticket.assignee == name and new_status == ticket.status:
                return ticket
            old = {"assignee": ticket.assignee, "status": ticket.status}
            now = self._now()
            result = session.execute(
                update(Ticket)
                .where(
                    Ticket.id == ticket.id,
                    Ticket.status.in_(sorted(workflow.OPEN_STATUSES)),
                    or_(Ticket.assignee.is_(None), Ticket.assignee == name),
                )
                .values(assignee=name, status=new_status, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                session.expire(ticket)
                holder = session.get(Ticket, ticket.id).assignee
                raise Conflict(f"{ticket.reference} is held by {holder}", holder=holder)
            session.refresh(ticket)
            changes = {
                f: _change(old[f], getattr(ticket, f)) for f in old if old[f] != getattr(ticket, f)
            }
            ticket.audit.append(AuditEntry(at=now, actor=name, action="claimed", changes=changes))
        return ticket

    def transition(self, reference: str, new_status: str, actor: Actor) -> Ticket:
        """Move the ticket along the workflow (see `workflow.TRANSITIONS`).

        Raises `InvalidTransition`. The current status again is a no-op (safe to retry).
        Back to `new` releases the assignee; `assigned` without an assignee assigns the actor.
        """
        who = _who(actor)
        with write_session(self._sessions) as session:
            ticket = _locked(session, reference)
            changes: dict[str, Any] = {}
            _apply_status(ticket, new_status, who, changes)
            self._record(ticket, who, "status_changed", changes)
        return ticket

    def update_fields(self, reference: str, changes: dict[str, Any], actor: Actor) -> Ticket:
        """Change whitelisted fields (`EDITABLE_FIELDS`) in one transaction and one audit entry.

        Raises `InvalidField` for other fields or bad values (nothing is changed then) and
        `InvalidTransition` for a status the workflow does not allow.
        """
        who = _who(actor)
        unknown = sorted(set(changes) - EDITABLE_FIELDS)
        if unknown:
            raise InvalidField(f"these fields cannot be changed here: {', '.join(unknown)}")
        clean = self._filtered(
            {
                name: value if name == "status" else _validate(name, value)
                for name, value in changes.items()
            }
        )
        with write_session(self._sessions) as session:
            ticket = _locked(session, reference)
            done: dict[str, Any] = {}
            if "status" in clean:
                _apply_status(ticket, clean.pop("status"), who, done)
            for name, value in clean.items():
                old = getattr(ticket, name)
                if old != value:
                    setattr(ticket, name, value)
                    done[name] = _change(old, value)
            self._record(ticket, who, "updated", done)
        return ticket

    def add_note(self, reference: str, author: Actor, body: str) -> Note:
        """An internal note (the customer never sees it)."""
        who = _who(author)
        body = (body or "").strip()
        if not body:
            raise InvalidField("a note needs some text")
        if self._text_filter is not None:
            body = self._text_filter(body)
        with write_session(self._sessions) as session:
            ticket = _locked(session, reference)
            now = self._now()
            note = Note(at=now, author=who, body=body)
            ticket.notes.append(note)
            session.flush()
            ticket.updated_at = now
            ticket.audit.append(
                AuditEntry(
                    at=now, actor=who, action="note_added", changes={"note": _change(None, note.id)}
                )
            )
        return note

    def purge_contact(self, older_than: datetime, actor: Actor) -> int:
        """Retention: forget the contact data of tickets closed before `older_than`.

        Clears `CONTACT_FIELDS` (also their old values in the audit log), sets
        `contact_purged_at`; request types, status, dates and the rest stay for the figures.
        Open tickets are never purged. Returns how many tickets were purged.
        """
        who = _who(actor)
        if older_than.tzinfo is None:
            raise ValueError("older_than must be timezone-aware")
        with write_session(self._sessions) as session:
            stmt = (
                select(Ticket)
                .where(
                    Ticket.status.in_(sorted(workflow.CLOSED_STATUSES)),
                    Ticket.updated_at < older_than,
                    Ticket.contact_purged_at.is_(None),
                )
                .order_by(Ticket.id)
                .with_for_update()
            )
            tickets = list(session.execute(stmt).scalars())
            now = self._now()
            for ticket in tickets:
                cleared = [f for f in CONTACT_FIELDS if getattr(ticket, f) is not None]
                for name in CONTACT_FIELDS:
                    setattr(ticket, name, None)
                ticket.contact_purged_at = now
                for entry in ticket.audit:
                    if any(f in entry.changes for f in CONTACT_FIELDS):
                        entry.changes = {
                            f: _scrubbed(c) if f in CONTACT_FIELDS else c
                            for f, c in entry.changes.items()
                        }
                ticket.audit.append(
                    AuditEntry(
                        at=now,
                        actor=who,
                        action="contact_purged",
                        changes={f: _change(PURGED, None) for f in cleared},
                    )
                )
        return len(tickets)

    # --- helpers ---------------------------------------------------------------------------

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the repository's clock must return timezone-aware datetimes")
        return now.astimezone(timezone.utc)

    def _filtered(self, values: dict[str, Any]) -> dict[str, Any]:
        if self._text_filter is None:
            return values
        for name in _FILTERED_FIELDS & values.keys():
            values[name] = _map_strings(values[name], self._text_filter)
        return values

    def _record(self, ticket: Ticket, who: str, action: str, changes: dict[str, Any]) -> None:
        if not changes:
            return
        now = self._now()
        ticket.updated_at = now
        ticket.audit.append(AuditEntry(at=now, actor=who, action=action, changes=changes))


_FILTERED_FIELDS = frozenset({"customer_words", "details"})


def _map_strings(value: Any, fn: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, dict):
        return {k: _map_strings(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_strings(v, fn) for v in value]
    return value


def _apply_status(ticket: Ticket, new_status: str, who: str, changes: dict[str, Any]) -> None:
    old_status = ticket.status
    if new_status == old_status:
        if new_status not in workflow.TRANSITIONS:
            raise InvalidTransition(old_status, new_status, f"unknown status {new_status!r}")
        return
    workflow.check_transition(old_status, new_status)
    ticket.status = new_status
    changes["status"] = _change(old_status, new_status)
    new_assignee = ticket.assignee
    if new_status == workflow.NEW:
        new_assignee = None
    elif new_status == workflow.ASSIGNED and ticket.assignee is None:
        new_assignee = who
    if new_assignee != ticket.assignee:
        changes["assignee"] = _change(ticket.assignee, new_assignee)
        ticket.assignee = new_assignee


def _by_reference(session: Session, reference: str, *, lock: bool = False) -> Ticket | None:
    stmt = select(Ticket).where(Ticket.reference == (reference or "").strip().upper())
    if lock:
        stmt = stmt.with_for_update()
    return session.execute(stmt).scalar_one_or_none()


def _locked(session: Session, reference: str) -> Ticket:
    ticket = _by_reference(session, reference, lock=True)
    if ticket is None:
        raise NotFound(f"ticket {reference}")
    return ticket


def _by_key(session: Session, key: str) -> Ticket | None:
    stmt = select(Ticket).where(Ticket.idempotency_key == key)
    return session.execute(stmt).scalar_one_or_none()


def _has_request_type(session: Session, request_type: str) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return type_coerce(Ticket.request_types, JSONB).contains([request_type])
    # JSON text of a validated vocabulary word: the quoted word matches exactly that element.
    return cast(Ticket.request_types, String).like(f'%"{request_type}"%')


def _statuses(status: str | Iterable[str] | None) -> frozenset[str] | None:
    if status is None:
        return workflow.OPEN_STATUSES
    if status == "all":
        return None
    wanted = frozenset([status] if isinstance(status, str) else status)
    unknown = sorted(wanted - set(workflow.STATUSES))
    if unknown:
        raise InvalidField(f"unknown status: {', '.join(unknown)}")
    return wanted


def _who(actor: Actor) -> str:
    name = actor if isinstance(actor, str) else getattr(actor, "name", None)
    if not isinstance(name, str) or not name.strip():
        raise InvalidField("every change needs an actor name")
    return name.strip()


def _clean_key(key: str | None) -> str | None:
    if key is None:
        return None
    key = key.strip()
    if not key:
        return None
    if len(key) > Ticket.__table__.c.idempotency_key.type.length:
        raise InvalidField("idempotency key too long")
    return key


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _change(old: Any, new: Any) -> dict[str, Any]:
    return {"old": _jsonable(old), "new": _jsonable(new)}


def _scrubbed(change: Any) -> Any:
    if not isinstance(change, dict):
        return PURGED
    return {k: (PURGED if v is not None else None) for k, v in change.items()}


# --- validation ----------------------------------------------------------------------------


def _draft_values(draft: TicketDraft) -> dict[str, Any]:
    raw = asdict(draft)
    requested_priority = raw.pop("priority")
    values = {name: _validate(name, value) for name, value in raw.items()}
    try:
        values["priority"] = workflow.initial_priority(values["request_types"], requested_priority)
    except ValueError as exc:
        raise InvalidField(str(exc)) from exc
    return values


def _check_request_types(types: list[str]) -> None:
    unknown = [t for t in types if t not in workflow.REQUEST_TYPES]
    if unknown:
        raise InvalidField(
            f"unknown request type {', '.join(map(repr, unknown))}; "
            f"one of {', '.join(workflow.REQUEST_TYPES)}"
        )


def _validate(name: str, value: Any) -> Any:
    """The value as stored, or `InvalidField` saying what is wrong with it."""
    column = Ticket.__table__.c[name]
    if name == "request_types":
        if not isinstance(value, list | tuple) or not all(isinstance(t, str) for t in value):
            raise InvalidField("request_types must be a list of request type names")
        _check_request_types(list(value))
        return list(dict.fromkeys(value))
    if name == "priority":
        if value not in workflow.PRIORITY_RANK:
            raise InvalidField(f"priority must be one of {', '.join(workflow.PRIORITIES)}")
        return value
    if name == "due_at":
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError as exc:
                raise InvalidField(f"due_at is not an ISO date-time: {value!r}") from exc
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise InvalidField("due_at must be a date-time with a time zone")
        return value
    if name == "details":
        if not isinstance(value, dict):
            raise InvalidField("details must be an object")
        try:
            json.dumps(value, ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise InvalidField(f"details must be plain JSON: {exc}") from exc
        return value
    if name == "notice_sections":
        if not isinstance(value, list | tuple) or not all(
            isinstance(s, str | int | float) and not isinstance(s, bool) for s in value
        ):
            raise InvalidField("notice_sections must be a list of section ids")
        return list(dict.fromkeys(str(s) for s in value))
    if name == "is_agent":
        if not isinstance(value, bool):
            raise InvalidField("is_agent must be true or false")
        return value
    if name == "nlu_confidence":
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise InvalidField("nlu_confidence must be a number between 0 and 1")
        return float(value)
    # Plain text fields.
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidField(f"{name} must be text")
    value = value.strip()
    length = getattr(column.type, "length", None)
    if length is not None and len(value) > length:
        raise InvalidField(f"{name} is longer than {length} characters")
    return value or None
