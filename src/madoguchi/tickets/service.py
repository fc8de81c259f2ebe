"""The ticket's lifecycle: every change to a ticket goes through `TicketService`, and each
change writes its audit entry (who, when, old → new) in the same transaction.

Creation from the chat, claims, status transitions, field edits, notes, the operator's chat
turns (messages and hand-backs, which change no field but belong in the log) and retention's
purge of contact data. The desk, the action server and retention all call this; nothing else
writes tickets or audit rows.

Refused attempts (a `Conflict`, `InvalidTransition` or `InvalidField` from a changing method)
leave an `attempt_refused` entry of their own and change nothing else (refusals.py).

Who may change a ticket: its holder or a supervisor (`_record`, which every change's audit
entry passes through, checks it against the users table); a name that is no desk user is the
system itself (the assistant, retention, the customer's own steps in the chat). Claiming a
free ticket and adding a note are open to every operator. Who may read its clear contact data
and conversation: the same people (`read`), and every such read is written to the audit log.

Each method is one short transaction of its own and returns detached objects (readable after
the session has closed, audit log and notes included). Concurrency rests on the database: the
unique constraints (reference, idempotency key), a conditional UPDATE for claims, row locks
(`SELECT … FOR UPDATE` on PostgreSQL, `BEGIN IMMEDIATE` on SQLite) for the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, object_session, sessionmaker

from madoguchi.infra.db import DatabaseError, utcnow, write_session

from . import repository, workflow
from .changes import Actor
from .changes import audit as _audit
from .changes import change as _change
from .changes import who as _who
from .errors import Conflict, InvalidField, InvalidTransition, NotFound
from .fields import EDITABLE_FIELDS, TicketDraft, clean_key, draft_values, validate
from .lifecycle import Rules, load_rules
from .models import CONTACT_FIELDS, Note, Ticket, User
from .references import next_reference
from .refusals import ACTION as REFUSED
from .refusals import changed_fields, is_audited, mark_audited, new_status, refusals_audited
from .service_target import ServiceTarget
from .steps import LifecycleSteps, check_manual_status, check_type_change

# The actor of changes the assistant makes (ticket creation from the chat).
ASSISTANT = "assistant"
PURGED = "[purged]"

# Free text of a ticket that passes the text filter before it is stored.
_FILTERED_FIELDS = frozenset({"customer_words", "details"})

SUPERVISOR_ROLE = "supervisor"
# The audit entry of a read of clear data: {"viewed": {"old": None, "new": [fields]}}.
VIEWED = "viewed"
TRANSCRIPT = "transcript"
# The same person's read of the same ticket's same data within this window is covered by the
# entry already written: the ticket page refreshes its transcript every few seconds.
READ_AUDIT_WINDOW = timedelta(minutes=10)
MAX_REASON = 2000
# The actor of a refused attempt that gave no usable name.
UNNAMED = "(no name)"

log = logging.getLogger(__name__)


class TicketService(LifecycleSteps):
    def __init__(
        self,
        session_factory: sessionmaker,
        *,
        service_target: ServiceTarget | None = None,
        clock: Callable[[], datetime] = utcnow,
        text_filter: Callable[[str], str] | None = None,
        rules: Rules | None = None,
    ) -> None:
        """`text_filter` runs over free text before it is stored (customer_words, the strings
        in details, note bodies, the operator's messages in the audit log): the place to mask
        card numbers and My Numbers that must never reach a table. Contact fields are left
        alone: a phone number there is wanted. `rules`: the law's steps (lifecycle.yml); the
        default target takes its per-type business days from them."""
        self._sessions = session_factory
        self._rules = rules if rules is not None else load_rules()
        self._target = (
            service_target if service_target is not None
            else ServiceTarget.from_env().with_types(self._rules.target_days)
        )
        self._clock = clock
        self._text_filter = text_filter

    # --- reading ---------------------------------------------------------------------------

    def get(self, reference: str) -> Ticket | None:
        """The ticket with its audit log and notes, or None."""
        with self._sessions() as session:
            return repository.by_reference(session, reference)

    def may_read(self, ticket: Ticket, reader: Actor) -> bool:
        """Whether `reader` sees the ticket's contact data and conversation in clear: its
        holder and supervisors do; other operators see it masked until they claim it."""
        name = _who(reader)
        return ticket.assignee == name or self._role(name) == SUPERVISOR_ROLE

    def read(
        self, reference: str, reader: Actor, *, contact: bool = True, transcript: bool = False
    ) -> tuple[Ticket, bool]:
        """The ticket and whether `reader` may see its clear data (`may_read`).

        When they may, the read of the contact fields that hold a value (`contact`) and of the
        conversation (`transcript`) is written to the audit log before it is returned: who,
        when, which ticket and fields. The same reader's same read within
        `READ_AUDIT_WINDOW` is covered by the entry already there. The ticket returned is
        the one that was read: its log ends before this read's own entry.
        """
        ticket = self.get(reference)
        if ticket is None:
            raise NotFound(f"ticket {reference}")
        name = _who(reader)
        if not self.may_read(ticket, name):
            return ticket, False
        seen = [f for f in CONTACT_FIELDS if contact and getattr(ticket, f) not in (None, "")]
        if transcript and ticket.conversation_id:
            seen.append(TRANSCRIPT)
        if not seen or _read_recently(ticket, name, seen, self._now()):
            return ticket, True
        with write_session(self._sessions) as session:
            _audit(repository.locked(session, reference), self._now(), name, VIEWED,
                   {VIEWED: _change(None, seen)})
        return ticket, True

    def find_by_conversation(self, conversation_id: str) -> list[Ticket]:
        """The conversation's tickets, newest first."""
        with self._sessions() as session:
            return repository.by_conversation(session, conversation_id)

    def list_queue(self, *filters: Any, **named: Any) -> list[Ticket]:
        """The queue, most urgent first, without audit log and notes: `repository.queue` with
        its filters and paging (status, type, assignee, limit, offset) as given here."""
        with self._sessions() as session:
            return repository.queue(session, *filters, **named)

    # --- creating --------------------------------------------------------------------------

    def create(
        self, draft: TicketDraft, *, idempotency_key: str | None = None, actor: Actor = ASSISTANT,
        also: Callable[[Session, Ticket], None] | None = None,
    ) -> Ticket:
        """A new ticket; the same `idempotency_key` again returns the first ticket unchanged.

        `also` writes rows that belong to the new ticket in its transaction (the handoff's
        webhook announcement): both are stored, or neither. Not called for a repeat.

        Two concurrent creates with one key race on the key's unique constraint: the loser
        rolls back (its reference number with it) and returns the winner's ticket.
        """
        values = self._filtered(draft_values(draft))
        key = clean_key(idempotency_key)
        who = _who(actor)
        try:
            with write_session(self._sessions) as session:
                if key is not None:
                    existing = repository.by_key(session, key)
                    if existing is not None:
                        return existing
                now = self._now()
                if values.get("fee_amount") is not None and values.get("fee_told_at") is None:
                    values["fee_told_at"] = now  # told in the chat, before the customer confirmed
                ticket = Ticket(
                    **values,
                    reference=next_reference(session, now),
                    status=workflow.NEW,
                    created_at=now,
                    updated_at=now,
                    due_at=self._target.due_at(now, values["request_types"]),
                    received_at=now,
                    idempotency_key=key,
                    audit=[],
                    notes=[],
                )
                _audit(ticket, now, who, "created", {
                    name: _change(None, getattr(ticket, name))
                    for name in ("status", "priority", "request_types", "due_at", "received_at")
                })
                session.add(ticket)
                if also is not None:
                    session.flush()
                    also(session, ticket)
            return ticket
        except IntegrityError:
            if key is not None:
                with self._sessions() as session:
                    existing = repository.by_key(session, key)
                if existing is not None:
                    return existing
            # Anything else (a reference taken although the counter is authoritative: someone
            # edited ticket_counters by hand) is a real error, not something to retry.
            raise

    # --- changing --------------------------------------------------------------------------

    @refusals_audited("claim")
    def claim(self, reference: str, user: Actor) -> Ticket:
        """Assign the ticket to `user` (a `new` ticket becomes `assigned`).

        Raises `Conflict` if someone else holds it; claiming one's own ticket again is a no-op.
        The UPDATE only matches while the ticket is free or already ours, so of two operators
        claiming at once exactly one wins, on any backend.
        """
        name = _who(user)
        with write_session(self._sessions) as session:
            ticket = repository.locked(session, reference)
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
            _audit(ticket, now, name, "claimed", changes)
        return ticket

    @refusals_audited("transition", new_status)
    def transition(
        self, reference: str, new_status: str, actor: Actor, reason: Any = None
    ) -> Ticket:
        """Move the ticket along the workflow (see `workflow.TRANSITIONS`).

        Raises `InvalidTransition`. The current status again is a no-op (safe to retry).
        Back to `new` releases the assignee; `assigned` without an assignee assigns the actor.
        A refusal (`rejected`) needs its `reason`, which the audit entry keeps.
        """
        who = _who(actor)
        with write_session(self._sessions) as session:
            ticket = repository.locked(session, reference)
            changes: dict[str, Any] = {}
            check_manual_status(ticket, new_status, self._rules)
            self._refusal_reason(ticket, new_status, reason, changes)
            _apply_status(ticket, new_status, who, changes)
            self._record(ticket, who, "status_changed", changes)
        return ticket

    @refusals_audited("update_fields", changed_fields)
    def update_fields(self, reference: str, changes: dict[str, Any], actor: Actor) -> Ticket:
        """Change whitelisted fields (`EDITABLE_FIELDS`) in one transaction and one audit entry.

        Raises `InvalidField` for other fields or bad values (nothing is changed then) and
        `InvalidTransition` for a status the workflow does not allow. `reason` goes with a
        status change to `rejected` (required there).
        """
        who = _who(actor)
        changes = dict(changes)
        reason = changes.pop("reason", None)
        unknown = sorted(set(changes) - EDITABLE_FIELDS)
        if unknown:
            raise InvalidField(f"these fields cannot be changed here: {', '.join(unknown)}")
        clean = self._filtered(
            {
                name: value if name == "status" else validate(name, value)
                for name, value in changes.items()
            }
        )
        with write_session(self._sessions) as session:
            ticket = repository.locked(session, reference)
            done: dict[str, Any] = {}
            if "status" in clean:
                check_manual_status(ticket, clean["status"], self._rules)
                self._refusal_reason(ticket, clean["status"], reason, done)
                _apply_status(ticket, clean.pop("status"), who, done)
            if "request_types" in clean:
                check_type_change(ticket, clean["request_types"], self._rules)
            for name, value in clean.items():
                old = getattr(ticket, name)
                if old != value:
                    setattr(ticket, name, value)
                    done[name] = _change(old, value)
            self._record(ticket, who, "updated", done)
        return ticket

    @refusals_audited("add_note")
    def add_note(self, reference: str, author: Actor, body: str) -> Note:
        """An internal note (the customer never sees it)."""
        who = _who(author)
        body = (body or "").strip()
        if not body:
            raise InvalidField("a note needs some text")
        if self._text_filter is not None:
            body = self._text_filter(body)
        with write_session(self._sessions) as session:
            ticket = repository.locked(session, reference)
            now = self._now()
            note = Note(at=now, author=who, body=body)
            ticket.notes.append(note)
            session.flush()
            ticket.updated_at = now
            _audit(ticket, now, who, "note_added", {"note": _change(None, note.id)})
        return note

    @refusals_audited("record_message")
    def record_message(
        self, reference: str, author: Actor, text: str,
        deliver: Callable[[Ticket], None] | None = None,
    ) -> Ticket:
        """The operator wrote `text` to the customer in the chat: its audit entry.

        The message itself lives in the conversation (the desk appends it to Rasa's log, in
        another database); the ticket keeps who said what, and when. Written ahead: the
        permission check and the audit entry commit before `deliver` sends the words, so no
        customer reads a message the log lacks; a failed delivery adds `message_failed` and
        raises.
        """
        if self._text_filter is not None:
            text = self._text_filter(text)
        ticket = self._record_turn(
            reference, author, "message_sent", {"message": _change(None, text)}
        )
        if deliver is not None:
            try:
                deliver(ticket)
            except Exception:
                self._record_turn(reference, author, "message_failed",
                                  {"delivered": _change(None, False)})
                raise
        return ticket

    @refusals_audited("record_handback")
    def record_handback(self, reference: str, author: Actor) -> Ticket:
        """The operator gave the conversation back to the bot: its audit entry."""
        return self._record_turn(
            reference, author, "handed_back", {"conversation": _change("operator", "bot")}
        )

    def record_status_check(self, reference: str, actor: Actor, outcome: str) -> Ticket:
        """A customer asked where the request stands (tickets/status_check.py): its audit entry.

        Changes no field and leaves `updated_at` alone: nobody worked on the ticket.
        """
        who = _who(actor)
        with write_session(self._sessions) as session:
            ticket = repository.locked(session, reference)
            _audit(ticket, self._now(), who, "status_checked",
                   {"status_check": _change(None, outcome)})
        return ticket

    def record_refusal(self, reference: Any, actor: Any, attempted: str,
                       error: BaseException) -> bool:
        """Note a refused attempt on its ticket: who, what was attempted, why it was refused
        (the error's own words, through the text filter). Nothing else changes, not even
        `updated_at`: nobody worked on the ticket. Once per error (it is marked); False when
        there is no such ticket to note it on, or the entry could not be written (the
        refusal itself still reaches the caller: its answer matters more than its trace)."""
        if is_audited(error) or not isinstance(reference, str):
            return False
        mark_audited(error)
        try:
            name = _who(actor)
        except InvalidField:
            name = UNNAMED
        reason = " ".join(str(error).split())[:MAX_REASON]
        what = " ".join(attempted.split())[:200]
        if self._text_filter is not None:
            reason, what = self._text_filter(reason), self._text_filter(what)
        try:
            with write_session(self._sessions) as session:
                ticket = repository.by_reference(session, reference)
                if ticket is None:
                    return False
                _audit(ticket, self._now(), name, REFUSED,
                       {"attempted": _change(None, what), "reason": _change(None, reason)})
        except (SQLAlchemyError, DatabaseError):  # e.g. SQLite busy beyond its timeout
            log.warning("could not audit a refused %s on %s", what, reference, exc_info=True)
            return False
        return True

    def purge_contact(self, older_than: datetime, actor: Actor, *,
                      scrub: Callable[[Ticket], None] | None = None,
                      limit: int | None = None) -> int:
        """Retention: forget the contact data of tickets closed before `older_than`.

        Clears `CONTACT_FIELDS` (also their old values in the audit log), sets
        `contact_purged_at`; request types, status, dates and the rest stay for the figures.
        Open tickets are never purged. Returns how many tickets were purged. `scrub` masks the
        ticket's free text first, knowing its contact data (retention's inventory, see
        madoguchi.privacy.stores); `limit`: at most so many in this one transaction.
        """
        who = _who(actor)
        if older_than.tzinfo is None:
            raise ValueError("older_than must be timezone-aware")
        with write_session(self._sessions) as session:
            tickets = repository.closed_before(session, older_than, limit)
            now = self._now()
            for ticket in tickets:
                if scrub is not None:
                    scrub(ticket)
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
                _audit(ticket, now, who, "contact_purged",
                       {f: _change(PURGED, None) for f in cleared})
        return len(tickets)

    # --- helpers ---------------------------------------------------------------------------

    def _record_turn(
        self, reference: str, author: Actor, action: str, changes: dict[str, Any]
    ) -> Ticket:
        who = _who(author)
        with write_session(self._sessions) as session:
            ticket = repository.locked(session, reference)
            self._record(ticket, who, action, changes)
        return ticket

    def _role(self, name: str) -> str | None:
        with self._sessions() as session:
            return _role_of(session, name)

    def _refusal_reason(
        self, ticket: Ticket, new_status: str, reason: Any, changes: dict[str, Any]
    ) -> None:
        """A refusal names its reason (the request types ①–⑤ refuse through a decision)."""
        if new_status != workflow.REJECTED or ticket.status == workflow.REJECTED:
            return
        text = reason.strip() if isinstance(reason, str) else ""
        if not text or len(text) > MAX_REASON:
            raise InvalidField(
                f"却下するには理由を{MAX_REASON:,}文字以内で入力してください "
                "(a refusal needs its reason)"
            )
        if self._text_filter is not None:
            text = self._text_filter(text)
        changes["reason"] = _change(None, text)

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the ticket service's clock must return timezone-aware datetimes")
        return now.astimezone(timezone.utc)

    def _filtered(self, values: dict[str, Any]) -> dict[str, Any]:
        if self._text_filter is None:
            return values
        for name in _FILTERED_FIELDS & values.keys():
            values[name] = _map_strings(values[name], self._text_filter)
        return values

    def _record(self, ticket: Ticket, who: str, action: str, changes: dict[str, Any]) -> None:
        """The audit entry of a change (none when nothing changed); the ticket's time moves.

        Every change passes here, so here is who may make it (`_check_may_change`)."""
        if not changes:
            return
        _check_may_change(ticket, who, changes)
        now = self._now()
        ticket.updated_at = now
        _audit(ticket, now, who, action, changes)


def _role_of(session: Session, name: str) -> str | None:
    """The desk role of `name`, or None: not a desk user (the system acting)."""
    return session.execute(select(User.role).where(User.name == name)).scalar_one_or_none()


def _check_may_change(ticket: Ticket, who: str, changes: dict[str, Any]) -> None:
    """Only the ticket's holder (before this change) or a supervisor changes it."""
    session = object_session(ticket)
    role = _role_of(session, who) if session is not None else None
    if role is None or role == SUPERVISOR_ROLE:
        return
    held = changes.get("assignee")
    holder = held["old"] if isinstance(held, dict) else ticket.assignee
    if holder == who:
        return
    if holder:
        raise Conflict(f"{ticket.reference} is held by {holder} "
                       "(担当者かスーパーバイザーだけが変更できます)", holder=holder)
    raise Conflict(f"{ticket.reference}: 担当してから変更してください "
                   "(claim the ticket before changing it)")


def _read_recently(ticket: Ticket, who: str, seen: list[str], now: datetime) -> bool:
    since = now - READ_AUDIT_WINDOW
    for entry in reversed(ticket.audit):
        if entry.at < since:
            return False
        change = (entry.changes or {}).get(VIEWED) if entry.action == VIEWED else None
        if entry.actor == who and isinstance(change, dict) and set(seen) <= set(
            change.get("new") or ()
        ):
            return True
    return False


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


def _scrubbed(change: Any) -> Any:
    if not isinstance(change, dict):
        return PURGED
    return {k: (PURGED if v is not None else None) for k, v in change.items()}

