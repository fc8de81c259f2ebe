"""Initial tables: tickets, audit entries, notes, reference counters, desk users.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from madoguchi.infra.db import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


STATUSES = "'new', 'assigned', 'waiting_customer', 'resolved', 'rejected', 'withdrawn'"
PRIORITIES = "'urgent', 'high', 'normal'"


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(32), nullable=False),
        sa.Column("request_types", _json(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("priority", sa.String(10), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("customer_name", sa.String(200)),
        sa.Column("customer_phone", sa.String(50)),
        sa.Column("customer_email", sa.String(254)),
        sa.Column("customer_postal_address", sa.Text()),
        sa.Column("customer_member_number", sa.String(50)),
        sa.Column("preferred_contact", sa.String(50)),
        sa.Column("preferred_time", sa.String(200)),
        sa.Column("details", _json(), nullable=False),
        sa.Column("is_agent", sa.Boolean(), nullable=False),
        sa.Column("customer_words", sa.Text()),
        sa.Column("nlu_intent", sa.String(100)),
        sa.Column("nlu_confidence", sa.Float()),
        sa.Column("notice_sections", _json(), nullable=False),
        sa.Column("next_steps", sa.Text()),
        sa.Column("conversation_id", sa.String(255)),
        sa.Column("assignee", sa.String(64)),
        sa.Column("idempotency_key", sa.String(200)),
        sa.Column("contact_purged_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("reference", name=op.f("uq_tickets_reference")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_tickets_idempotency_key")),
        sa.CheckConstraint(f"status IN ({STATUSES})", name=op.f("ck_tickets_status")),
        sa.CheckConstraint(f"priority IN ({PRIORITIES})", name=op.f("ck_tickets_priority")),
    )
    op.create_index("ix_tickets_queue", "tickets", ["status", "priority", "due_at"])
    op.create_index(op.f("ix_tickets_conversation_id"), "tickets", ["conversation_id"])

    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("changes", _json(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_audit_entries_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(op.f("ix_audit_entries_ticket_id"), "audit_entries", ["ticket_id"])

    op.create_table(
        "ticket_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_notes")),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_notes_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(op.f("ix_ticket_notes_ticket_id"), "ticket_notes", ["ticket_id"])

    op.create_table(
        "ticket_counters",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_ticket_counters")),
    )

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_users_token_hash")),
        sa.CheckConstraint("role IN ('operator', 'supervisor')", name=op.f("ck_users_role")),
    )


def downgrade() -> None:
    op.drop_table("users")
    op.drop_table("ticket_counters")
    op.drop_index(op.f("ix_ticket_notes_ticket_id"), table_name="ticket_notes")
    op.drop_table("ticket_notes")
    op.drop_index(op.f("ix_audit_entries_ticket_id"), table_name="audit_entries")
    op.drop_table("audit_entries")
    op.drop_index(op.f("ix_tickets_conversation_id"), table_name="tickets")
    op.drop_index("ix_tickets_queue", table_name="tickets")
    op.drop_table("tickets")
