"""The law's steps after intake, read from data/requests/lifecycle.yml: identity methods, agent
kinds and their documents, disclosure kinds, delivery methods and scopes, fees, decision outcomes,
refusal grounds per request type, letter templates, per-type internal targets and the legal
horizon (Art. 39).

The rules are data so that a company's choices (fees, targets, the wording of letters) change
a YAML file, not code. `TicketService` checks every step against them; the desk and the chat
read the same labels from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from madoguchi.infra.data_files import data_folder

from .service_target import JST
from .workflow import REQUEST_TYPES

LIFECYCLE_FILE = "lifecycle.yml"
TYPES_FILE = "types.yml"


class LifecycleDataError(ValueError):
    """lifecycle.yml says something the code cannot use."""


@dataclass(frozen=True)
class Option:
    """One choice of a list (identity method, delivery method, …): its id and label."""

    id: str
    label: str


@dataclass(frozen=True)
class AgentKind(Option):
    basis: str  # statutory | mandate
    documents: tuple[str, ...]


@dataclass(frozen=True)
class DeliveryMethod(Option):
    electronic: bool


@dataclass(frozen=True)
class Outcome(Option):
    needs_ground: bool
    needs_approval: bool


@dataclass(frozen=True)
class Ground(Option):
    request_type: str
    customer: str  # the sentence the letter uses


@dataclass(frozen=True)
class Rules:
    decision_types: tuple[str, ...]
    identity_methods: Mapping[str, Option]
    agent_kinds: Mapping[str, AgentKind]
    disclosure_kinds: Mapping[str, Option]
    delivery_methods: Mapping[str, DeliveryMethod]
    disclosure_scopes: Mapping[str, Option]
    fees: Mapping[str, int | None]  # request type → amount in yen, None = told by the operator
    outcomes: Mapping[str, Outcome]
    grounds: Mapping[str, Mapping[str, Ground]]  # request type → ground id → ground
    letters: Mapping[str, str]
    target_days: Mapping[str, int]
    horizon_days: int
    horizon_types: tuple[str, ...]
    # Request type → its Japanese label, from types.yml beside this file (what the chat says).
    type_labels: Mapping[str, str] = field(default_factory=dict)

    def type_label(self, type_id: str) -> str:
        return self.type_labels.get(type_id, type_id)

    # --- what a ticket of these request types may have ----------------------------------

    def decides(self, request_types: list[str] | tuple[str, ...]) -> bool:
        """Whether a ticket of these types is closed by a decision (①–⑤)."""
        return any(t in self.decision_types for t in request_types or ())

    def fee_allowed(self, request_types: list[str] | tuple[str, ...]) -> bool:
        """Art. 38: only ① and ② may cost a fee."""
        return any(t in self.fees for t in request_types or ())

    def fee_default(self, request_types: list[str] | tuple[str, ...]) -> int | None:
        amounts = [self.fees[t] for t in request_types or () if self.fees.get(t) is not None]
        return sum(amounts) if amounts else None

    def grounds_for(self, request_types: list[str] | tuple[str, ...]) -> dict[str, Ground]:
        """The grounds allowed for a ticket of these types, by id (in data order)."""
        out: dict[str, Ground] = {}
        for type_id in request_types or ():
            for ground in self.grounds.get(type_id, {}).values():
                out.setdefault(ground_code(ground.request_type, ground.id), ground)
        return out

    def has_horizon(self, request_types: list[str] | tuple[str, ...]) -> bool:
        return any(t in self.horizon_types for t in request_types or ())

    def horizon(self, received_at: datetime) -> date:
        """The last day of the two weeks after the request reached us (Art. 39; the day it
        reached us is not counted, Civil Code Art. 140): the person may sue the day after."""
        return received_at.astimezone(JST).date() + timedelta(days=self.horizon_days)

    def letter(self, outcome: str, values: Mapping[str, str]) -> str:
        """The customer's letter for `outcome`, its placeholders filled (missing ones empty)."""
        return self.letters[outcome].format_map(_Blank(values)).strip()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, for the desk's API and pages."""

        def options(items: Mapping[str, Any]) -> list[dict[str, Any]]:
            return [{k: (list(v) if isinstance(v, tuple) else v)
                     for k, v in item.__dict__.items()} for item in items.values()]

        return {
            "decision_types": list(self.decision_types),
            "identity_methods": options(self.identity_methods),
            "agent_kinds": options(self.agent_kinds),
            "disclosure_kinds": options(self.disclosure_kinds),
            "delivery_methods": options(self.delivery_methods),
            "disclosure_scopes": options(self.disclosure_scopes),
            "fees": [{"request_type": t, "amount_yen": a} for t, a in self.fees.items()],
            "outcomes": options(self.outcomes),
            "grounds": [{"code": ground_code(g.request_type, g.id), **g.__dict__}
                        for by_type in self.grounds.values() for g in by_type.values()],
            "internal_target_business_days": dict(self.target_days),
            "legal_horizon": {"days": self.horizon_days,
                              "applies_to": list(self.horizon_types)},
        }


def ground_code(request_type: str, ground_id: str) -> str:
    """A ground's stored code: `disclosure.not_held` (ground ids repeat across types)."""
    return f"{request_type}.{ground_id}"


