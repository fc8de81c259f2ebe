"""The conversation list's filters: parsed from query strings with clear errors, applied as SQL.

Every filter uses an index: `started_at` for the time range and the order, the facets' and tags'
(kind, value, conversation) indexes through EXISTS, the flag indexes. Free text searches the
masked customer words (what a supervisor sees is what they can find).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import and_, literal_column, select
from sqlalchemy.sql import Select

from madoguchi.tickets import InvalidField

from . import events as ev
from .models import INTENT, REQUEST_TYPE, SECTION, Conversation, Facet, Tag

JST = timezone(timedelta(hours=9))
MAX_LIMIT = 500
TRUE, FALSE = frozenset({"1", "true", "yes", "on"}), frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True)
class Filters:
    since: datetime | None = None
    until: datetime | None = None  # exclusive
    intent: str | None = None
    request_type: str | None = None
    section: str | None = None
    tag: str | None = None
    handoff: bool | None = None
    fallback: bool | None = None
    low_confidence: bool | None = None
    reviewed: bool | None = None
    q: str | None = None
    threshold: float = field(default_factory=ev.low_confidence_threshold)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in ("since", "until", "intent", "request_type", "section", "tag", "handoff",
                     "fallback", "low_confidence", "reviewed", "q"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value.isoformat() if isinstance(value, datetime) else value
        return out


def parse_time(value: str | None, name: str, *, end: bool = False) -> datetime | None:
    """An ISO date (a JST day: `until` then includes the whole day) or date-time (naive = JST)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            start = datetime.combine(day, time(0), tzinfo=JST)
            return start + timedelta(days=1) if end else start
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidField(
            f"{name} は日付（2026-11-25）か日時（2026-11-25T09:00:00+09:00）で指定してください "
            f"({name}: not an ISO date or date-time: {value!r})"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=JST)


def parse_flag(value: str | None, name: str) -> bool | None:
    if value is None or not value.strip():
        return None
    lowered = value.strip().lower()
    if lowered in TRUE:
        return True
    if lowered in FALSE:
        return False
    raise InvalidField(f"{name} は true か false で指定してください ({name}: {value!r})")


def parse_filters(params: dict[str, str | None]) -> Filters:
    def text(name: str, limit: int = 100) -> str | None:
        value = (params.get(name) or "").strip()
        if len(value) > limit:
            raise InvalidField(f"{name} が長すぎます ({name}: at most {limit} characters)")
        return value or None

    since = parse_time(params.get("since"), "since")
    until = parse_time(params.get("until"), "until", end=True)
    if since and until and since >= until:
        raise InvalidField("since は until より前にしてください (since must be before until)")
    return Filters(
        since=since,
        until=until,
        intent=text("intent"),
        request_type=text("request_type"),
        section=text("section") or text("notice_section"),
        tag=text("tag", 64),
        handoff=parse_flag(params.get("handoff"), "handoff"),
        fallback=parse_flag(params.get("fallback"), "fallback"),
        low_confidence=parse_flag(params.get("low_confidence"), "low_confidence"),
        reviewed=parse_flag(params.get("reviewed"), "reviewed"),
        q=text("q", 200),
    )


def _facet(kind: str, value: str) -> Any:
    # IN (not a correlated EXISTS): the database can start from the facet index, so counting
    # a rare intent does not probe every conversation.
    return Conversation.id.in_(
        select(Facet.conversation_id).where(and_(Facet.kind == kind, Facet.value == value)))


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def where(f: Filters) -> list[Any]:
    c = Conversation
    clauses: list[Any] = []
    if f.since:
        clauses.append(c.started_at >= f.since)
    if f.until:
        clauses.append(c.started_at < f.until)
    if f.intent:
        clauses.append(_facet(INTENT, f.intent))
    if f.request_type:
        clauses.append(_facet(REQUEST_TYPE, f.request_type))
    if f.section:
        clauses.append(_facet(SECTION, f.section))
    if f.tag:
        clauses.append(c.id.in_(select(Tag.conversation_id).where(Tag.tag == f.tag)))
    if f.handoff is not None:
        clauses.append(c.handed_off == f.handoff)
    if f.fallback is not None:
        clauses.append(c.fell_back == f.fallback)
    if f.reviewed is not None:
        clauses.append(c.reviewed == f.reviewed)
    if f.low_confidence is True:
        clauses.append(c.min_confidence < f.threshold)
    elif f.low_confidence is False:
        clauses.append((c.min_confidence >= f.threshold) | c.min_confidence.is_(None))
    if f.q:
        clauses.append(c.customer_text.like(f"%{_like_escape(f.q)}%", escape="\\"))
    return clauses


# Below this many matches, sorting them beats walking the whole time index for them.
FEW = 5000


def conversations(f: Filters, *, matches: int | None = None, dialect: str = "") -> Select:
    """Newest first. Many matches: the `started_at, id` index serves order and range. Few
    matches (known from the count): on SQLite, `+started_at` keeps the planner from walking
    the time index past every non-match, so it starts from the filter's own index and sorts.
    """
    stmt = select(Conversation).where(*where(f))
    if dialect == "sqlite" and matches is not None and matches < FEW:
        return stmt.order_by(literal_column("+review_conversations.started_at").desc(),
                             Conversation.id.desc())
    return stmt.order_by(Conversation.started_at.desc(), Conversation.id.desc())
