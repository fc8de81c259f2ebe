"""The supervisor's morning figures: CSAT (by request type, operator and week), containment,
and the service levels of handed-off conversations (first response, claim, decision, share
decided within the ticket's target), for today, this week and as weekly trends; plus the
worst-rated conversations to read first.

Weeks start on Monday and days are JST days. Times are measured on the ticket's audit log
(the one record of who did what, when): from the handoff (the ticket's creation) to the first
"claimed" entry, to the first message the operator sent, and to the first change of status to
a closed status (resolved, rejected, withdrawn). "Within target" counts a ticket decided by its
due date; one still open after its due date counts as missed, one open and not yet due not at
all. The request lifecycle's own "decided within target" figure lives elsewhere (its section).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from madoguchi.tickets import workflow
from madoguchi.tickets.models import AuditEntry, Ticket

from .csat import CsatSurvey
from .filters import JST
from .models import Conversation

TREND_WEEKS = 8
WORST_LIMIT = 10
# What the figures call a ticket without request type, and a rating without an operator.
NO_TYPE = "none"
BOT_ONLY = "bot"


def jst_day(moment: datetime) -> date:
    return moment.astimezone(JST).date()


def week_of(day: date) -> date:
    """The Monday of the day's week."""
    return day - timedelta(days=day.weekday())


def _minutes(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds() / 60)


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(float(statistics.median(present)), 1) if present else None


def _mean(values: Iterable[int]) -> float | None:
    scores = list(values)
    return round(sum(scores) / len(scores), 2) if scores else None


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass(frozen=True)
class TicketTimes:
    """One handed-off ticket's service-level moments."""

    reference: str
    created_at: datetime
    due_at: datetime
    claimed_at: datetime | None
    first_response_at: datetime | None
    decided_at: datetime | None

    def within_target(self, now: datetime) -> bool | None:
        """True decided by the due date, False decided late or still open past it, None open
        and not yet due."""
        if self.decided_at is not None:
            return self.decided_at <= self.due_at
        return False if now > self.due_at else None


def _closed_status(changes: dict[str, Any]) -> bool:
    status = changes.get("status") if isinstance(changes, dict) else None
    new = status.get("new") if isinstance(status, dict) else None
    return new in workflow.CLOSED_STATUSES


def ticket_times(session: Session, since: datetime, until: datetime) -> list[TicketTimes]:
    """The tickets created in [since, until) that came from a chat, with their moments."""
    tickets = list(session.execute(
        select(Ticket.id, Ticket.reference, Ticket.created_at, Ticket.due_at)
        .where(Ticket.created_at >= since, Ticket.created_at < until,
               Ticket.conversation_id.is_not(None))
    ))
    if not tickets:
        return []
    moments: dict[int, dict[str, datetime]] = defaultdict(dict)
    ids = [t.id for t in tickets]
    for chunk in range(0, len(ids), 500):
        for ticket_id, at, action, changes in session.execute(
            select(AuditEntry.ticket_id, AuditEntry.at, AuditEntry.action, AuditEntry.changes)
            .where(AuditEntry.ticket_id.in_(ids[chunk:chunk + 500]))
            .order_by(AuditEntry.id)
        ):
            seen = moments[ticket_id]
            if action == "claimed":
                seen.setdefault("claimed", at)
            elif action == "message_sent":
                seen.setdefault("response", at)
            if _closed_status(changes):
                seen.setdefault("decided", at)
    return [
        TicketTimes(t.reference, t.created_at, t.due_at, moments[t.id].get("claimed"),
                    moments[t.id].get("response"), moments[t.id].get("decided"))
        for t in tickets
    ]


def service_levels(times: list[TicketTimes], now: datetime) -> dict[str, Any]:
    verdicts = [t.within_target(now) for t in times]
    judged = [v for v in verdicts if v is not None]
    return {
        "handoffs": len(times),
        "claimed": sum(1 for t in times if t.claimed_at),
        "decided": sum(1 for t in times if t.decided_at),
        "minutes_to_claim": _median(_minutes(t.created_at, t.claimed_at) for t in times),
        "minutes_to_first_response": _median(
            _minutes(t.created_at, t.first_response_at) for t in times),
        "hours_to_decision": _median(
            None if (m := _minutes(t.created_at, t.decided_at)) is None else m / 60
            for t in times),
        "within_target": _ratio(sum(1 for v in judged if v), len(judged)),
        "missed_target": sum(1 for v in judged if not v),
    }


def containment(session: Session, since: datetime, until: datetime) -> dict[str, Any]:
    """Conversations (in which the customer said something) that ended without a person."""
    c = Conversation
    total, handed = session.execute(
        select(func.count(), func.count().filter(c.handed_off.is_(True)))
        .where(c.started_at >= since, c.started_at < until, c.turns > 0)
    ).one()
    return {"conversations": total, "without_person": total - (handed or 0),
            "containment": _ratio(total - (handed or 0), total)}


def _surveys(session: Session, since: datetime, until: datetime) -> list[CsatSurvey]:
    return list(session.execute(
        select(CsatSurvey).where(CsatSurvey.rated_at >= since, CsatSurvey.rated_at < until,
                                 CsatSurvey.score.is_not(None))
    ).scalars())


