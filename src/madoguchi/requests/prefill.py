"""The ticket as far as the conversation fills it in, and the summary the customer confirms.

The action layer passes plain data (Rasa tracker events as dicts, the slots, the request
types), so this stays testable without Rasa. Card numbers and individual numbers never reach
the ticket: every text is scrubbed, and the customer's own words are masked with pii.mask.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from madoguchi.conversation import events as ev
from madoguchi.requests.fields import (
    VALIDATORS,
    Invalid,
    contains_forbidden,
    pii_module,
    scrub_forbidden,
)
from madoguchi.requests.types import (
    REQUEST_TYPE_IDS,
    get_type,
    is_optional,
    load_catalogue,
    notice_sections_of,
    priority_of,
    request_intents,
    slots_for,
)

log = logging.getLogger(__name__)

# Slot events that close one request within a conversation (the ticket was created); the next
# request's words start after them. Rasa's restart / new session do the same.
BOUNDARY_SLOTS = ("ticket_reference",)
NOTICE_SECTION_SLOT = "notice_section"

MAX_CUSTOMER_MESSAGES = 3  # the request and up to two follow-ups before the form starts
MAX_WORDS_CHARS = 2000
SUMMARY_MAX_CHARS = 200

_LIST_SLOTS = frozenset({"marketing_channels", "third_party_recipients"})
_BOOL_SLOTS = frozenset({"is_agent", "cancel_membership"})


@dataclass
class TicketPrefill:
    """What DESIGN.md's ticket needs from the conversation (reference, status, assignee, due date
    and audit log belong to the ticket store)."""

    conversation_id: str
    request_types: list[str]
    priority: str
    customer_name: str | None = None
    phone: str | None = None
    email: str | None = None
    postal_address: str | None = None
    member_number: str | None = None
    preferred_time: str | None = None
    is_agent: bool | None = None
    # Per request type, what exactly is asked:
    #   correction {"item", "value"}; marketing_optout {"channels"}; third_party_stop
    #   {"recipients"}; suspension {"scope", "scope_detail", "cancel_membership"};
    #   complaint {"details"}; purpose_notice / disclosure {}.
    details: dict[str, dict[str, Any]] = field(default_factory=dict)
    customer_words: list[str] = field(default_factory=list)
    nlu_intent: str | None = None
    nlu_confidence: float | None = None
    notice_sections: list[str] = field(default_factory=list)
    next_steps: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# --- slot values ----------------------------------------------------------------------------


def _scrub(value: Any) -> Any:
    """The value with card and individual numbers replaced, however deeply it is nested."""
    if isinstance(value, str):
        return scrub_forbidden(value)
    if isinstance(value, Mapping):
        return {str(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_scrub(v) for v in value]
    return value


def slot_value(slot: str, value: Any) -> Any:
    """A slot as the ticket stores it: validated text is canonicalised (phone 090-1234-5678);
    text that does not validate is kept as typed for the operator, never a forbidden number."""
    if value is None:
        return None
    if isinstance(value, str) and slot in VALIDATORS:
        if not value.strip():
            return None
        result = VALIDATORS[slot](value)
        if isinstance(result, Invalid):
            if result.reason == "forbidden_number" or contains_forbidden(value):
                return None
            if slot in _BOOL_SLOTS:
                return None
            text = scrub_forbidden(value.strip())
            if slot in _LIST_SLOTS:
                return [text]
            if slot == "suspension_scope":
                return {"scope": "specific", "detail": text}
            return text
        return _scrub(result.value)
    if slot in _BOOL_SLOTS:
        return value if isinstance(value, bool) else None
    if slot in _LIST_SLOTS and isinstance(value, (list, tuple, set)):
        return [_scrub(str(v)) for v in value if v is not None and str(v).strip()]
    if slot == "suspension_scope" and isinstance(value, Mapping):
        scope = value.get("scope")
        return {
            "scope": scope if scope in {"all", "specific"} else "specific",
            "detail": _scrub(str(value.get("detail") or "")),
        }
    return _scrub(value)


# --- the conversation -----------------------------------------------------------------------


def _is_boundary(event: ev.Event) -> bool:
    if event.kind in ev.SESSION_BOUNDARIES:
        return True
    return isinstance(event, ev.SlotValue) and event.name in BOUNDARY_SLOTS and bool(event.value)


def mask_words(text: str) -> str:
    """The customer's words as stored: personal data replaced by labels (pii.mask labels card
    and individual numbers too; the ticket store's text filter is the gate at the boundary)."""
    text = text[:MAX_WORDS_CHARS]
    pii = pii_module()
    if pii is not None:
        try:
            return pii.mask(text, style="label")
        except Exception:
            log.exception("pii.mask failed; keeping only the forbidden-number scrub")
    return scrub_forbidden(text)


