"""ticket risk flag: why a ticket was flagged high-risk, and when; partial indexes for the high-risk list filter

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

FLAGGED = "risk_flagged_at IS NOT NULL"
INDEXES = {
    "ix_tickets_flagged_status_id": ["status", "id"],
    "ix_tickets_flagged_status_updated_at_id": ["status", "updated_at", "id"],
}
"""A high-risk page reads only flagged tickets, once per status asked for (or per state), in page order."""


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("risk_flagged_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("risk_reasons", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")))
    if op.get_bind().dialect.name != "postgresql":
        for name, columns in INDEXES.items():
            op.create_index(name, "tickets", columns, sqlite_where=sa.text(FLAGGED))
        return
    # CONCURRENTLY, outside the migration's transaction: writers to tickets are not blocked while the indexes build.
    with op.get_context().autocommit_block():
        for name, columns in INDEXES.items():
            op.create_index(name, "tickets", columns, postgresql_where=sa.text(FLAGGED), postgresql_concurrently=True)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name in INDEXES:
        if postgres:
            with op.get_context().autocommit_block():
                op.drop_index(name, table_name="tickets", postgresql_concurrently=True)
        else:
            op.drop_index(name, table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("risk_reasons")
        batch.drop_column("risk_flagged_at")
