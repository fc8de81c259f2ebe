"""Due dates: business days in Japan (no weekends, no public holidays), at the desk's closing."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from madoguchi.tickets import ServiceTarget, TicketDraft
from madoguchi.tickets import TicketService as TicketRepository
from madoguchi.tickets.service_target import JST, add_business_days, is_business_day


def jst(*args: int) -> datetime:
    return datetime(*args, tzinfo=JST)


def test_weekends_and_public_holidays_are_not_business_days():
    assert is_business_day(date(2026, 11, 20))  # Friday
    assert not is_business_day(date(2026, 11, 21))  # Saturday
    assert not is_business_day(date(2026, 11, 22))  # Sunday
    assert not is_business_day(date(2026, 11, 23))  # Monday, 勤労感謝の日


def test_due_date_skips_the_weekend_and_a_japanese_holiday():
    # Friday 2026-11-20 → Sat, Sun, Mon 23 (勤労感謝の日) do not count → Tue 24, Wed 25, Thu 26.
    due = ServiceTarget(business_days=3).due_at(jst(2026, 11, 20, 10, 30))
    assert due == jst(2026, 11, 26, 21, 0)
    assert due.tzinfo == timezone.utc


def test_due_date_counts_from_the_japanese_date_not_the_utc_date():
    # 2026-11-19 16:00 UTC is already Friday 2026-11-20 01:00 in Japan.
    due = ServiceTarget(business_days=1).due_at(datetime(2026, 11, 19, 16, 0, tzinfo=timezone.utc))
    assert due == jst(2026, 11, 24, 21, 0)


def test_golden_week_is_skipped():
    # Thursday 2026-04-30 → Fri 5/1, then 5/2–5/6 are weekend and holidays → Thu 5/7.
    assert add_business_days(date(2026, 4, 30), 2) == date(2026, 5, 7)


def test_an_hour_target_is_plain_clock_hours():
    created = jst(2026, 11, 21, 22, 0)  # a Saturday night
    assert ServiceTarget(hours=24).due_at(created) == jst(2026, 11, 22, 22, 0)


def test_the_service_target_comes_from_the_environment():
    assert ServiceTarget.from_env({}) == ServiceTarget(business_days=3)
    assert ServiceTarget.from_env({"MADOGUCHI_SERVICE_TARGET_DAYS": "5"}).business_days == 5
    assert ServiceTarget.from_env({"MADOGUCHI_SERVICE_TARGET_HOURS": "48"}).hours == 48.0
    with pytest.raises(ValueError, match="MADOGUCHI_SERVICE_TARGET_DAYS"):
        ServiceTarget.from_env({"MADOGUCHI_SERVICE_TARGET_DAYS": "three"})


def test_repository_reads_the_service_target_from_the_environment(db_sessions, monkeypatch):
    monkeypatch.setenv("MADOGUCHI_SERVICE_TARGET_DAYS", "1")
    ticket_repo = TicketRepository(db_sessions, clock=lambda: jst(2026, 11, 20, 10, 0))
    ticket = ticket_repo.create(TicketDraft(request_types=["disclosure"]))
    assert ticket.due_at == jst(2026, 11, 24, 21, 0)
    assert ticket_repo.get(ticket.reference).due_at == jst(2026, 11, 24, 21, 0)
