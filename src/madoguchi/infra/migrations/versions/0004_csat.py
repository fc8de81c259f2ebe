"""CSAT: one survey per conversation (asked, rating, masked comment, ticket and operator).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from madoguchi.infra.db import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "csat_surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("ticket_reference", sa.String(32)),
        sa.Column("operator", sa.String(64)),
        sa.Column("request_types", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                  nullable=False),
        sa.Column("trigger", sa.String(20), nullable=False),
        sa.Column("asked_at", UTCDateTime(), nullable=False),
        sa.Column("score", sa.Integer()),
        sa.Column("rated_at", UTCDateTime()),
        sa.Column("comment", sa.Text()),
        sa.Column("commented_at", UTCDateTime()),
        sa.CheckConstraint("score IS NULL OR (score >= 1 AND score <= 5)",
                           name=op.f("ck_csat_surveys_score")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csat_surveys")),
        sa.UniqueConstraint("conversation_id", name=op.f("uq_csat_surveys_conversation_id")),
    )
    op.create_index(op.f("ix_csat_surveys_ticket_reference"), "csat_surveys",
                    ["ticket_reference"])
    op.create_index(op.f("ix_csat_surveys_operator"), "csat_surveys", ["operator"])
    op.create_index("ix_csat_surveys_rated_at", "csat_surveys", ["rated_at"])


def downgrade() -> None:
    op.drop_index("ix_csat_surveys_rated_at", table_name="csat_surveys")
    op.drop_index(op.f("ix_csat_surveys_operator"), table_name="csat_surveys")
    op.drop_index(op.f("ix_csat_surveys_ticket_reference"), table_name="csat_surveys")
    op.drop_table("csat_surveys")
