"""The internal service target that sets a ticket's due date.

APPI asks for answers "without delay" and names no deadline, so the target is a setting:
`MADOGUCHI_SERVICE_TARGET_DAYS` business days (default 3; weekends and Japanese public holidays
do not count), due at the desk's closing time (21:00 JST, notice §7) of the last day; or, if
`MADOGUCHI_SERVICE_TARGET_HOURS` is set, that many clock hours after the ticket was created.
A request type may have its own number of business days (`per_type`, from
data/requests/lifecycle.yml); a ticket of several types is due by the strictest of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone

import jpholiday

from madoguchi.infra.settings import DEFAULT_SERVICE_TARGET_DAYS, load_settings, settings

# Japan has no daylight saving time: a fixed offset is exact and needs no tz database.
JST = timezone(timedelta(hours=9), "JST")
DESK_CLOSES = time(21, 0)

DEFAULT_BUSINESS_DAYS = DEFAULT_SERVICE_TARGET_DAYS


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and not jpholiday.is_holiday(day)


def add_business_days(start: date, days: int) -> date:
    """The `days`-th business day after `start` (`start` itself never counts)."""
    day = start
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_business_day(day):
            remaining -= 1
    return day


def jst_date(moment: datetime) -> date:
    return moment.astimezone(JST).date()


@dataclass(frozen=True)
class ServiceTarget:
    business_days: int = DEFAULT_BUSINESS_DAYS
    hours: float | None = None
    # (request type, business days) pairs: the company's per-type targets. Not compared: two
    # targets with the same setting are the same setting.
    per_type: tuple[tuple[str, int], ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if self.business_days < 0 or (self.hours is not None and self.hours <= 0):
            raise ValueError(f"service target must be positive: {self!r}")
        if any(days < 0 for _, days in self.per_type):
            raise ValueError(f"per-type targets must not be negative: {self.per_type!r}")

    def with_types(self, per_type: Mapping[str, int]) -> ServiceTarget:
        """The same target with per-request-type business days."""
        return replace(self, per_type=tuple(sorted(per_type.items())))

    def days_for(self, request_types: list[str] | tuple[str, ...] = ()) -> int:
        """Business days for a ticket of these types: the strictest per-type target, else the
        setting."""
        own = dict(self.per_type)
        days = [own[t] for t in request_types or () if t in own]
        return min(days) if days else self.business_days

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServiceTarget:
        current = settings() if environ is None else load_settings(environ)
        return cls(business_days=current.service_target_days, hours=current.service_target_hours)

    def due_at(
        self, created_at: datetime, request_types: list[str] | tuple[str, ...] = ()
    ) -> datetime:
        """When a ticket of `request_types` received at `created_at` (aware) is due, as an
        aware UTC datetime."""
        if created_at.tzinfo is None:
            raise ValueError("created_at must be timezone-aware")
        if self.hours is not None:
            return (created_at + timedelta(hours=self.hours)).astimezone(timezone.utc)
        day = add_business_days(jst_date(created_at), self.days_for(request_types))
        return datetime.combine(day, DESK_CLOSES, tzinfo=JST).astimezone(timezone.utc)
