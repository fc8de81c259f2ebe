"""The inquiry window of §7: how to reach it, and when a person answers a handed-off chat.

Contact details are data (data/notice/window.yml) checked against the notice's own section 7,
so replies never carry a phone number or hours that the notice does not state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import jpholiday
import yaml

from madoguchi.infra.settings import load_settings
from madoguchi.notice.loader import load_notice
from madoguchi.notice.model import Notice, NoticeError


@dataclass(frozen=True)
class OperatorHours:
    timezone: ZoneInfo
    opens: time
    closes: time
    closed_on_public_holidays: bool
    closed_dates: frozenset[date]

    def _open_on(self, day: date) -> bool:
        if day in self.closed_dates:
            return False
        return not (self.closed_on_public_holidays and jpholiday.is_holiday(day))

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(self.timezone)
        return self._open_on(local.date()) and self.opens <= local.time() < self.closes

    def next_opening(self, now: datetime) -> datetime:
        """When a person next answers (now itself when open), in the window's time zone."""
        local = now.astimezone(self.timezone)
        if self.is_open(local):
            return local
        day = local.date()
        if local.time() >= self.opens:
            day += timedelta(days=1)
        for _ in range(366):
            if self._open_on(day):
                return datetime.combine(day, self.opens, tzinfo=self.timezone)
            day += timedelta(days=1)
        raise NoticeError("operator_hours: no open day within a year; check closed_dates")


@dataclass(frozen=True)
class Window:
    contact: dict[str, str]
    hours: OperatorHours


def _clock(value: object, where: str) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise NoticeError(f"{where}: {value!r} is not a time like 09:00") from None


def load_window(path: Path, notice: Notice) -> Window:
    """Read window.yml and check every contact value against the notice's section."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        section = notice.get(str(data["section"]))
        contact = {str(k): str(v) for k, v in data["contact"].items()}
        hours = data["operator_hours"]
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
        raise NoticeError(f"{path}: unreadable window data ({exc})") from exc
    squeezed = "".join(notice.subtree_text(section.id).split())
    for key, value in contact.items():
        if "".join(value.split()) not in squeezed:
            raise NoticeError(f"{path}: contact.{key} {value!r} is not in section {section.id}")
    try:
        closed = frozenset(date.fromisoformat(str(d)) for d in hours.get("closed_dates") or [])
        zone = ZoneInfo(str(hours["timezone"]))
    except (ValueError, KeyError) as exc:
        raise NoticeError(f"{path}: operator_hours: {exc}") from exc
    return Window(
        contact=contact,
        hours=OperatorHours(
            timezone=zone,
            opens=_clock(hours["opens"], f"{path}: opens"),
            closes=_clock(hours["closes"], f"{path}: closes"),
            closed_on_public_holidays=bool(hours.get("closed_on_public_holidays")),
            closed_dates=closed,
        ),
    )


@lru_cache(maxsize=4)
def default_window(directory: Path | None = None) -> Window:
    folder = directory or load_settings().notice_dir
    return load_window(folder / "window.yml", load_notice(folder))
