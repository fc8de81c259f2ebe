"""Console login sessions (issue 15, item 14): the hash of the cookie's random id, its user and
expiry; logging out deletes the row, rotating a user's token deletes all of theirs.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from madoguchi.infra.db import UTCDateTime
from madoguchi.infra.migrations.parts import create_keyed_table, drop_table, owner

revision = "0006"
down_revision = "0005"

INDEXES = ["user_id", "expires_at"]


def upgrade() -> None:
    create_keyed_table(
        "desk_sessions",
        sa.Column("id_hash", sa.String(64), nullable=False),
        *owner("desk_sessions", "user_id", "users"),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("id_hash", name=op.f("uq_desk_sessions_id_hash")),
        indexes=INDEXES,
    )


def downgrade() -> None:
    drop_table("desk_sessions", INDEXES)
