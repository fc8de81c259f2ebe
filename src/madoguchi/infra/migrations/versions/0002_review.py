"""Review side: conversations read model, facets, tags, comments, review audit, cursor.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from madoguchi.infra.db import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _conversation_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["conversation_id"], ["review_conversations.id"],
        name=op.f(f"fk_{table}_conversation_id_review_conversations"), ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "review_conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(255), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("last_at", UTCDateTime(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("fallback_turns", sa.Integer(), nullable=False),
        sa.Column("first_words", sa.Text()),
        sa.Column("customer_text", sa.Text(), nullable=False),
        sa.Column("handed_off", sa.Boolean(), nullable=False),
        sa.Column("fell_back", sa.Boolean(), nullable=False),
        sa.Column("min_confidence", sa.Float()),
        sa.Column("ticket_reference", sa.String(32)),
        sa.Column("turns_to_ticket", sa.Integer()),
        sa.Column("operator_turns", sa.Integer(), nullable=False),
        sa.Column("pending_slot", sa.String(64)),
        sa.Column("reviewed", sa.Boolean(), nullable=False),
        sa.Column("reviewed_by", sa.String(64)),
        sa.Column("reviewed_at", UTCDateTime()),
        sa.Column("anonymised_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_conversations")),
        sa.UniqueConstraint("sender_id", name=op.f("uq_review_conversations_sender_id")),
    )
    for name, columns in [
        ("started_at", ["started_at", "id"]),
        ("day", ["day"]),
        ("handed_off", ["handed_off", "started_at"]),
        ("fell_back", ["fell_back", "started_at"]),
        ("reviewed", ["reviewed", "started_at"]),
        ("min_confidence", ["min_confidence"]),
        ("last_at", ["last_at"]),
    ]:
        op.create_index(f"ix_review_conversations_{name}", "review_conversations", columns)

    op.create_table(
        "review_facets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("value", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_facets")),
        _conversation_fk("review_facets"),
        sa.UniqueConstraint("conversation_id", "kind", "value", name="uq_review_facets_value"),
    )
    op.create_index("ix_review_facets_lookup", "review_facets",
                    ["kind", "value", "conversation_id"])

    op.create_table(
        "review_tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(64), nullable=False),
        sa.Column("added_by", sa.String(64), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_tags")),
        _conversation_fk("review_tags"),
        sa.UniqueConstraint("conversation_id", "tag", name="uq_review_tags_tag"),
    )
    op.create_index("ix_review_tags_lookup", "review_tags", ["tag", "conversation_id"])

    op.create_table(
        "review_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_comments")),
        _conversation_fk("review_comments"),
    )
    op.create_index(op.f("ix_review_comments_conversation_id"), "review_comments",
                    ["conversation_id"])

    op.create_table(
        "review_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("sender_id", sa.String(255)),
        sa.Column("details", _json(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_audit")),
    )
    op.create_index(op.f("ix_review_audit_at"), "review_audit", ["at"])
    op.create_index(op.f("ix_review_audit_sender_id"), "review_audit", ["sender_id"])

    op.create_table(
        "review_cursor",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_review_cursor")),
    )


def downgrade() -> None:
    op.drop_table("review_cursor")
    op.drop_table("review_audit")
    op.drop_table("review_comments")
    op.drop_table("review_tags")
    op.drop_table("review_facets")
    op.drop_table("review_conversations")
