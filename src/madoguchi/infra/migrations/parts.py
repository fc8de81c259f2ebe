"""What madoguchi's migrations declare alike, declared once: the JSON type, the integer `id` key,
the column that ties a row to the row owning it, and a table's indexes.

A released migration must build the same schema for ever, so what these build never changes: a
table that needs something else says so itself, or gets a new function here. The helper lives
beside `versions/`, not in it: Alembic reads every module there as a revision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import SchemaItem

# An index: a column (the index `ix_<table>_<column>` on it alone), or a name and its columns
# (`("queue", ["status", "priority", "due_at"])` is `ix_<table>_queue`).
IndexSpec = str | tuple[str, Sequence[str]]


def json_type() -> sa.types.TypeEngine:
    """JSON; on PostgreSQL JSONB, which compares and indexes the value instead of its text."""
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def create_keyed_table(name: str, *items: SchemaItem, indexes: Sequence[IndexSpec] = ()) -> None:
    """`op.create_table` for a table whose first column is the integer `id`, its primary key
    `pk_<name>` (SERIAL on PostgreSQL), then its indexes in the order given.

    The primary key is written first in CREATE TABLE wherever it stands; the other constraints
    keep the order of `items`.
    """
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        *items,
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
    )
    create_indexes(name, indexes)


def owner(
    table: str, column: str, owner_table: str, *, one_per_owner: bool = False
) -> list[SchemaItem]:
    """The integer `column` of `table` naming its owner's `id`; deleting the owner deletes the
    row. With `one_per_owner`, `uq_<table>_<column>` too (made before the foreign key, in the
    order its migration first wrote them)."""
    items: list[SchemaItem] = [sa.Column(column, sa.Integer(), nullable=False)]
    if one_per_owner:
        items.append(sa.UniqueConstraint(column, name=op.f(f"uq_{table}_{column}")))
    items.append(sa.ForeignKeyConstraint(
        [column], [f"{owner_table}.id"],
        name=op.f(f"fk_{table}_{column}_{owner_table}"), ondelete="CASCADE",
    ))
    return items


def _index_name_and_columns(table: str, index: IndexSpec) -> tuple[str, list[str]]:
    name, columns = (index, [index]) if isinstance(index, str) else index
    return op.f(f"ix_{table}_{name}"), list(columns)


def create_indexes(table: str, indexes: Sequence[IndexSpec]) -> None:
    """`ix_<table>_<name>` for each of `indexes`, in the order given."""
    for index in indexes:
        name, columns = _index_name_and_columns(table, index)
        op.create_index(name, table, columns)


def drop_table(table: str, indexes: Sequence[IndexSpec] = ()) -> None:
    """Drop `indexes` (the last made first), then the table; the indexes left out go with it."""
    for index in reversed(indexes):
        op.drop_index(_index_name_and_columns(table, index)[0], table_name=table)
    op.drop_table(table)
