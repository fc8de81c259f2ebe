"""Review side: conversations read model, facets, tags, comments, review audit, cursor."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from madoguchi.infra.db import UTCDateTime
from madoguchi.infra.migrations.parts import create_keyed_table, drop_table, json_type, owner

revision = "0002"
down_revision = "0001"

CONVERSATIONS = "review_conversations"


def _owned_by_conversation(table: str) -> list[sa.schema.SchemaItem]:
    return owner(table, "conversation_id", CONVERSATIONS)


def upgrade() -> None:
    create_keyed_table(
        CONVERSATIONS,
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
        sa.UniqueConstraint("sender_id", name=op.f("uq_review_conversations_sender_id")),
        indexes=[
            ("started_at", ["started_at", "id"]), "day",
            ("handed_off", ["handed_off", "started_at"]),
            ("fell_back", ["fell_back", "started_at"]),
            ("reviewed", ["reviewed", "started_at"]), "min_confidence", "last_at",
        ],
    )
    create_keyed_table(
        "review_facets",
        *_owned_by_conversation("review_facets"),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("value", sa.String(100), nullable=False),
        sa.UniqueConstraint("conversation_id", "kind", "value", name="uq_review_facets_value"),
        indexes=[("lookup", ["kind", "value", "conversation_id"])],
    )
    create_keyed_table(
        "review_tags",
        *_owned_by_conversation("review_tags"),
        sa.Column("tag", sa.String(64), nullable=False),
        sa.Column("added_by", sa.String(64), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("conversation_id", "tag", name="uq_review_tags_tag"),
        indexes=[("lookup", ["tag", "conversation_id"])],
    )
    create_keyed_table(
        "review_comments",
        *_owned_by_conversation("review_comments"),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        indexes=["conversation_id"],
    )
    create_keyed_table(
        "review_audit",
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("sender_id", sa.String(255)),
        sa.Column("details", json_type(), nullable=False),
        indexes=["at", "sender_id"],
    )
    op.create_table(
        "review_cursor",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_review_cursor")),
    )


def downgrade() -> None:
    for table in ("review_cursor", "review_audit", "review_comments", "review_tags",
                  "review_facets", CONVERSATIONS):
        drop_table(table)
