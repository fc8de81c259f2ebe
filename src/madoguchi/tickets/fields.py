"""What a ticket's fields may hold: the assistant's draft, the fields an operator may edit, and
the check of each value before it is stored (`InvalidField` says what is wrong)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timezone
from typing import Any

from . import workflow
from .errors import InvalidField
from .lifecycle import load_rules
from .models import CONTACT_FIELDS, Ticket
from .service_target import JST

# Control characters (but tab and newline), and lone surrogates a JSON body may carry: neither
# belongs in a stored text, and PostgreSQL refuses NUL outright.
_UNSTORABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")
# The earliest date a ticket's dates may hold (far earlier is a typing mistake, and dates near
# year 1 overflow when converted between time zones).
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
# A fee above this is a typing mistake (Art. 38(2): a reasonable amount, given the actual cost).
MAX_FEE_YEN = 100_000


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
    # The law's steps known at intake (lifecycle.yml's ids): the notice version the customer
    # saw, the agent's kind and relation, the disclosure the person chose, a fee told in the
    # chat (only for ① and ②) and when it was told.
    notice_version: str | None = None
    agent_kind: str | None = None
    agent_relation: str | None = None
    disclosure_kind: str | None = None
    delivery_method: str | None = None
    disclosure_scope: str | None = None
    disclosure_items: list[str] | None = None
    fee_amount: int | None = None
    fee_told_at: datetime | None = None


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
    types = values["request_types"]
    if values["agent_kind"] is not None:
        values["is_agent"] = True
    if values["fee_amount"] is not None or values["fee_told_at"] is not None:
        check_fee_allowed(types)
    if any(values[name] is not None for name in DISCLOSURE_FIELDS):
        check_disclosure_allowed(types)
    check_scope(values["disclosure_scope"], values["disclosure_items"])
    return values


DISCLOSURE_FIELDS: tuple[str, ...] = (
    "disclosure_kind", "delivery_method", "disclosure_scope", "disclosure_items",
)


def check_fee_allowed(request_types: list[str]) -> None:
    """Art. 38: a fee only for ① and ②."""
    if not load_rules().fee_allowed(request_types):
        raise InvalidField(
            "手数料は利用目的の通知（①）と開示（②）のご請求にのみ求められます（法第38条）"
            " (a fee is allowed only for purpose_notice and disclosure)"
        )


def check_disclosure_allowed(request_types: list[str]) -> None:
    if "disclosure" not in (request_types or []):
        raise InvalidField(
            "開示の種類・方法は開示（②）のご請求にのみ記録できます"
            " (disclosure options need a disclosure request)"
        )


def check_scope(scope: str | None, items: list[str] | None) -> None:
    if scope == "items" and not items:
        raise InvalidField("開示をご希望の項目を入力してください (scope `items` needs items)")
    if scope != "items" and items:
        raise InvalidField("項目の指定は範囲が「ご指定の項目のみ」のときだけです "
                           "(items need scope `items`)")


def clean_text(value: Any, name: str, max_length: int, *, required: bool = False) -> str | None:
    """Text as stored: control characters and lone surrogates dropped, stripped, None when
    empty; `InvalidField` when not text, too long, or empty but required."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidField(f"{name} must be text")
    value = _UNSTORABLE.sub("", value).strip()
    if len(value) > max_length:
        raise InvalidField(f"{name} は{max_length}文字までです ({name} is longer than "
                           f"{max_length} characters)")
    if required and not value:
        raise InvalidField(f"{name} を入力してください ({name} is required)")
    return value or None


def choice(value: Any, name: str, options: Any, *, required: bool = True) -> str | None:
    """One id of `options` (a mapping of lifecycle.yml), or `InvalidField` listing them."""
    if value is None or value == "":
        if required:
            raise InvalidField(f"{name} を選んでください ({name} is required; one of "
                               f"{', '.join(options)})")
        return None
    if not isinstance(value, str) or value not in options:
        raise InvalidField(f"{name} must be one of {', '.join(options)}")
    return value


def moment(value: Any, name: str, *, now: datetime | None = None) -> datetime | None:
    """An aware datetime from an ISO date-time or date (a date means 0:00 JST that day), not
    before 2000 and not in the future (when `now` is given); None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                value = datetime.combine(date.fromisoformat(text), time(0, 0), tzinfo=JST)
            else:
                value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise InvalidField(f"{name} is not an ISO date or date-time: {value!r}") from exc
    if not isinstance(value, datetime):
        raise InvalidField(f"{name} must be an ISO date or date-time")
    if value.tzinfo is None:
        raise InvalidField(f"{name} needs a time zone (e.g. +09:00), or give a date alone")
    if value.year < EARLIEST.year:
        raise InvalidField(f"{name} is before {EARLIEST.year}")
    value = value.astimezone(timezone.utc)
    if now is not None and value > now:
        raise InvalidField(f"{name} は未来の日時にできません ({name} is in the future)")
    return value


def fee_amount(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_FEE_YEN:
        raise InvalidField(f"fee amount must be a whole number of yen from 0 to {MAX_FEE_YEN:,}")
    return value


def text_items(value: Any, name: str) -> list[str] | None:
    """A list of short texts (the disclosure's named items); None or [] means none."""
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > 50:
        raise InvalidField(f"{name} must be a list of up to 50 texts")
    items = [clean_text(v, name, 200) for v in value]
    return list(dict.fromkeys(i for i in items if i)) or None


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
    if name in _LIFECYCLE_CHOICES:
        return choice(value, name, _LIFECYCLE_CHOICES[name](), required=False)
    if name == "disclosure_items":
        return text_items(value, name)
    if name == "fee_amount":
        return fee_amount(value)
    if name == "fee_told_at":
        return moment(value, name)
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


_LIFECYCLE_CHOICES = {
    "agent_kind": lambda: load_rules().agent_kinds,
    "disclosure_kind": lambda: load_rules().disclosure_kinds,
    "delivery_method": lambda: load_rules().delivery_methods,
    "disclosure_scope": lambda: load_rules().disclosure_scopes,
}


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
