"""The webhook outbox: announcements wait in the database until the endpoint accepts them."""

from __future__ import annotations

import sqlalchemy as sa

from madoguchi.infra.db import UTCDateTime
from madoguchi.infra.migrations.parts import create_keyed_table, drop_table

revision = "0003"
down_revision = "0002"

INDEXES = ["next_attempt_at"]


def upgrade() -> None:
    create_keyed_table(
        "webhook_outbox",
        sa.Column("event", sa.String(50), nullable=False),
        sa.Column("reference", sa.String(32)),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("delivered_at", UTCDateTime()),
        sa.Column("last_error", sa.String(200)),
        indexes=INDEXES,
    )


def downgrade() -> None:
    drop_table("webhook_outbox", INDEXES)
