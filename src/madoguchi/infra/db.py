"""Engines, sessions and schema migrations for madoguchi's tables.

One database holds Rasa's tracker store (`events`) and madoguchi's own tables. madoguchi only
ever creates, migrates and drops what its models declare: Alembic keeps its own version table
(`madoguchi_alembic_version`) and skips every table it does not know.

SQLite (the default) gets WAL (readers never wait for the writer), a busy timeout (a locked
database raises `DatabaseLocked` after a few seconds instead of hanging) and foreign keys.
Writes should go through `write_session`, which on SQLite starts with `BEGIN IMMEDIATE`: a
deferred transaction that reads first and writes later can fail at once on contention, because
SQLite cannot upgrade its read lock while another connection writes.
"""

from __future__ import annotations

import importlib
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, create_engine, event, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.orm import Session, declarative_base, sessionmaker
from sqlalchemy.pool import QueuePool, StaticPool
from sqlalchemy.types import TypeDecorator

VERSION_TABLE = "madoguchi_alembic_version"
DEFAULT_SQLITE_BUSY_TIMEOUT = 5.0
# Execution option: start this connection's transaction with BEGIN IMMEDIATE (SQLite only).
SQLITE_IMMEDIATE = "madoguchi_sqlite_immediate"
# pg_advisory_xact_lock key that serialises concurrent `upgrade` calls (processes starting at once).
_MIGRATION_LOCK_KEY = 0x6D61646F  # "mado"

# Modules whose models belong to `Base.metadata`; Alembic sees only what these declare.
# A new module with tables adds itself here (and a migration under infra/migrations/versions).
MODEL_MODULES: tuple[str, ...] = (
    "madoguchi.tickets.models", "madoguchi.review.models", "madoguchi.infra.webhook",
    "madoguchi.review.csat", "madoguchi.tickets.users",
    "madoguchi.privacy.pending_contact",
)

# Deterministic constraint names: Alembic can then alter them later (also SQLite batch mode).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Base = declarative_base(metadata=MetaData(naming_convention=NAMING_CONVENTION))


class DatabaseError(RuntimeError):
    """The database cannot be used right now (the message says why and where)."""


class DatabaseLocked(DatabaseError):
    """Another connection held the SQLite database longer than the busy timeout."""


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend.

    SQLite has no time zone type and returns naive values; storing naive UTC and attaching UTC
    on the way out keeps comparisons and ordering right on both SQLite and PostgreSQL.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: madoguchi stores aware UTC datetimes")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


# JSON everywhere; JSONB on PostgreSQL so that containment (`@>`) works for filters.
JSONType = JSON().with_variant(JSONB(), "postgresql")


def make_engine(
    url: str | URL, *, sqlite_busy_timeout: float = DEFAULT_SQLITE_BUSY_TIMEOUT, echo: bool = False
) -> Engine:
    """An engine set up for madoguchi: SQLite pragmas and lock handling, PostgreSQL pre-ping."""
    url = make_url(url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, sqlite_busy_timeout, echo)
    kwargs: dict[str, Any] = {"future": True, "pool_pre_ping": True, "echo": echo}
    if url.get_backend_name() == "postgresql" and url.get_driver_name() in ("psycopg2", ""):
        if "connect_timeout" not in url.query:
            kwargs["connect_args"] = {"connect_timeout": 10}
    return create_engine(url, **kwargs)


