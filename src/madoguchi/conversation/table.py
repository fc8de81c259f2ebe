"""Rasa's tracker store as plain rows: the `events` table, named for SQLAlchemy Core.

`SQLTrackerStore` keeps one row per event (`sender_id`, `type_name`, `timestamp`,
`intent_name`, `action_name` — an action's or a slot's name —, `data` = the event as JSON);
`events.from_row` reads one. Rasa creates the table, we never do.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, inspect
from sqlalchemy.engine import Connection, Engine

EVENTS = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)


def events_table_exists(bind: Engine | Connection) -> bool:
    """Rasa creates `events` when it first starts; before that there is nothing to read."""
    return inspect(bind).has_table("events")
