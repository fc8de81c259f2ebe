"""Reference numbers `PRV-YYYYMMDD-NNNN`: JST date and that day's running number.

The number comes from one counter row per day, bumped by a single upsert inside the caller's
transaction. The row stays locked until that transaction ends (PostgreSQL row lock; on SQLite
the caller's BEGIN IMMEDIATE already serialises writers), so two concurrent handoffs can never
get the same number, and a rolled-back ticket gives its number back.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .models import TicketCounter
from .service_target import jst_date

PREFIX = "PRV"


def format_reference(day: date, number: int) -> str:
    """`PRV-20261125-0007`; the number keeps at least four digits and grows past 9999."""
    return f"{PREFIX}-{day:%Y%m%d}-{number:04d}"


def next_number(session: Session, day: date) -> int:
    """Take the next number of `day` in the session's (write) transaction."""
    table = TicketCounter.__table__
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        insert = postgresql.insert
    elif dialect == "sqlite":
        insert = sqlite.insert
    else:
        raise NotImplementedError(f"madoguchi runs on SQLite or PostgreSQL, not {dialect}")
    session.execute(
        insert(table)
        .values(day=day, last=1)
        .on_conflict_do_update(index_elements=[table.c.day], set_={"last": table.c.last + 1})
    )
    return session.execute(select(table.c.last).where(table.c.day == day)).scalar_one()


def next_reference(session: Session, created_at: datetime) -> str:
    day = jst_date(created_at)
    return format_reference(day, next_number(session, day))