def horizon_end(day: date) -> datetime:
    """The end of the horizon's last day, as an aware datetime (JST midnight after it)."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=JST)


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


# --- loading ---------------------------------------------------------------------------------


def data_file() -> Path:
    """data/requests/lifecycle.yml of the project, else of this source checkout."""
    path = data_folder("requests", LIFECYCLE_FILE) / LIFECYCLE_FILE
    if not path.is_file():
        raise LifecycleDataError(f"{LIFECYCLE_FILE} not found under data/requests")
    return path


@lru_cache(maxsize=4)
def load_rules(path: Path | None = None) -> Rules:
    """The rules (cached; `load_rules.cache_clear()` after changing the file)."""
    source = path or data_file()
    raw = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    rules = parse_rules(raw)
    types_file = source.with_name(TYPES_FILE)
    if types_file.is_file():
        types = (yaml.safe_load(types_file.read_text(encoding="utf-8")) or {}).get("types") or {}
        labels = {t: str(v.get("label", t)) for t, v in types.items() if isinstance(v, Mapping)}
        rules = replace(rules, type_labels=labels)
    return rules


def parse_rules(raw: Mapping[str, Any]) -> Rules:
    """Rules from the YAML's mapping; `LifecycleDataError` names what is wrong."""

    def section(name: str) -> Mapping[str, Any]:
        value = raw.get(name)
        if not isinstance(value, Mapping) or not value:
            raise LifecycleDataError(f"{LIFECYCLE_FILE}: {name} must be a non-empty mapping")
        return value

    def types(values: Any, where: str) -> tuple[str, ...]:
        unknown = [t for t in values or () if t not in REQUEST_TYPES]
        if unknown or not isinstance(values, list):
            raise LifecycleDataError(f"{LIFECYCLE_FILE}: {where}: unknown request types {unknown}")
        return tuple(values)

    def label(item: Any, where: str) -> str:
        if not isinstance(item, Mapping) or not isinstance(item.get("label"), str):
            raise LifecycleDataError(f"{LIFECYCLE_FILE}: {where} needs a label")
        return item["label"]

    def options(name: str) -> dict[str, Option]:
        return {k: Option(k, label(v, f"{name}.{k}")) for k, v in section(name).items()}

    agents = {
        k: AgentKind(k, label(v, f"agent_kinds.{k}"), str(v.get("basis", "")),
                     tuple(str(d) for d in v.get("documents") or ()))
        for k, v in section("agent_kinds").items()
    }
    for kind in agents.values():
        if kind.basis not in ("statutory", "mandate") or not kind.documents:
            raise LifecycleDataError(f"agent_kinds.{kind.id}: basis and documents are needed")
    delivery = {k: DeliveryMethod(k, label(v, f"delivery_methods.{k}"), bool(v.get("electronic")))
                for k, v in section("delivery_methods").items()}
    outcomes = {k: Outcome(k, label(v, f"outcomes.{k}"), bool(v.get("needs_ground")),
                           bool(v.get("needs_approval")))
                for k, v in section("outcomes").items()}
    if set(outcomes) != {"granted", "partly_granted", "refused"}:
        raise LifecycleDataError("outcomes must be granted, partly_granted and refused")
    if outcomes["granted"].needs_ground or outcomes["granted"].needs_approval:
        raise LifecycleDataError("a grant needs neither a ground nor an approval")

    fees: dict[str, int | None] = {}
    for type_id, fee in section("fees").items():
        if type_id not in ("purpose_notice", "disclosure"):
            raise LifecycleDataError(f"fees.{type_id}: Art. 38 allows fees only for ① and ②")
        amount = (fee or {}).get("amount_yen")
        if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int)
                                   or amount < 0):
            raise LifecycleDataError(f"fees.{type_id}.amount_yen: a whole number of yen or null")
        fees[type_id] = amount

    decision_types = types(raw.get("decision_types"), "decision_types")
    grounds: dict[str, dict[str, Ground]] = {}
    for type_id, by_id in section("grounds").items():
        types([type_id], "grounds")
        grounds[type_id] = {
            g: Ground(g, label(v, f"grounds.{type_id}.{g}"), type_id, str(v.get("customer", "")))
            for g, v in (by_id or {}).items()
        }
    missing = [t for t in decision_types if not grounds.get(t)]
    if missing:
        raise LifecycleDataError(f"grounds: none listed for {missing}")

    letters = {k: str(v) for k, v in section("letters").items()}
    if not set(outcomes) <= set(letters):
        raise LifecycleDataError("letters: one per outcome is needed")

    target_days: dict[str, int] = {}
    for type_id, days in (raw.get("internal_target_business_days") or {}).items():
        types([type_id], "internal_target_business_days")
        if days is None:
            continue
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise LifecycleDataError(f"internal_target_business_days.{type_id}: whole days")
        target_days[type_id] = days

    horizon = section("legal_horizon")
    if not isinstance(horizon.get("days"), int) or horizon["days"] <= 0:
        raise LifecycleDataError("legal_horizon.days: a positive number of days")
    return Rules(
        decision_types=decision_types,
        identity_methods=options("identity_methods"),
        agent_kinds=agents,
        disclosure_kinds=options("disclosure_kinds"),
        delivery_methods=delivery,
        disclosure_scopes=options("disclosure_scopes"),
        fees=fees,
        outcomes=outcomes,
        grounds=grounds,
        letters=letters,
        target_days=target_days,
        horizon_days=horizon["days"],
        horizon_types=types(horizon.get("applies_to"), "legal_horizon.applies_to"),
    )
