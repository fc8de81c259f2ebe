"""What a ticket's fields may hold: the assistant's draft, the fields an operator may edit, and
the check of each value before it is stored (`InvalidField` says what is wrong)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from . import workflow
from .errors import InvalidField
from .models import CONTACT_FIELDS, Ticket


@dataclass
class TicketDraft:
    """What the assistant collected in the conversation; `TicketService.create` stores it.

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


def draft_values(draft: TicketDraft) -> dict[str, Any]:
    """The draft's values as stored, its priority decided (complaints are high)."""
    raw = asdict(draft)
    requested_priority = raw.pop("priority")
    values = {name: validate(name, value) for name, value in raw.items()}
    try:
        values["priority"] = workflow.initial_priority(values["request_types"], requested_priority)
    except ValueError as exc:
        raise InvalidField(str(exc)) from exc
    return values


def check_request_types(types: list[str]) -> None:
    unknown = [t for t in types if t not in workflow.REQUEST_TYPES]
    if unknown:
        raise InvalidField(
            f"unknown request type {', '.join(map(repr, unknown))}; "
            f"one of {', '.join(workflow.REQUEST_TYPES)}"
        )


def validate(name: str, value: Any) -> Any:
    """The value as stored, or `InvalidField` saying what is wrong with it."""
    column = Ticket.__table__.c[name]
    if name == "request_types":
        if not isinstance(value, list | tuple) or not all(isinstance(t, str) for t in value):
            raise InvalidField("request_types must be a list of request type names")
        check_request_types(list(value))
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


def clean_key(key: str | None) -> str | None:
    """An idempotency key as stored: stripped, None when empty, `InvalidField` when too long."""
    if key is None:
        return None
    key = key.strip()
    if not key:
        return None
    if len(key) > Ticket.__table__.c.idempotency_key.type.length:
        raise InvalidField("idempotency key too long")
    return key
