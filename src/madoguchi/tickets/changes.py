"""How a change is written down: the actor's name, an audit entry, an {old, new} pair.

Shared by the service's modules (service.py, steps.py), so that every audit row has one shape.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from .errors import InvalidField
from .models import AuditEntry, Ticket


class _Named(Protocol):
    name: str


Actor = str | _Named


def who(actor: Actor) -> str:
    name = actor if isinstance(actor, str) else getattr(actor, "name", None)
    if not isinstance(name, str) or not name.strip():
        raise InvalidField("every change needs an actor name")
    return name.strip()


def role(actor: Actor) -> str | None:
    """The actor's role when the caller passed a user (a bare name has none)."""
    value = getattr(actor, "role", None)
    return value if isinstance(value, str) else None


def jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def change(old: Any, new: Any) -> dict[str, Any]:
    return {"old": jsonable(old), "new": jsonable(new)}


def audit(ticket: Ticket, at: datetime, actor: str, action: str, changes: dict[str, Any]) -> None:
    ticket.audit.append(AuditEntry(at=at, actor=actor, action=action, changes=changes))
