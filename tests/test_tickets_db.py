"""The database layer: migrations own only madoguchi's tables; SQLite waits, then says why."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from madoguchi.infra import db
from madoguchi.tickets import TicketDraft
from madoguchi.tickets import TicketService as TicketRepository

OUR_TABLES = {"tickets", "audit_entries", "ticket_notes", "ticket_counters", "users"}


def _create_rasa_events(db_engine) -> None:
    """A stand-in for Rasa's SQLTrackerStore table, with one conversation event in it."""
    with db_engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL,"
                " type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255),"
                " action_name VARCHAR(255), data TEXT)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO events (id, sender_id, type_name, timestamp, data)"
                " VALUES (1, 'c1', 'user', 1.0, '{}')"
            )
        )


def test_upgrade_creates_our_tables_and_indexes(db_engine):
    inspector = inspect(db_engine)
    tables = set(inspector.get_table_names())
    assert OUR_TABLES <= tables
    assert db.VERSION_TABLE in tables
    assert "alembic_version" not in tables
    indexes = {ix["name"]: ix["column_names"] for ix in inspector.get_indexes("tickets")}
    assert indexes["ix_tickets_queue"] == ["status", "priority", "due_at"]
    assert indexes["ix_tickets_conversation_id"] == ["conversation_id"]
    audit_indexes = {ix["name"] for ix in inspector.get_indexes("audit_entries")}
    assert "ix_audit_entries_ticket_id" in audit_indexes
    # The newest migration, whichever number it has (0002 review, 0003 webhook outbox, …).
    assert db.current_revision(db_engine) == db.head_revision() is not None


def test_migrations_leave_a_foreign_events_table_alone(db_url):
    db_engine = db.make_engine(db_url)
    try:
        _create_rasa_events(db_engine)
        db.upgrade(db_engine)
        db.upgrade(db_engine)  # idempotent
        db.downgrade(db_engine, "base")
        assert not OUR_TABLES & set(inspect(db_engine).get_table_names())
        db.upgrade(db_engine)
        with db_engine.connect() as conn:
            rows = conn.execute(text("SELECT sender_id, type_name FROM events")).all()
        assert rows == [("c1", "user")]
        assert "events" in inspect(db_engine).get_table_names()
    finally:
        db_engine.dispose()


def test_migrated_schema_matches_the_models_and_ignores_foreign_tables(db_url):
    """Autogenerate would propose nothing: no drift, and no `drop_table('events')`."""
    db_engine = db.make_engine(db_url)
    try:
        _create_rasa_events(db_engine)
        db.upgrade(db_engine)
        metadata = db.load_models()
        with db_engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "include_name": db.include_name,
                    "include_object": db.include_object,
                    "compare_type": True,
                    "version_table": db.VERSION_TABLE,
                },
            )
            diffs = compare_metadata(context, metadata)
        assert diffs == []
    finally:
        db_engine.dispose()


def test_upgrade_accepts_a_url_and_creates_the_sqlite_folder(tmp_path):
    url = f"sqlite:///{tmp_path / 'new' / 'var' / 'madoguchi.db'}"
    db.upgrade(url)
    db_engine = db.make_engine(url)
    try:
        assert db.current_revision(db_engine) == db.head_revision()
    finally:
        db_engine.dispose()


def test_concurrent_upgrades_do_not_collide(db_url):
    """Desk, action server and CLI may all migrate at start-up at the same moment."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            db.upgrade(db_url)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db_engine = db.make_engine(db_url)
    try:
        assert db.current_revision(db_engine) == db.head_revision()
    finally:
        db_engine.dispose()


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(sqlite_url):
    db_engine = db.make_engine(sqlite_url, sqlite_busy_timeout=2.5)
    try:
        with db_engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 2500
    finally:
        db_engine.dispose()


def test_a_sqlite_file_keeps_its_connection_between_sessions(sqlite_url):
    """Opening and closing a connection per session checkpointed and deleted the WAL each
    time (SQLAlchemy 1.4's NullPool); one kept connection serves session after session, from
    whichever thread, and the WAL stays."""
    db_engine = db.make_engine(sqlite_url)
    factory = db.session_factory(db_engine)
    seen: list[object] = []  # the connections themselves, so no id is reused

    def one_session() -> None:
        with db.write_session(factory) as session:
            seen.append(session.connection().connection.dbapi_connection)
            session.execute(text("CREATE TABLE IF NOT EXISTS t (v INTEGER)"))
            session.execute(text("INSERT INTO t VALUES (1)"))

    try:
        one_session()
        one_session()
        worker = threading.Thread(target=one_session)
        worker.start()
        worker.join()
        assert all(connection is seen[0] for connection in seen)
        database = db_engine.url.database
        assert Path(f"{database}-wal").exists()
        with factory() as session:
            assert session.execute(text("SELECT count(*) FROM t")).scalar() == 3
    finally:
        db_engine.dispose()


def test_timestamps_come_back_timezone_aware_utc(ticket_repo):
    ticket = ticket_repo.create(TicketDraft(request_types=["disclosure"]))
    again = ticket_repo.get(ticket.reference)
    for value in (again.created_at, again.updated_at, again.due_at, again.audit[0].at):
        assert value.tzinfo is not None
        assert value.utcoffset().total_seconds() == 0


def test_database_ok_tells_whether_the_database_answers(db_engine):
    assert db.database_ok(db_engine)
    dead = db.make_engine("postgresql+psycopg2://nobody@127.0.0.1:1/none?connect_timeout=1")
    try:
        assert not db.database_ok(dead)
    finally:
        dead.dispose()


def test_locked_sqlite_database_raises_a_clear_error_within_the_timeout(sqlite_url, tmp_path):
    db.upgrade(sqlite_url)
    db_engine = db.make_engine(sqlite_url, sqlite_busy_timeout=1.0)
    ticket_repo = TicketRepository(db.session_factory(db_engine))
    holder = sqlite3.connect(tmp_path / "madoguchi.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        with pytest.raises(db.DatabaseLocked, match="locked by another connection"):
            ticket_repo.create(TicketDraft(request_types=["disclosure"]))
        waited = time.monotonic() - started
        assert 0.8 <= waited < 4.0, waited
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    # Once the lock is gone, the same repository works again.
    assert ticket_repo.create(TicketDraft(request_types=["disclosure"])).reference.startswith(
        "PRV-"
    )
    db_engine.dispose()


def test_locked_sqlite_database_fails_the_migration_clearly_too(sqlite_url, tmp_path):
    db.upgrade(sqlite_url)
    holder = sqlite3.connect(tmp_path / "madoguchi.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    db_engine = db.make_engine(sqlite_url, sqlite_busy_timeout=0.5)
    try:
        started = time.monotonic()
        with pytest.raises(db.DatabaseLocked):
            db.upgrade(db_engine)
        assert time.monotonic() - started < 4.0
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        db_engine.dispose()
