"""The request types the assistant takes and the form's slots, loaded from data/requests/types.yml.

What a type is called, which notice sections it rests on, what the ticket needs and what the
customer is told next are data: a revised notice changes the YAML, not this module. The form's
slots are declared there once (`form_slots`); `SLOT_NAMES` and `CONTACT_SLOTS` are read from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from madoguchi.infra.data_files import data_folder
from madoguchi.text.pii.kinds import LABELS as PII_KINDS
from madoguchi.tickets.workflow import REQUEST_TYPES as REQUEST_TYPE_IDS

# REQUEST_TYPE_IDS: the `request_type` slot values (DESIGN.md "Contracts"), in notice order. The
# ticket side owns the vocabulary (tickets never import requests); the requests name it here.

PRIORITIES: tuple[str, ...] = ("urgent", "high", "normal")  # most urgent first, as in tickets

TYPES_FILE = "types.yml"
CUES_FILE = "cues.yml"


class RequestDataError(ValueError):
    """types.yml or cues.yml says something the code cannot use."""


def data_dir() -> Path:
    """data/requests of the project (MADOGUCHI_HOME / cwd), else of this source checkout."""
    return data_folder("requests", TYPES_FILE)


@dataclass(frozen=True)
class FormSlot:
    """A slot the request form may ask, as types.yml declares it (see its `form_slots`)."""

    name: str
    contact: bool = False  # how to reach the customer: asked after the details, once
    carries_over: bool = False  # kept for the next request in the conversation
    volunteered: str | None = None  # a PII kind taken from any answer (PHONE, EMAIL)


_FORM_SLOT_KEYS = frozenset({"contact", "carries_over", "volunteered"})


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
    form_slots: Mapping[str, FormSlot]
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


def _form_slots(raw: Any) -> dict[str, FormSlot]:
    if not isinstance(raw, Mapping) or not raw:
        raise RequestDataError("types.yml: no `form_slots` mapping")
    slots: dict[str, FormSlot] = {}
    for name, spec in raw.items():
        spec = spec or {}
        if not isinstance(name, str) or not isinstance(spec, Mapping):
            raise RequestDataError(f"form_slots: {name!r} needs a mapping of properties")
        unknown = set(spec) - _FORM_SLOT_KEYS
        if unknown:
            raise RequestDataError(f"form_slots: {name}: unknown properties {sorted(unknown)}")
        volunteered = spec.get("volunteered")
        if volunteered is not None and volunteered not in PII_KINDS:
            raise RequestDataError(f"form_slots: {name}: no PII kind {volunteered!r}")
        slots[name] = FormSlot(
            name,
            contact=bool(spec.get("contact", False)),
            carries_over=bool(spec.get("carries_over", False)),
            volunteered=volunteered,
        )
    return slots


def _slot_spec(raw: Any, type_id: str, known: Mapping[str, FormSlot]) -> SlotSpec:
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
    if spec.name not in known:
        raise RequestDataError(f"{type_id}: unknown slot {spec.name!r}")
    if spec.ask_if and spec.ask_if.slot not in known:
        raise RequestDataError(f"{type_id}: ask_if names unknown slot {spec.ask_if.slot!r}")
    return spec


def _request_type(
    type_id: str, raw: Mapping[str, Any], known: Mapping[str, FormSlot]
) -> RequestType:
    def text(key: str) -> str:
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            raise RequestDataError(f"{type_id}: {key} must be a non-empty text")
        return value.strip()

    priority = str(raw.get("priority", "normal"))
    if priority not in PRIORITIES:
        raise RequestDataError(f"{type_id}: unknown priority {priority!r}")
    slots = tuple(_slot_spec(s, type_id, known) for s in raw.get("slots") or ())
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
    form_slots = _form_slots(raw.get("form_slots"))
    types = {tid: _request_type(tid, raw_types[tid], form_slots) for tid in REQUEST_TYPE_IDS}
    if len({t.intent for t in types.values()}) != len(types):
        raise RequestDataError("types.yml: two types share an intent")

    def strings(key: str) -> dict[str, str]:
        value = raw.get(key) or {}
        if not isinstance(value, Mapping):
            raise RequestDataError(f"types.yml: {key} must be a mapping")
        return {str(k): str(v) for k, v in value.items()}

    return Catalogue(
        types=types,
        form_slots=form_slots,
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
    form_slots = load_catalogue().form_slots
    details: list[str] = []
    contact: list[str] = []
    for tid in type_ids:
        for name in get_type(tid).slots_to_ask(known):
            bucket = contact if form_slots[name].contact else details
            if name not in bucket:
                bucket.append(name)
    return details + contact


def is_optional(slot: str, type_ids: Sequence[str]) -> bool:
    """A slot the customer may leave out (「なし」) for every one of these types."""
    specs = [s for t in type_ids for s in get_type(t).slots if s.name == slot]
    return bool(specs) and all(s.optional for s in specs)


def form_slots() -> Mapping[str, FormSlot]:
    """Every slot the request form may ask, in the order types.yml declares them."""
    return load_catalogue().form_slots


def __getattr__(name: str) -> Any:
    """SLOT_NAMES (every form slot) and CONTACT_SLOTS (how to reach the customer), read from
    types.yml when first asked for."""
    if name == "SLOT_NAMES":
        return tuple(form_slots())
    if name == "CONTACT_SLOTS":
        return frozenset(s.name for s in form_slots().values() if s.contact)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