def _sqlite_engine(url: URL, busy_timeout: float, echo: bool) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    kwargs: dict[str, Any] = {"future": True, "echo": echo}
    connect_args: dict[str, Any] = {"timeout": busy_timeout}
    # Connections may be used from any thread, one session at a time (the desk's threadpool).
    connect_args["check_same_thread"] = False
    if in_memory:
        # One shared connection, or every checkout would see a new empty database.
        kwargs["poolclass"] = StaticPool
    else:
        # Kept, not opened and closed per session (SQLAlchemy 1.4's NullPool for a file):
        # closing the last connection checkpoints and deletes the WAL, which the next write
        # creates again (as the tracker store, rasa_adapters/tracker_store.py).
        kwargs["poolclass"] = QueuePool
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args=connect_args, **kwargs)
    where = database or ":memory:"

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy (the "begin" hook below) decide how transactions begin, not pysqlite.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if not in_memory:
                mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
                if str(mode).lower() != "wal":
                    cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.OperationalError as exc:
            if _is_locked(exc):
                raise _locked_error(where, busy_timeout) from exc
            raise
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(SQLITE_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    @event.listens_for(engine, "handle_error")
    def _on_error(context: Any) -> None:
        exc = context.original_exception
        if isinstance(exc, sqlite3.OperationalError) and _is_locked(exc):
            raise _locked_error(where, busy_timeout) from exc

    return engine


def _is_locked(exc: BaseException) -> bool:
    message = str(exc).lower()
    return "database is locked" in message or "database table is locked" in message


def _locked_error(where: str, busy_timeout: float) -> DatabaseLocked:
    return DatabaseLocked(
        f"SQLite database {where} is locked by another connection "
        f"(busy timeout {busy_timeout:g}s); retry later, or look for a process holding a "
        "long write transaction"
    )


def session_factory(engine: Engine) -> sessionmaker:
    """Sessions whose objects stay readable after commit (repositories return them detached)."""
    return sessionmaker(engine, future=True, expire_on_commit=False)


@contextmanager
def write_session(factory: sessionmaker) -> Iterator[Session]:
    """A session in a transaction that holds the write lock from its first statement.

    Commits on success, rolls back on error. On SQLite this is `BEGIN IMMEDIATE` (waits up to
    the busy timeout, then `DatabaseLocked`); elsewhere an ordinary transaction.
    """
    with factory.begin() as session:
        session.connection(execution_options={SQLITE_IMMEDIATE: True})
        yield session


def database_ok(engine: Engine) -> bool:
    """Whether the database answers a trivial query (for /health)."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def load_models() -> MetaData:
    """Import every model module so that `Base.metadata` knows all of madoguchi's tables."""
    for module in MODEL_MODULES:
        importlib.import_module(module)
    return Base.metadata


# --- migrations --------------------------------------------------------------------------------


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic reflection filter: only tables madoguchi's models declare (never Rasa's)."""
    if type_ == "table":
        return name in load_models().tables
    return True


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic comparison filter: only madoguchi's tables and what belongs to them."""
    tables = load_models().tables
    if type_ == "table":
        return name in tables
    table = getattr(obj, "table", None)
    return table is None or table.name in tables


MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Any:
    """An Alembic Config without an ini file; env.py reads `connection` or `url` from it."""
    # Alembic is imported inside the functions that migrate (here and below): it takes about
    # 0.4 s to load, and most importers of this module (actions, the tracker store) never migrate.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    config.attributes["url"] = url
    return config


@contextmanager
def _migration_connection(target: Engine | str | URL) -> Iterator[Connection]:
    """A connection in a write transaction, serialised against other processes migrating."""
    owned = not isinstance(target, Engine)
    engine = make_engine(target) if owned else target
    try:
        with engine.connect() as conn:
            conn.execution_options(**{SQLITE_IMMEDIATE: True})
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                    )
                yield conn
    finally:
        if owned:
            engine.dispose()


def upgrade(target: Engine | str | URL, revision: str = "head") -> None:
    """Bring madoguchi's tables up to `revision` (idempotent; safe to call at every start)."""
    from alembic import command

    with _migration_connection(target) as conn:
        command.upgrade(alembic_config(connection=conn), revision)


def downgrade(target: Engine | str | URL, revision: str) -> None:
    """Step madoguchi's tables back to `revision` ("base" drops them; foreign tables stay)."""
    from alembic import command

    with _migration_connection(target) as conn:
        command.downgrade(alembic_config(connection=conn), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def new_revision(url: str, message: str, *, autogenerate: bool = True) -> str:
    """Write the next numbered migration (0002_…) under migrations/versions; returns its path.

    With autogenerate, the models are compared with the database at `url` (upgrade it first).
    """
    from alembic import command
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    numbers = [int(rev.revision) for rev in script.walk_revisions() if rev.revision.isdigit()]
    rev_id = f"{max(numbers, default=0) + 1:04d}"
    if autogenerate:
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                created = command.revision(
                    alembic_config(connection=conn),
                    message=message,
                    autogenerate=True,
                    rev_id=rev_id,
                )
        finally:
            engine.dispose()
    else:
        created = command.revision(alembic_config(url=url), message=message, rev_id=rev_id)
    scripts = created if isinstance(created, list) else [created]
    return str(scripts[0].path) if scripts and scripts[0] is not None else ""
