"""CSAT: one survey per conversation (asked, rating, masked comment, ticket and operator)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from madoguchi.infra.db import UTCDateTime
from madoguchi.infra.migrations.parts import create_keyed_table, drop_table, json_type

revision = "0004"
down_revision = "0003"

INDEXES = ["ticket_reference", "operator", "rated_at"]


def upgrade() -> None:
    create_keyed_table(
        "csat_surveys",
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("ticket_reference", sa.String(32)),
        sa.Column("operator", sa.String(64)),
        sa.Column("request_types", json_type(), nullable=False),
        sa.Column("trigger", sa.String(20), nullable=False),
        sa.Column("asked_at", UTCDateTime(), nullable=False),
        sa.Column("score", sa.Integer()),
        sa.Column("rated_at", UTCDateTime()),
        sa.Column("comment", sa.Text()),
        sa.Column("commented_at", UTCDateTime()),
        sa.CheckConstraint("score IS NULL OR (score >= 1 AND score <= 5)",
                           name=op.f("ck_csat_surveys_score")),
        sa.UniqueConstraint("conversation_id", name=op.f("uq_csat_surveys_conversation_id")),
        indexes=INDEXES,
    )


def downgrade() -> None:
    drop_table("csat_surveys", INDEXES)
