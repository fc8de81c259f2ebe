"""What the desk does, shared by the JSON API and the console pages.

One `Desk` per process holds the engine, the repositories and the Rasa client. Everything here
is synchronous (SQLAlchemy, urllib); the routes run it in FastAPI's thread pool.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from madoguchi.conversation import events, transcript
from madoguchi.infra import db
from madoguchi.infra.settings import Settings
from madoguchi.text.pii import scrub_forbidden
from madoguchi.tickets import (
    CONTACT_FIELDS,
    AuditEntry,
    Conflict,
    InvalidField,
    Note,
    NotFound,
    Ticket,
    TicketService,
    User,
    UserRepository,
    workflow,
)

from . import views
from .csat import ask_when_done
from .rasa import RasaClient, RasaError, answers
from .reply_check import require_filled

# Notes and messages to the customer: what an operator may type in one go.
MAX_TEXT = 2000

# The name of a note's or a message's words in the API and the forms. Notes took `body` before
# (`NOTE_BODY`): still accepted for one release, documented as deprecated.
TEXT = "text"
NOTE_BODY = "body"


def warm_up() -> None:
    """Load the PII finder in the background, so the first note does not wait for it."""

    def load() -> None:
        try:
            scrub_forbidden("0")
        except Exception:  # a broken model shows up on the first note, with its error
            pass

    threading.Thread(target=load, name="desk-warm-up", daemon=True).start()


def typed_text(given: Mapping[str, Any], *old_names: str) -> tuple[str, Any]:
    """(field, value) of what the operator typed: `text`, else the first deprecated name sent."""
    for name in (TEXT, *old_names):
        if name in given:
            return name, given[name]
    return TEXT, None


def require_operator_text(value: Any, name: str, label: str) -> str:
    """What an operator typed for a note or message, stripped: text of 1 to MAX_TEXT
    characters, else `InvalidField` naming the field (`name`) and, in Japanese, `label`."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidField(f"{label}を入力してください ({name} must be non-empty text)")
    value = value.strip()
    if len(value) > MAX_TEXT:
        raise InvalidField(
            f"{label}は{MAX_TEXT:,}文字までです ({name} is longer than {MAX_TEXT} characters)"
        )
    return value


# What an operator who does not hold a ticket sees instead of its clear data.
HIDDEN = "［担当者のみ表示］"
HIDDEN_TRANSCRIPT = ("会話とお客様の連絡先は、この受付の担当者とスーパーバイザーだけが見られます。"
                     "担当すると表示されます。")


# Audit changes that carry clear data: contact fields, an operator's words to the customer,
# what was received as proof of identity.
_HIDDEN_CHANGES = frozenset({*CONTACT_FIELDS, "message", "identity_received"})


def masked_detail(detail: dict[str, Any]) -> dict[str, Any]:
    """A ticket's detail without its clear data: contact fields, the request's details, contact
    values in the audit log (and an operator's messages), and the decision letters."""
    hidden = {name: HIDDEN if detail.get(name) not in (None, "") else None
              for name in CONTACT_FIELDS}
    audit = [
        {**entry, "changes": {
            field: _hidden_change(change) if field in _HIDDEN_CHANGES else change
            for field, change in (entry.get("changes") or {}).items()
        }}
        for entry in detail.get("audit") or []
    ]
    decisions = [{**d, "letter": HIDDEN} for d in detail.get("decisions") or []]
    decision, identity = detail.get("decision"), detail.get("identity")
    return {
        **detail, **hidden,
        "details": {key: HIDDEN for key in detail.get("details") or {}},
        "audit": audit,
        "decisions": decisions,
        "decision": {**decision, "letter": HIDDEN} if decision else decision,
        "identity": {**identity, "received": HIDDEN} if identity else identity,
        "contact_visible": False,
    }


def _hidden_change(change: Any) -> Any:
    if isinstance(change, dict):
        return {k: HIDDEN if v not in (None, "") else v for k, v in change.items()}
    return HIDDEN


