"""The webhook outbox: announcements wait in the database until the endpoint accepts them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from madoguchi.infra.db import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(50), nullable=False),
        sa.Column("reference", sa.String(32)),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("delivered_at", UTCDateTime()),
        sa.Column("last_error", sa.String(200)),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_outbox")),
    )
    op.create_index(op.f("ix_webhook_outbox_next_attempt_at"), "webhook_outbox",
                    ["next_attempt_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_webhook_outbox_next_attempt_at"), table_name="webhook_outbox")
    op.drop_table("webhook_outbox")
