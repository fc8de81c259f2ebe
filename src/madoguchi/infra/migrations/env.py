"""Alembic environment for madoguchi's tables only.

`madoguchi.infra.db.upgrade` passes an open connection in `config.attributes["connection"]`
(or a URL in `config.attributes["url"]`); there is no alembic.ini. Tables that madoguchi's models
do not declare (Rasa's `events`, anything else in the shared database) are invisible here: never
reflected, never compared, never dropped.
"""

from __future__ import annotations

from typing import Any

from alembic import context

from madoguchi.infra import db
from madoguchi.infra.settings import load_settings

config = context.config
target_metadata = db.load_models()


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        version_table=db.VERSION_TABLE,
        include_name=db.include_name,
        include_object=db.include_object,
        render_as_batch=True,  # SQLite can alter tables only by copying them
        compare_type=True,
        **kwargs,
    )


def _url() -> str:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        url = load_settings().database_url
    return str(url)


def run_migrations_offline() -> None:
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = db.make_engine(_url())
    try:
        with engine.connect() as connection:
            _configure(connection=connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
