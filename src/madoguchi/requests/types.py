"""The request types the assistant takes, loaded from data/requests/types.yml.

What a type is called, which notice sections it rests on, what the ticket needs and what the
customer is told next are data: a revised notice changes the YAML, not this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from madoguchi.infra.settings import project_root
from madoguchi.tickets.workflow import REQUEST_TYPES as REQUEST_TYPE_IDS

# REQUEST_TYPE_IDS: the `request_type` slot values (DESIGN.md "Contracts"), in notice order. The
# ticket side owns the vocabulary (tickets never import requests); the requests name it here.

# Every form slot a request may need; fields.VALIDATORS has one validator per name.
SLOT_NAMES: tuple[str, ...] = (
    "customer_name",
    "phone",
    "postal_address",
    "email",
    "member_number",
    "preferred_time",
    "is_agent",
    "correction_item",
    "correction_value",
    "suspension_scope",
    "cancel_membership",
    "third_party_recipients",
    "marketing_channels",
    "complaint_details",
)

# How to reach the customer (SLOT_NAMES up to is_agent); every other slot says what is asked.
CONTACT_SLOTS: frozenset[str] = frozenset(SLOT_NAMES[: SLOT_NAMES.index("is_agent") + 1])

PRIORITIES: tuple[str, ...] = ("urgent", "high", "normal")  # most urgent first, as in tickets

TYPES_FILE = "types.yml"
CUES_FILE = "cues.yml"


class RequestDataError(ValueError):
    """types.yml or cues.yml says something the code cannot use."""


def data_dir() -> Path:
    """data/requests of the project (MADOGUCHI_HOME / cwd), else of this source checkout."""
    candidates = [
        project_root() / "data" / "requests",
        Path(__file__).resolve().parents[3] / "data" / "requests",
    ]
    for folder in candidates:
        if (folder / TYPES_FILE).is_file():
            return folder
    return candidates[-1]


@dataclass(frozen=True)
class AskIf:
    """Ask a slot only when another (list) slot holds one of some values."""

    slot: str
    contains_any: tuple[str, ...]

    def holds(self, slots: Mapping[str, Any]) -> bool:
        value = slots.get(self.slot)
        if value is None:
            return False
        if isinstance(value, str):
            value = [value]
        return _iterable(value) and any(v in self.contains_any for v in value)


@dataclass(frozen=True)
class SlotSpec:
    name: str
    optional: bool = False
    ask_if: AskIf | None = None

    def wanted(self, slots: Mapping[str, Any]) -> bool:
        return self.ask_if is None or self.ask_if.holds(slots)


@dataclass(frozen=True)
class RequestType:
    id: str
    intent: str
    label: str
    plain: str
    notice_sections: tuple[str, ...]
    needs_form_by_post: bool
    priority: str
    slots: tuple[SlotSpec, ...]
    next_steps: str

    @property
    def slot_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.slots)

    def slots_to_ask(self, slots: Mapping[str, Any] | None = None) -> list[str]:
        """The slots this type asks, in order, given what is already known (for ask_if)."""
        known = slots or {}
        return [s.name for s in self.slots if s.wanted(known)]


@dataclass(frozen=True)
class Catalogue:
    """Everything types.yml says: the types and the texts of the confirmation summary."""

    types: Mapping[str, RequestType]
    summary_labels: Mapping[str, str]
    summary_values: Mapping[str, str]
    channel_labels: Mapping[str, str]

    def by_intent(self, intent: str | None) -> RequestType | None:
        for rtype in self.types.values():
            if rtype.intent == intent:
                return rtype
        return None


def _iterable(value: Any) -> bool:
    return isinstance(value, (list, tuple, set, frozenset))


def _slot_spec(raw: Any, type_id: str) -> SlotSpec:
    if isinstance(raw, str):
        spec = SlotSpec(raw)
    elif isinstance(raw, Mapping) and isinstance(raw.get("name"), str):
        ask_if = None
        if raw.get("ask_if") is not None:
            cond = raw["ask_if"]
            if not isinstance(cond, Mapping) or not isinstance(cond.get("slot"), str):
                raise RequestDataError(f"{type_id}: ask_if needs slot and contains_any: {raw!r}")
            ask_if = AskIf(cond["slot"], tuple(str(v) for v in cond.get("contains_any") or ()))
        spec = SlotSpec(raw["name"], bool(raw.get("optional", False)), ask_if)
    else:
        raise RequestDataError(f"{type_id}: a slot is a name or a mapping with name: {raw!r}")
    if spec.name not in SLOT_NAMES:
        raise RequestDataError(f"{type_id}: unknown slot {spec.name!r}")
    if spec.ask_if and spec.ask_if.slot not in SLOT_NAMES:
        raise RequestDataError(f"{type_id}: ask_if names unknown slot {spec.ask_if.slot!r}")
    return spec


def _request_type(type_id: str, raw: Mapping[str, Any]) -> RequestType:
    def text(key: str) -> str:
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            raise RequestDataError(f"{type_id}: {key} must be a non-empty text")
        return value.strip()

    priority = str(raw.get("priority", "normal"))
    if priority not in PRIORITIES:
        raise RequestDataError(f"{type_id}: unknown priority {priority!r}")
    slots = tuple(_slot_spec(s, type_id) for s in raw.get("slots") or ())
    if not slots:
        raise RequestDataError(f"{type_id}: no slots")
    if len({s.name for s in slots}) != len(slots):
        raise RequestDataError(f"{type_id}: a slot is listed twice")
    sections = tuple(str(s) for s in raw.get("notice_sections") or ())
    if not sections:
        raise RequestDataError(f"{type_id}: no notice_sections")
    return RequestType(
        id=type_id,
        intent=text("intent"),
        label=text("label"),
        plain=text("plain"),
        notice_sections=sections,
        needs_form_by_post=bool(raw.get("needs_form_by_post", False)),
        priority=priority,
        slots=slots,
        next_steps=text("next_steps"),
    )


def parse_catalogue(raw: Mapping[str, Any]) -> Catalogue:
    """Check and convert the YAML document; raise RequestDataError on anything unusable."""
    raw_types = raw.get("types")
    if not isinstance(raw_types, Mapping):
        raise RequestDataError("types.yml: no `types` mapping")
    unknown = set(raw_types) - set(REQUEST_TYPE_IDS)
    missing = set(REQUEST_TYPE_IDS) - set(raw_types)
    if unknown or missing:
        raise RequestDataError(f"types.yml: unknown {sorted(unknown)}, missing {sorted(missing)}")
    types = {tid: _request_type(tid, raw_types[tid]) for tid in REQUEST_TYPE_IDS}
    if len({t.intent for t in types.values()}) != len(types):
        raise RequestDataError("types.yml: two types share an intent")

    def strings(key: str) -> dict[str, str]:
        value = raw.get(key) or {}
        if not isinstance(value, Mapping):
            raise RequestDataError(f"types.yml: {key} must be a mapping")
        return {str(k): str(v) for k, v in value.items()}

    return Catalogue(
        types=types,
        summary_labels=strings("summary_labels"),
        summary_values=strings("summary_values"),
        channel_labels=strings("channel_labels"),
    )


def read_yaml(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        doc = yaml.safe_load(handle)
    if not isinstance(doc, dict):
        raise RequestDataError(f"{path}: not a YAML mapping")
    return doc


@lru_cache(maxsize=8)
def load_catalogue(path: Path | None = None) -> Catalogue:
    """The catalogue from types.yml (cached: the file changes with a redeploy, not at run time)."""
    return parse_catalogue(read_yaml(path or data_dir() / TYPES_FILE))


def load_types(path: Path | None = None) -> Mapping[str, RequestType]:
    return load_catalogue(path).types


def get_type(type_id: str) -> RequestType:
    try:
        return load_types()[type_id]
    except KeyError:
        raise KeyError(f"unknown request type {type_id!r}") from None


def type_for_intent(intent: str | None) -> str | None:
    """The request type an NLU intent names, or None for every other intent."""
    rtype = load_catalogue().by_intent(intent)
    return rtype.id if rtype else None


def request_intents() -> dict[str, str]:
    """intent name → request type id."""
    return {t.intent: t.id for t in load_types().values()}


def priority_of(type_ids: Iterable[str]) -> str:
    """The most urgent priority among the types (a complaint makes the ticket high)."""
    ranks = [PRIORITIES.index(get_type(t).priority) for t in type_ids]
    return PRIORITIES[min(ranks)] if ranks else "normal"


def notice_sections_of(type_ids: Iterable[str]) -> list[str]:
    out: list[str] = []
    for tid in type_ids:
        for section in get_type(tid).notice_sections:
            if section not in out:
                out.append(section)
    return out


def slots_for(type_ids: Sequence[str], slots: Mapping[str, Any] | None = None) -> list[str]:
    """The slots to ask for one or several requests taken together.

    What is asked (item, channels, scope …) comes first, type by type, then the contact slots
    once each, so a double request does not ask for the name twice; ask_if conditions apply.
    """
    known = slots or {}
    details: list[str] = []
    contact: list[str] = []
    for tid in type_ids:
        for name in get_type(tid).slots_to_ask(known):
            bucket = contact if name in CONTACT_SLOTS else details
            if name not in bucket:
                bucket.append(name)
    return details + contact


def is_optional(slot: str, type_ids: Sequence[str]) -> bool:
    """A slot the customer may leave out (「なし」) for every one of these types."""
    specs = [s for t in type_ids for s in get_type(t).slots if s.name == slot]
    return bool(specs) and all(s.optional for s in specs)
