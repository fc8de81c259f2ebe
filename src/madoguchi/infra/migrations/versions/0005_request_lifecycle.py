"""A request's life (issue 16): the day it reached us, the notice version seen, agent,
disclosure options, fee, one identity check per ticket, decisions with their approval, and the
`pending_approval` status.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from madoguchi.infra.db import UTCDateTime
from madoguchi.infra.migrations.parts import create_keyed_table, drop_table, json_type, owner

revision = "0005"
down_revision = "0004"

OLD_STATUSES = "'new', 'assigned', 'waiting_customer', 'resolved', 'rejected', 'withdrawn'"
STATUSES = ("'new', 'assigned', 'waiting_customer', 'pending_approval', 'resolved', "
            "'rejected', 'withdrawn'")
DECISION_STATES = "'effective', 'pending', 'approved', 'returned'"


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("received_at", UTCDateTime()))
        batch.add_column(sa.Column("notice_version", sa.String(64)))
        batch.add_column(sa.Column("agent_kind", sa.String(32)))
        batch.add_column(sa.Column("agent_relation", sa.String(200)))
        batch.add_column(sa.Column("disclosure_kind", sa.String(32)))
        batch.add_column(sa.Column("delivery_method", sa.String(32)))
        batch.add_column(sa.Column("disclosure_scope", sa.String(16)))
        batch.add_column(sa.Column("disclosure_items", json_type()))
        batch.add_column(sa.Column("fee_amount", sa.Integer()))
        batch.add_column(sa.Column("fee_told_at", UTCDateTime()))
    # Tickets from before: the request reached us when the ticket was made.
    op.execute("UPDATE tickets SET received_at = created_at")
    with op.batch_alter_table("tickets") as batch:
        batch.alter_column("received_at", existing_type=UTCDateTime(), nullable=False)
        batch.drop_constraint(op.f("ck_tickets_status"), type_="check")
        batch.create_check_constraint(op.f("ck_tickets_status"), f"status IN ({STATUSES})")

    create_keyed_table(
        "ticket_identity_checks",
        *owner("ticket_identity_checks", "ticket_id", "tickets", one_per_owner=True),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("received", sa.Text(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("verified_by", sa.String(64), nullable=False),
        sa.Column("verified_at", UTCDateTime(), nullable=False),
    )

    create_keyed_table(
        "ticket_decisions",
        *owner("ticket_decisions", "ticket_id", "tickets"),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("ground", sa.String(64)),
        sa.Column("explanation", sa.Text()),
        sa.Column("letter", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=False),
        sa.Column("approved_by", sa.String(64)),
        sa.Column("approved_at", UTCDateTime()),
        sa.Column("returned_by", sa.String(64)),
        sa.Column("returned_at", UTCDateTime()),
        sa.Column("return_reason", sa.Text()),
        sa.CheckConstraint(f"state IN ({DECISION_STATES})", name=op.f("ck_ticket_decisions_state")),
        indexes=["ticket_id"],
    )


def downgrade() -> None:
    drop_table("ticket_decisions", ["ticket_id"])
    drop_table("ticket_identity_checks")
    # A ticket waiting for approval goes back to its operator.
    op.execute("UPDATE tickets SET status = 'assigned' WHERE status = 'pending_approval'")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_constraint(op.f("ck_tickets_status"), type_="check")
        batch.create_check_constraint(op.f("ck_tickets_status"), f"status IN ({OLD_STATUSES})")
        for name in ("fee_told_at", "fee_amount", "disclosure_items", "disclosure_scope",
                     "delivery_method", "disclosure_kind", "agent_relation", "agent_kind",
                     "notice_version", "received_at"):
            batch.drop_column(name)
