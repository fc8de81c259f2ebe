"""Finding tickets in the database: the queries `TicketService` runs inside its sessions.

Functions over a SQLAlchemy `Session`, no writes: reading by reference (with a row lock for a
change), by idempotency key or conversation, and the queue's order.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import String, case, cast, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session, raiseload
from sqlalchemy.sql import type_coerce

from . import workflow
from .errors import InvalidField, NotFound
from .fields import check_request_types
from .models import Ticket

MAX_PAGE = 500


def by_reference(session: Session, reference: str, *, lock: bool = False) -> Ticket | None:
    stmt = select(Ticket).where(Ticket.reference == (reference or "").strip().upper())
    if lock:
        stmt = stmt.with_for_update()
    return session.execute(stmt).scalar_one_or_none()


def locked(session: Session, reference: str) -> Ticket:
    """The ticket, its row locked until the session's transaction ends; else `NotFound`."""
    ticket = by_reference(session, reference, lock=True)
    if ticket is None:
        raise NotFound(f"ticket {reference}")
    return ticket


def by_key(session: Session, key: str) -> Ticket | None:
    stmt = select(Ticket).where(Ticket.idempotency_key == key)
    return session.execute(stmt).scalar_one_or_none()


def by_conversation(session: Session, conversation_id: str) -> list[Ticket]:
    """The conversation's tickets, newest first."""
    stmt = (
        select(Ticket)
        .where(Ticket.conversation_id == conversation_id)
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
    )
    return list(session.execute(stmt).scalars())


def queue(
    session: Session,
    status: str | Iterable[str] | None = None,
    type: str | None = None,  # the desk's query parameter
    assignee: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Ticket]:
    """The queue: most urgent priority first, then earliest due, then oldest.

    `status` None means the open tickets (new, assigned, waiting_customer); "all" means every
    status; otherwise one status or several. The tickets come without their audit log and notes
    (reading them raises): a queue row needs neither, and loading them made the queue three
    times slower with 10,000 tickets (bench/queue.py); `by_reference` has them.
    """
    statuses = _statuses(status)
    limit = max(1, min(int(limit), MAX_PAGE))
    offset = max(0, int(offset))
    stmt = select(Ticket).options(raiseload(Ticket.audit), raiseload(Ticket.notes),
                                  raiseload(Ticket.identity), raiseload(Ticket.decisions))
    if statuses is not None:
        stmt = stmt.where(Ticket.status.in_(sorted(statuses)))
    if assignee is not None:
        stmt = stmt.where(Ticket.assignee == assignee)
    if type is not None:
        check_request_types([type])
        stmt = stmt.where(_has_request_type(session, type))
    stmt = stmt.order_by(
        case(workflow.PRIORITY_RANK, value=Ticket.priority, else_=len(workflow.PRIORITIES)),
        Ticket.due_at,
        Ticket.created_at,
        Ticket.id,
    )
    return list(session.execute(stmt.limit(limit).offset(offset)).scalars())


def closed_before(session: Session, older_than: Any, limit: int | None = None) -> list[Ticket]:
    """Closed tickets last changed before `older_than` that still hold contact data, locked
    (at most `limit`: retention works in small transactions)."""
    stmt = (
        select(Ticket)
        .where(
            Ticket.status.in_(sorted(workflow.CLOSED_STATUSES)),
            Ticket.updated_at < older_than,
            Ticket.contact_purged_at.is_(None),
        )
        .order_by(Ticket.id)
        .limit(limit)
        .with_for_update()
    )
    return list(session.execute(stmt).scalars())


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