@dataclass
class Desk:
    settings: Settings
    engine: Engine
    sessions: sessionmaker
    tickets: TicketService
    users: UserRepository
    rasa: RasaClient

    @classmethod
    def from_settings(cls, settings: Settings) -> Desk:
        engine = db.make_engine(settings.database_url)
        db.upgrade(engine)
        sessions = db.session_factory(engine)
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            # Card and individual numbers never reach a table, also when an operator types them.
            tickets=TicketService(sessions, text_filter=scrub_forbidden),
            users=UserRepository(sessions),
            rasa=RasaClient(settings.rasa_url, settings.rasa_token),
        )

    # --- reading ---------------------------------------------------------------------------

    def ticket(self, reference: str) -> Ticket:
        ticket = self.tickets.get(reference)
        if ticket is None:
            raise NotFound(f"ticket {reference}")
        return ticket

    def read(
        self, reference: str, user: User, *, contact: bool = True, transcript: bool = True
    ) -> tuple[Ticket, dict[str, Any], dict[str, Any]]:
        """The ticket, its detail and its conversation as `user` may see them.

        The holder and supervisors see the contact data and the transcript, and that read is
        audited (`TicketService.read`); other operators see the queue's view: contact data,
        the request's details, contact values in the audit log and the decision letter
        masked, and no transcript, until they claim the ticket.
        """
        ticket, clear = self.tickets.read(reference, user, contact=contact,
                                          transcript=transcript)
        detail = views.ticket_detail(ticket)
        if clear:
            conversation = (self.conversation(ticket) if transcript
                            else {"transcript": None, "transcript_error": None,
                                  "conversation_paused": None})
            return ticket, {**detail, "contact_visible": True}, conversation
        return ticket, masked_detail(detail), {
            "transcript": None, "transcript_error": HIDDEN_TRANSCRIPT,
            "conversation_paused": None,
        }

    def queue_item(self, ticket: Ticket, user: User, now: Any) -> dict[str, Any]:
        """A queue row: the customer's name only on the caller's own tickets."""
        row = views.queue_item(ticket, now)
        if "customer_name" in row and ticket.assignee != user.name:
            row["customer_name"] = None
        return row

    def conversation(self, ticket: Ticket) -> dict[str, Any]:
        """{transcript, transcript_error, conversation_paused} from Rasa's tracker store."""
        if not ticket.conversation_id:
            return {"transcript": [], "transcript_error": None, "conversation_paused": None}
        try:
            tracker = self.rasa.tracker(ticket.conversation_id)
        except RasaError as exc:
            return {
                "transcript": None,
                "transcript_error": f"会話を読み込めません: {exc}",
                "conversation_paused": None,
            }
        return {
            "transcript": transcript.of_tracker(tracker).lines(),
            "transcript_error": None,
            "conversation_paused": tracker.get("paused"),
        }

    def queue_version(self) -> str:
        """Changes whenever a ticket is created or changed (what the live queue watches).

        Every change leaves an audit entry, so the newest audit id, the newest ticket id and
        the number of open tickets say it. All three come from indexes: every open console
        asks every 2 s, and a scan of the whole table (max of updated_at, as before) grew with
        the store (bench/queue.py: 4.2 → 1.1 ms in PostgreSQL with 10,000 tickets).
        """
        open_count = (
            select(func.count())
            .select_from(Ticket)
            .where(Ticket.status.in_(sorted(workflow.OPEN_STATUSES)))
            .scalar_subquery()
        )
        stmt = select(
            open_count,
            select(func.max(Ticket.id)).scalar_subquery(),
            select(func.max(AuditEntry.id)).scalar_subquery(),
        )
        with self.sessions() as session:
            row = session.execute(stmt).one()
        return hashlib.sha1("|".join(map(str, row)).encode()).hexdigest()[:16]

    def health_database(self) -> bool:
        return db.database_ok(self.engine)

    def health_rasa(self) -> bool:
        return answers(self.settings.rasa_url.rstrip("/") + "/")

    def health_actions(self) -> bool:
        return answers(self.settings.action_url.rstrip("/") + "/health")

    # --- changing --------------------------------------------------------------------------

    @staticmethod
    def check_holder(ticket: Ticket, user: User) -> None:
        """Only the operator holding a ticket works it (a supervisor may step in)."""
        if ticket.assignee and ticket.assignee != user.name and user.role != "supervisor":
            raise Conflict(
                f"{ticket.reference} is held by {ticket.assignee}", holder=ticket.assignee
            )

    def update(self, reference: str, changes: dict[str, Any], user: User) -> Ticket:
        """Fields and status (who may: `TicketService`); `reason` goes with a refusal."""
        before = self.ticket(reference)
        self.check_holder(before, user)
        if not changes:
            raise InvalidField("変更する項目がありません (no fields to change)")
        ticket = self.tickets.update_fields(reference, changes, user)
        if ticket.status == workflow.RESOLVED != before.status:
            ask_when_done(self.rasa, ticket)  # the conversation has ended: CSAT
        return ticket

    def decide(self, reference: str, user: User, **decision: Any) -> Ticket:
        """Propose a decision (`TicketService.propose_decision`: outcome, ground, explanation,
        letter). A grant closes the ticket at once: then the customer is asked CSAT."""
        ticket = self.tickets.propose_decision(reference, user, **decision)
        self._ask_if_closed(ticket)
        return ticket

    def approve_decision(self, reference: str, user: User) -> Ticket:
        """A supervisor approves a refusal or partial grant: it closes the ticket (rejected or
        resolved), so the customer is asked CSAT."""
        ticket = self.tickets.approve_decision(reference, user)
        self._ask_if_closed(ticket)
        return ticket

    def _ask_if_closed(self, ticket: Ticket) -> None:
        """A decision that closed the ticket ended the request for the customer: CSAT, once
        per conversation like every other ending (review/csat.py keeps the once)."""
        if ticket.status in (workflow.RESOLVED, workflow.REJECTED):
            ask_when_done(self.rasa, ticket)

    def add_note(self, reference: str, text: Any, user: User, *, field: str = TEXT) -> Note:
        """An internal note; `field` names what the words came as, for the error message."""
        return self.tickets.add_note(reference, user, require_operator_text(text, field, "メモ"))

    def send_message(self, reference: str, text: Any, user: User) -> dict[str, Any]:
        """The operator's words into the customer's chat and the conversation log."""
        text = scrub_forbidden(require_operator_text(text, TEXT, "メッセージ"))
        require_filled(text)  # a canned reply's {placeholder} is never sent blank
        ticket = self.ticket(reference)
        self.check_holder(ticket, user)
        conversation_id = self._conversation_of(ticket)
        event = events.operator_turn(text, user.name)
        # The audit entry commits first (with the holder check), then the customer reads it.
        self.tickets.record_message(
            ticket.reference, user, text,
            deliver=lambda _: self.rasa.append_event(conversation_id, event, deliver=True),
        )
        return {"reference": ticket.reference, "conversation_id": conversation_id, "text": text}

    def hand_back(self, reference: str, user: User) -> dict[str, Any]:
        """Give the conversation back to the bot (Rasa's ConversationResumed)."""
        ticket = self.ticket(reference)
        self.check_holder(ticket, user)
        conversation_id = self._conversation_of(ticket)
        self.rasa.append_event(conversation_id, {"event": "resume"})
        self.tickets.record_handback(ticket.reference, user)
        ask_when_done(self.rasa, ticket)  # the operator's part has ended: CSAT
        return {"reference": ticket.reference, "conversation_id": conversation_id,
                "resumed": True}

    @staticmethod
    def _conversation_of(ticket: Ticket) -> str:
        if not ticket.conversation_id:
            raise Conflict(
                f"{ticket.reference} has no chat conversation (チャットの会話がありません)"
            )
        return ticket.conversation_id