def csat_summary(surveys: list[CsatSurvey], asked: int | None = None) -> dict[str, Any]:
    scores = [s.score for s in surveys]
    out: dict[str, Any] = {
        "ratings": len(scores),
        "average": _mean(scores),
        "satisfied": _ratio(sum(1 for s in scores if s >= 4), len(scores)),  # 4 or 5
        "distribution": {str(n): scores.count(n) for n in range(1, 6)},
    }
    if asked is not None:
        out["asked"] = asked
        out["response_rate"] = _ratio(len(scores), asked)
    return out


def _grouped(surveys: list[CsatSurvey], key: Any) -> list[dict[str, Any]]:
    groups: dict[str, list[CsatSurvey]] = defaultdict(list)
    for survey in surveys:
        for name in key(survey):
            groups[name].append(survey)
    rows = [{"name": name, **csat_summary(items)} for name, items in groups.items()]
    return sorted(rows, key=lambda r: (-r["ratings"], r["name"]))


def _asked(session: Session, since: datetime, until: datetime) -> int:
    return session.execute(
        select(func.count()).select_from(CsatSurvey)
        .where(CsatSurvey.asked_at >= since, CsatSurvey.asked_at < until)
    ).scalar_one()


def _period(session: Session, since: datetime, until: datetime, now: datetime
            ) -> dict[str, Any]:
    return {
        "since": since.isoformat(), "until": until.isoformat(),
        **containment(session, since, until),
        "csat": csat_summary(_surveys(session, since, until), _asked(session, since, until)),
        "service": service_levels(ticket_times(session, since, until), now),
    }


def _start_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=JST)


def quality(session: Session, now: datetime, since: datetime | None = None,
            until: datetime | None = None, weeks: int = TREND_WEEKS) -> dict[str, Any]:
    """Today, this week, the weekly trend and the breakdowns over [since, until) (default:
    the last `weeks` weeks up to the end of today)."""
    today = jst_day(now)
    this_week = week_of(today)
    end = until or _start_of(today + timedelta(days=1))
    start = since or _start_of(this_week - timedelta(weeks=weeks - 1))

    trend = []
    monday = week_of(jst_day(start))
    while _start_of(monday) < end:
        w_since, w_until = _start_of(monday), _start_of(monday + timedelta(days=7))
        trend.append({"week": monday.isoformat(),
                      **_period(session, max(w_since, start), min(w_until, end), now)})
        monday += timedelta(days=7)

    surveys = _surveys(session, start, end)
    worst = sorted(surveys, key=lambda s: (s.score, -s.rated_at.timestamp()))[:WORST_LIMIT]
    return {
        "now": now.isoformat(),
        "range": {"since": start.isoformat(), "until": end.isoformat()},
        "today": {"day": today.isoformat(),
                  **_period(session, _start_of(today), _start_of(today + timedelta(days=1)),
                            now)},
        "this_week": {"week": this_week.isoformat(),
                      **_period(session, _start_of(this_week),
                                _start_of(this_week + timedelta(days=7)), now)},
        "weeks": trend,
        "csat": csat_summary(surveys, _asked(session, start, end)),
        "csat_by_request_type": _grouped(
            surveys, lambda s: list(s.request_types or []) or [NO_TYPE]),
        "csat_by_operator": _grouped(surveys, lambda s: [s.operator or BOT_ONLY]),
        "worst_rated": [s.to_dict() for s in worst if s.score <= 3],
    }


# --- export ----------------------------------------------------------------------------------

FIGURE_COLUMNS = ["period", "name", "conversations", "containment", "ratings", "csat_average",
                  "csat_satisfied", "handoffs", "minutes_to_claim", "minutes_to_first_response",
                  "hours_to_decision", "within_target"]


def figure_rows(q: dict[str, Any]) -> list[dict[str, Any]]:
    """The figures as flat rows (one per period, request type and operator) for CSV."""

    def period(name: str, label: str, p: dict[str, Any]) -> dict[str, Any]:
        service = p["service"]
        return {"period": name, "name": label, "conversations": p["conversations"],
                "containment": p["containment"], "ratings": p["csat"]["ratings"],
                "csat_average": p["csat"]["average"], "csat_satisfied": p["csat"]["satisfied"],
                "handoffs": service["handoffs"], "minutes_to_claim": service["minutes_to_claim"],
                "minutes_to_first_response": service["minutes_to_first_response"],
                "hours_to_decision": service["hours_to_decision"],
                "within_target": service["within_target"]}

    rows = [period("today", q["today"]["day"], q["today"]),
            period("this_week", q["this_week"]["week"], q["this_week"])]
    rows += [period("week", w["week"], w) for w in q["weeks"]]
    for kind in ("request_type", "operator"):
        for group in q[f"csat_by_{kind}"]:
            rows.append({"period": kind, "name": group["name"], "ratings": group["ratings"],
                         "csat_average": group["average"], "csat_satisfied": group["satisfied"]})
    return rows
