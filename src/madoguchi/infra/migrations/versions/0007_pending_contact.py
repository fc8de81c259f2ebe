"""Contact data on its way from the chat to a ticket (`pending_contact`, issue 15 item 4): the
chat log holds placeholders, this table the clear values for a few hours.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from madoguchi.infra.db import UTCDateTime
from madoguchi.infra.migrations.parts import create_indexes, drop_table

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.create_table(
        "pending_contact",
        sa.Column("token", sa.String(16), nullable=False),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_pending_contact")),
    )
    create_indexes("pending_contact", ["conversation_id", "expires_at"])


def downgrade() -> None:
    drop_table("pending_contact")
