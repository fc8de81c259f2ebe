"""Shared pytest fixtures.

Databases: `sqlite_url` (a file under tmp_path), `pg_url` (a fresh throwaway PostgreSQL database,
dropped afterwards), `db_url` (both, as two parameters), and `db_engine` / `db_sessions` /
`ticket_repo` on a migrated `db_url`; `service`, the same on a `clock` the test moves.
PostgreSQL is reached through MADOGUCHI_TEST_PG_URL (a maintenance database, default
postgresql://postgres@127.0.0.1:5432/test). If it does not answer, its tests are skipped, or
fail when MADOGUCHI_REQUIRE_SERVICES=1 (CI sets that).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import pytest

# The servers the tests start run as production does (Rasa's API behind its token, signed chat
# sessions): the security tests hold them to it. tests/test_production_switch.py covers the
# loopback development contract.
os.environ.setdefault("MADOGUCHI_PRODUCTION", "1")

PG_ADMIN_URL = os.environ.get(
    "MADOGUCHI_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)


def _services_required() -> bool:
    return os.environ.get("MADOGUCHI_REQUIRE_SERVICES") == "1"


def _unavailable(reason: str) -> None:
    if _services_required():
        pytest.fail(f"{reason} (MADOGUCHI_REQUIRE_SERVICES=1, so this is a failure)")
    pytest.skip(f"{reason}; set MADOGUCHI_REQUIRE_SERVICES=1 to make this a failure")


# --- databases (tickets) ---------------------------------------------------------------------


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'madoguchi.db'}"


@contextmanager
def throwaway_pg_database(prefix: str = "madoguchi_test") -> Iterator[str]:
    """A new empty PostgreSQL database (its URL), dropped afterwards; skips where absent.

    The admin engine pre-pings: the fault tests restart PostgreSQL, and a session-long user
    of this must not drop its database over a connection from before the restart.
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(
        PG_ADMIN_URL,
        future=True,
        isolation_level="AUTOCOMMIT",
        pool_pre_ping=True,
        connect_args={"connect_timeout": 3},
    )
    name = f"{prefix}_{secrets.token_hex(6)}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        _unavailable(f"PostgreSQL at {make_url(PG_ADMIN_URL)!r} is not reachable: {exc}")
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A new empty PostgreSQL database for this test, dropped afterwards."""
    with throwaway_pg_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request) -> str:
    """The test runs once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture
def db_engine(db_url):
    from madoguchi.infra import db

    db_engine = db.make_engine(db_url)
    db.upgrade(db_engine)
    yield db_engine
    db_engine.dispose()


@pytest.fixture
def db_sessions(db_engine):
    from madoguchi.infra import db

    return db.session_factory(db_engine)


@pytest.fixture
def ticket_repo(db_sessions):
    from madoguchi.tickets import ServiceTarget
    from madoguchi.tickets import TicketService as TicketRepository

    return TicketRepository(db_sessions, service_target=ServiceTarget(business_days=3))


@pytest.fixture
def clock(request) -> list[datetime]:
    """Now for `service`: the test module's START until the test sets clock[0]."""
    return [request.module.START]


@pytest.fixture
def service(request, db_sessions, clock):
    """`ticket_repo` on `clock`; the test module's TEXT_FILTER, if it has one, is its
    `text_filter`."""
    from madoguchi.tickets import ServiceTarget, TicketService

    return TicketService(db_sessions, service_target=ServiceTarget(business_days=3),
                         clock=lambda: clock[0],
                         text_filter=getattr(request.module, "TEXT_FILTER", None))


@pytest.fixture(scope="module")
def pending_contact(tmp_path_factory):
    """Contact slots hold placeholders; their clear values wait in pending_contact (README:
    Where personal data may live): a throwaway one for the form actions of a test module."""
    from actions import requests as form_actions
    from madoguchi.infra import db
    from madoguchi.privacy.pending_contact import PendingContacts

    url = f"sqlite:///{tmp_path_factory.mktemp('pending')}/pending.db"
    db.upgrade(url)
    store = PendingContacts(db.session_factory(db.make_engine(url)))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(form_actions, "pending_contact", lambda: store)
        yield store
