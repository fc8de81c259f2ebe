"""Figures from the read model: containment, handoffs by request type, fallback rate, notice
sections asked, median turns to ticket; for the whole range and per JST day.

Containment = conversations in which the customer said something and no person was needed
(never paused for an operator). Fallback rate = the share of customer messages NLU did not
understand; the share of conversations with at least one fallback is given too.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, raiseload, selectinload

from madoguchi.tickets import Ticket, load_rules, workflow
from madoguchi.tickets.service_target import jst_date

from . import filters as flt
from .models import REQUEST_TYPE, SECTION, Conversation, Facet

NO_TYPE = "none"


def _ratio(part: int | float, whole: int | float) -> float | None:
    return round(part / whole, 4) if whole else None


def _median(values: list[int]) -> float | None:
    return float(statistics.median(values)) if values else None


def metrics(session: Session, f: flt.Filters, top_sections: int = 10) -> dict[str, Any]:
    c = Conversation
    spoken = [*flt.where(f), c.turns > 0]
    per_day: dict[Any, dict[str, Any]] = {}
    for day, total, handed, fell, turns, fb_turns, tickets in session.execute(
        select(c.day, func.count(), func.sum(_int(c.handed_off)), func.sum(_int(c.fell_back)),
               func.sum(c.turns), func.sum(c.fallback_turns),
               func.count(c.ticket_reference))
        .where(*spoken).group_by(c.day).order_by(c.day)
    ):
        per_day[day] = {"day": day.isoformat(), "conversations": total,
                        "handed_off": int(handed or 0), "fell_back": int(fell or 0),
                        "messages": int(turns or 0), "fallback_messages": int(fb_turns or 0),
                        "tickets": tickets}

    turns_to_ticket: dict[Any, list[int]] = defaultdict(list)
    for day, n in session.execute(
        select(c.day, c.turns_to_ticket).where(*spoken, c.turns_to_ticket.is_not(None))
    ):
        turns_to_ticket[day].append(n)

    handoffs: dict[str, int] = defaultdict(int)
    typed = select(Facet.conversation_id).where(Facet.kind == REQUEST_TYPE)
    for value, n in session.execute(
        select(Facet.value, func.count()).join(c, c.id == Facet.conversation_id)
        .where(*spoken, c.handed_off.is_(True), Facet.kind == REQUEST_TYPE)
        .group_by(Facet.value)
    ):
        handoffs[value] = n
    untyped = session.execute(
        select(func.count()).select_from(c)
        .where(*spoken, c.handed_off.is_(True), c.id.not_in(typed))
    ).scalar_one()
    if untyped:
        handoffs[NO_TYPE] = untyped

    sections = [
        {"section": value, "conversations": n}
        for value, n in session.execute(
            select(Facet.value, func.count().label("n")).join(c, c.id == Facet.conversation_id)
            .where(*spoken, Facet.kind == SECTION)
            .group_by(Facet.value).order_by(func.count().desc(), Facet.value).limit(top_sections)
        )
    ]

    days = []
    for day, row in per_day.items():
        days.append({
            **row,
            "containment": _ratio(row["conversations"] - row["handed_off"], row["conversations"]),
            "fallback_rate": _ratio(row["fallback_messages"], row["messages"]),
            "median_turns_to_ticket": _median(turns_to_ticket.get(day, [])),
        })
    total = sum(d["conversations"] for d in days)
    handed = sum(d["handed_off"] for d in days)
    messages = sum(d["messages"] for d in days)
    return {
        "filters": f.as_dict(),
        "conversations": total,
        "handed_off": handed,
        "containment": _ratio(total - handed, total),
        "fallback_rate": _ratio(sum(d["fallback_messages"] for d in days), messages),
        "conversations_with_fallback": _ratio(sum(d["fell_back"] for d in days), total),
        "handoffs_by_request_type": dict(sorted(handoffs.items(), key=lambda kv: -kv[1])),
        "top_sections": sections,
        "tickets": sum(d["tickets"] for d in days),
        "median_turns_to_ticket": _median([n for v in turns_to_ticket.values() for n in v]),
        "days": days,
    }


def _int(column: Any) -> Any:
    """A boolean as 0/1, to sum (SQLite and PostgreSQL alike)."""
    return case((column.is_(True), 1), else_=0)


def decided_within_target(
    session: Session, since: datetime | None, until: datetime | None, now: datetime
) -> dict[str, Any]:
    """Of the requests ①–⑤ that reached us in each JST week (Monday first; `until` exclusive),
    per request type: how many were decided within the internal target (`due_at`), late, are
    still open past it, or open and not yet due; `share` = within / (within + late + open past
    it). Withdrawn tickets and ones closed without a decision (from before decisions were
    recorded) are counted apart and left out of the share."""
    rules = load_rules()
    stmt = (
        select(Ticket)
        .options(raiseload(Ticket.audit), raiseload(Ticket.notes), raiseload(Ticket.identity),
                 selectinload(Ticket.decisions))
        .order_by(Ticket.received_at)
    )
    if since is not None:
        stmt = stmt.where(Ticket.received_at >= since)
    if until is not None:
        stmt = stmt.where(Ticket.received_at < until)
    keys = ("received", "within", "late", "open_overdue", "open", "not_decided")
    rows: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(keys, 0))
    for ticket in session.execute(stmt).scalars():
        types = [t for t in ticket.request_types or [] if t in rules.decision_types]
        if not types:
            continue
        day = jst_date(ticket.received_at)
        week = (day - timedelta(days=day.weekday())).isoformat()
        decision = ticket.decision
        at = decision.effective_at if decision is not None else None
        if at is not None:
            kind = "within" if at <= ticket.due_at else "late"
        elif ticket.status in workflow.CLOSED_STATUSES:
            kind = "not_decided"
        else:
            kind = "open_overdue" if now > ticket.due_at else "open"
        for type_id in types:
            row = rows[(week, type_id)]
            row["received"] += 1
            row[kind] += 1

    def shared(row: dict[str, int]) -> dict[str, Any]:
        return {**row, "share": _ratio(row["within"],
                                       row["within"] + row["late"] + row["open_overdue"])}

    totals: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(keys, 0))
    for (_, type_id), row in rows.items():
        for key in keys:
            totals[type_id][key] += row[key]
    return {
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "weeks": [{"week": week, "request_type": type_id, **shared(row)}
                  for (week, type_id), row in sorted(rows.items())],
        "by_request_type": [{"request_type": t, **shared(totals[t])}
                            for t in rules.decision_types if t in totals],
    }
