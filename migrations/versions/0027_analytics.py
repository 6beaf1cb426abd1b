"""analytics: ticket metrics rolled up per UTC hour and dimension, and the events already counted into them

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

DIMENSIONS = ("channel", "type", "category", "priority", "region", "product_line", "group_key", "business_line")


def upgrade() -> None:
    op.create_table(
        "ticket_rollups",
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("measure", sa.String(length=24), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.String(length=64), nullable=False) for name in DIMENSIONS),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "measure", "bucket", *DIMENSIONS, name=op.f("pk_ticket_rollups")),
    )
    op.create_table(
        "ticket_rollup_events",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_ticket_rollup_events")),
    )


def downgrade() -> None:
    op.drop_table("ticket_rollup_events")
    op.drop_table("ticket_rollups")