_Start = tuple[int | None, str | None, float | None]


def _request_start(events: Sequence[ev.Event]) -> _Start:
    """Index of the message that started the current request, with its intent and confidence.

    The first message the customer typed with a request intent since the last boundary (even if
    a button later chose another type: 「削除したい」 started a request that became ④); else the
    first request button; else the first typed message.
    """
    intents = request_intents()
    first = 0
    for i, event in enumerate(events):
        if _is_boundary(event):
            first = i + 1
    button: _Start | None = None
    typed: _Start | None = None
    for i in range(first, len(events)):
        event = events[i]
        if not isinstance(event, ev.UserTurn):
            continue
        name, conf = event.reading.intent, event.reading.confidence
        if name in intents and event.typed:
            return i, name, conf
        if name in intents and button is None:
            button = (i, name, conf)
        if event.typed and typed is None:
            typed = (i, name, conf)
    chosen = button or typed
    return chosen if chosen else (None, None, None)


def customer_words(events: Sequence[ev.Event], start: int | None) -> list[str]:
    """The customer's own messages from the request on, until the form starts, masked."""
    if start is None:
        return []
    words: list[str] = []
    for event in events[start:]:
        if isinstance(event, ev.LoopChange) and event.name:
            break
        if _is_boundary(event):
            break
        if isinstance(event, ev.UserTurn) and event.typed:
            words.append(mask_words(event.text))
            if len(words) >= MAX_CUSTOMER_MESSAGES:
                break
    return words


def cited_sections(
    events: Iterable[ev.Event], slots: Mapping[str, Any], request_types: Sequence[str]
) -> list[str]:
    """Sections the customer was shown: notice answers over the conversation, then the types'."""
    out: list[str] = []

    def add(value: Any) -> None:
        values = value if isinstance(value, (list, tuple)) else [value]
        for v in values:
            if v is not None and str(v).strip() and str(v) not in out:
                out.append(str(v))

    for event in events:
        if isinstance(event, ev.SlotValue) and event.name == NOTICE_SECTION_SLOT:
            add(event.value)
    add(slots.get(NOTICE_SECTION_SLOT))
    for section in notice_sections_of(request_types):
        add(section)
    return out


def _types_from(slots: Mapping[str, Any]) -> list[str]:
    raw = slots.get("request_types") or slots.get("request_type") or []
    return [raw] if isinstance(raw, str) else [str(t) for t in raw]


def _details(type_id: str, values: Mapping[str, Any]) -> dict[str, Any]:
    if type_id == "correction":
        return {"item": values.get("correction_item"), "value": values.get("correction_value")}
    if type_id == "marketing_optout":
        return {"channels": values.get("marketing_channels") or []}
    if type_id == "third_party_stop":
        return {"recipients": values.get("third_party_recipients") or []}
    if type_id == "suspension":
        scope = values.get("suspension_scope") or {}
        return {
            "scope": scope.get("scope"),
            "scope_detail": scope.get("detail"),
            "cancel_membership": values.get("cancel_membership"),
        }
    if type_id == "complaint":
        return {"details": values.get("complaint_details")}
    return {}


