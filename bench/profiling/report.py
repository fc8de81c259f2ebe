"""From the servers' span lines to cost centres per kind of turn (pure; used by bench/turn.py).

The Rasa server writes one record per webhook turn, the action server one per action call; a
call's id joins them. A turn's cost centres are the exclusive times of its spans summed by
group, plus the action server's groups for its calls; the HTTP round trip of a call is shown net
of the action server's own time, so the groups add up to the Rasa server's request time.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.profiling.hooks import CALL_HTTP

NOTICE_ACTIONS = frozenset({"action_answer_notice"})
FORM_ACTIONS = frozenset({"request_form", "validate_request_form"})


def read_records(directory: Path) -> tuple[list[dict], dict[str, dict]]:
    """The Rasa server's turns (in the order written) and the action server's calls by id."""
    turns: list[dict] = []
    calls: dict[str, dict] = {}
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            record = json.loads(line)
            if record["role"] == "rasa":
                turns.append(record)
            elif record["meta"].get("call"):
                calls[record["meta"]["call"]] = record
    return turns, calls


def kind(actions: Iterable[str]) -> str:
    """What a turn was, by the actions Rasa ran in it: a notice answer, a form turn, other."""
    ran = set(actions)
    if ran & NOTICE_ACTIONS:
        return "notice"
    if ran & FORM_ACTIONS:
        return "form"
    return "other"


@dataclass
class TurnCost:
    """One profiled turn: where it is in its conversation and its milliseconds by group."""

    sender: str
    position: int
    kind: str
    groups: dict[str, float]
    total_ms: float
    calls: list[dict[str, Any]] = field(default_factory=list)
    events: int = 0
    client_ms: float | None = None


def turn_costs(turns: list[dict], calls: dict[str, dict]) -> list[TurnCost]:
    """Each turn's cost by group; positions count the sender's turns in the order written."""
    seen: dict[str, int] = defaultdict(int)
    costs: list[TurnCost] = []
    for record in turns:
        sender = record["meta"].get("sender")
        if sender is None:  # refused by the channel guard before Rasa saw it
            continue
        seen[sender] += 1
        groups: dict[str, float] = defaultdict(float)
        for span in record["spans"].values():
            groups[span["group"]] += span["ms"]
        joined = []
        for call in record["calls"]:
            server = calls.get(call["id"])
            call = dict(call)
            if server is not None:
                server_ms = server["spans"]["request"]["incl_ms"]
                call["server_ms"] = server_ms
                call["server"] = {}
                for span in server["spans"].values():
                    groups[span["group"]] += span["ms"]
                    call["server"][span["group"]] = call["server"].get(span["group"], 0.0) \
                        + span["ms"]
                groups[CALL_HTTP] -= server_ms
            joined.append(call)
        costs.append(TurnCost(
            sender=sender, position=seen[sender], kind=kind(record["meta"].get("actions", [])),
            groups=dict(groups), total_ms=record["spans"]["request"]["incl_ms"],
            calls=joined, events=int(record["meta"].get("events", 0)),
        ))
    return costs


def mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


@dataclass
class Cell:
    """The mean cost of the turns of one kind at one stage of the conversation."""

    label: str
    turns: int
    position: float
    groups: dict[str, float]
    total_ms: float
    client_ms: float
    calls_per_turn: float
    request_bytes: float
    domain_bytes: float
    events: float


def cell(label: str, costs: list[TurnCost]) -> Cell:
    groups: dict[str, float] = defaultdict(float)
    for cost in costs:
        for name, ms in cost.groups.items():
            groups[name] += ms
    n = max(len(costs), 1)
    calls = [c for cost in costs for c in cost.calls]
    clients = [c.client_ms for c in costs if c.client_ms is not None]
    return Cell(
        label=label, turns=len(costs), position=mean([c.position for c in costs]),
        groups={name: ms / n for name, ms in groups.items()},
        total_ms=mean([c.total_ms for c in costs]), client_ms=mean(clients),
        calls_per_turn=len(calls) / n,
        request_bytes=mean([float(c.get("bytes", 0)) for c in calls]),
        domain_bytes=mean([float(c.get("domain_bytes", 0)) for c in calls]),
        events=mean([float(c.events) for c in costs]),
    )


def cells(costs: list[TurnCost], early: int, late: int) -> list[Cell]:
    """Notice and form turns early (position ≤ early) and late (position ≥ late) in a chat."""
    out = []
    for stage, keep in (("early", lambda p: p <= early), ("late", lambda p: p >= late)):
        for what in ("notice", "form"):
            chosen = [c for c in costs if c.kind == what and keep(c.position)]
            out.append(cell(f"{what} {stage}", chosen))
    return out


def top_groups(summary: Cell, count: int) -> list[tuple[str, float]]:
    """The largest cost centres of a cell, largest first."""
    return sorted(summary.groups.items(), key=lambda item: -item[1])[:count]


def per_action(costs: list[TurnCost]) -> list[dict[str, Any]]:
    """Each action-server call, averaged by action and stage: size, and where its time goes."""
    rows: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for cost in costs:
        stage = "early" if cost.position <= 12 else "late" if cost.position >= 40 else "middle"
        for call in cost.calls:
            rows[(call["action"], stage)].append(call)
    table = []
    for (action, stage), calls in sorted(rows.items()):
        server = [c.get("server", {}) for c in calls]

        def server_mean(prefix: str, server: list[dict] = server) -> float:
            return mean([sum(ms for g, ms in s.items() if g.startswith(prefix)) for s in server])

        table.append({
            "action": action, "stage": stage, "calls": len(calls),
            "events": mean([float(c.get("events", 0)) for c in calls]),
            "bytes": mean([float(c.get("bytes", 0)) for c in calls]),
            "domain_bytes": mean([float(c.get("domain_bytes", 0)) for c in calls]),
            "build_ms": mean([c.get("build_ms", 0.0) for c in calls]),
            "json_ms": mean([c.get("json_ms", 0.0) for c in calls]),
            "round_trip_ms": mean([c.get("round_trip_ms", 0.0) for c in calls]),
            "server_ms": mean([c.get("server_ms", 0.0) for c in calls]),
            "server_parse_ms": server_mean("action server: parse"),
            "server_tracker_ms": server_mean("action server: Tracker"),
            "own_work_ms": server_mean("action server: the action"),
            "call_ms": mean([c.get("ms", 0.0) for c in calls]),
        })
    return table
