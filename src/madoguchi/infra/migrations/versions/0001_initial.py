"""Initial tables: tickets, audit entries, notes, reference counters, desk users."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from madoguchi.infra.db import UTCDateTime
from madoguchi.infra.migrations.parts import create_keyed_table, drop_table, json_type, owner

revision = "0001"
down_revision = None

STATUSES = "'new', 'assigned', 'waiting_customer', 'resolved', 'rejected', 'withdrawn'"
PRIORITIES = "'urgent', 'high', 'normal'"
TICKET_INDEXES = [("queue", ["status", "priority", "due_at"]), "conversation_id"]


def upgrade() -> None:
    create_keyed_table(
        "tickets",
        sa.Column("reference", sa.String(32), nullable=False),
        sa.Column("request_types", json_type(), nullable=False),
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
        sa.Column("details", json_type(), nullable=False),
        sa.Column("is_agent", sa.Boolean(), nullable=False),
        sa.Column("customer_words", sa.Text()),
        sa.Column("nlu_intent", sa.String(100)),
        sa.Column("nlu_confidence", sa.Float()),
        sa.Column("notice_sections", json_type(), nullable=False),
        sa.Column("next_steps", sa.Text()),
        sa.Column("conversation_id", sa.String(255)),
        sa.Column("assignee", sa.String(64)),
        sa.Column("idempotency_key", sa.String(200)),
        sa.Column("contact_purged_at", UTCDateTime()),
        sa.UniqueConstraint("reference", name=op.f("uq_tickets_reference")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_tickets_idempotency_key")),
        sa.CheckConstraint(f"status IN ({STATUSES})", name=op.f("ck_tickets_status")),
        sa.CheckConstraint(f"priority IN ({PRIORITIES})", name=op.f("ck_tickets_priority")),
        indexes=TICKET_INDEXES,
    )
    create_keyed_table(
        "audit_entries",
        *owner("audit_entries", "ticket_id", "tickets"),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("changes", json_type(), nullable=False),
        indexes=["ticket_id"],
    )
    create_keyed_table(
        "ticket_notes",
        *owner("ticket_notes", "ticket_id", "tickets"),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        indexes=["ticket_id"],
    )
    op.create_table(
        "ticket_counters",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_ticket_counters")),
    )
    create_keyed_table(
        "users",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_users_token_hash")),
        sa.CheckConstraint("role IN ('operator', 'supervisor')", name=op.f("ck_users_role")),
    )


def downgrade() -> None:
    drop_table("users")
    drop_table("ticket_counters")
    drop_table("ticket_notes", ["ticket_id"])
    drop_table("audit_entries", ["ticket_id"])
    drop_table("tickets", TICKET_INDEXES)