def build_prefill(
    conversation_id: str,
    events: Sequence[Mapping[str, Any]],
    slots: Mapping[str, Any],
    request_types: Sequence[str] | None = None,
) -> TicketPrefill:
    """The ticket prefill for the current request of a conversation.

    `events`: Rasa tracker events as dicts (user / bot / slot / active_loop …), oldest first;
    `request_types`: the decided types (default: the `request_types` / `request_type` slot).
    """
    types = list(dict.fromkeys(request_types if request_types is not None else _types_from(slots)))
    unknown = [t for t in types if t not in REQUEST_TYPE_IDS]
    if unknown or not types:
        raise ValueError(f"request types must be some of {REQUEST_TYPE_IDS}, got {types!r}")
    read = ev.from_tracker(events)
    values = {name: slot_value(name, slots.get(name)) for name in VALIDATORS}
    start, intent, confidence = _request_start(read)
    next_steps = list(dict.fromkeys(get_type(t).next_steps for t in types))
    return TicketPrefill(
        conversation_id=str(conversation_id),
        request_types=types,
        priority=priority_of(types),
        customer_name=values["customer_name"],
        phone=values["phone"],
        email=values["email"],
        postal_address=values["postal_address"],
        member_number=values["member_number"],
        preferred_time=values["preferred_time"],
        is_agent=values["is_agent"],
        details={t: _details(t, values) for t in types},
        customer_words=customer_words(read, start),
        nlu_intent=intent,
        nlu_confidence=confidence,
        notice_sections=cited_sections(read, slots, types),
        next_steps="\n\n".join(next_steps),
    )


# --- the confirmation summary ---------------------------------------------------------------


def _shorten(text: str) -> str:
    return text if len(text) <= SUMMARY_MAX_CHARS else text[: SUMMARY_MAX_CHARS - 1] + "…"


def summary_lines(prefill: TicketPrefill) -> list[str]:
    """The lines of the summary the customer confirms, in polite Japanese labels (types.yml).

    The customer's own data is shown as given (no partial masking), but never a card number or
    an individual number.
    """
    catalogue = load_catalogue()
    labels = catalogue.summary_labels
    words = catalogue.summary_values
    sep = words.get("separator", "、")
    lines: list[str] = []

    def line(key: str, value: Any) -> None:
        if value is None or value == "" or value == []:
            return
        text = sep.join(str(v) for v in value) if isinstance(value, list) else str(value)
        lines.append(f"{labels.get(key, key)}：{_shorten(text)}")

    def yes_no(value: bool | None, yes: str = "answer_yes", no: str = "answer_no") -> str | None:
        return None if value is None else words.get(yes if value else no)

    line("request_types", [get_type(t).label for t in prefill.request_types])
    for type_id in prefill.request_types:
        detail = prefill.details.get(type_id) or {}
        if type_id == "correction":
            line("correction_item", detail.get("item"))
            line("correction_value", detail.get("value"))
        elif type_id == "marketing_optout":
            channels = detail.get("channels") or []
            line("marketing_channels", [catalogue.channel_labels.get(c, c) for c in channels])
        elif type_id == "third_party_stop":
            line("third_party_recipients", detail.get("recipients") or [])
        elif type_id == "suspension":
            if detail.get("scope") == "all":
                line("suspension_scope", words.get("scope_all"))
            elif detail.get("scope"):
                scope = words.get("scope_specific", "{detail}")
                line("suspension_scope", scope.format(detail=detail.get("scope_detail") or ""))
            line(
                "cancel_membership",
                yes_no(detail.get("cancel_membership"), "cancel_yes", "cancel_no"),
            )
        elif type_id == "complaint":
            line("complaint_details", detail.get("details"))

    asked = slots_for(prefill.request_types, _filled(prefill))
    for slot in (
        "customer_name",
        "phone",
        "email",
        "postal_address",
        "member_number",
        "preferred_time",
        "is_agent",
    ):
        value = getattr(prefill, slot)
        if slot not in asked and value is None:
            continue
        if slot == "customer_name" and value:
            value = f"{value} {words.get('name_suffix', '')}".strip()
        elif slot == "member_number" and value is None and is_optional(slot, prefill.request_types):
            value = words.get("none")
        elif slot == "is_agent":
            value = yes_no(value)
        line(slot, value)
    return [_no_forbidden(text) for text in lines]


def _filled(prefill: TicketPrefill) -> dict[str, Any]:
    """The slots as they were, for ask_if (an e-mail is asked only for e-mail channels)."""
    marketing = prefill.details.get("marketing_optout") or {}
    return {"marketing_channels": marketing.get("channels") or []}


def _no_forbidden(text: str) -> str:
    return scrub_forbidden(text) if contains_forbidden(text) else text


__all__ = [
    "BOUNDARY_SLOTS",
    "TicketPrefill",
    "build_prefill",
    "cited_sections",
    "customer_words",
    "mask_words",
    "slot_value",
    "summary_lines",
]
