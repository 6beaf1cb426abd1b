"""ticket auto-close index: per type, the tickets pending follow-up by resolution time

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

NAME = "ix_tickets_pending_follow_up_type_resolved_at"
PENDING = "status = 'pending_follow_up'"
"""The auto-close job's claim: one range read per type up to its cutoff, holding only the tickets it may complete."""


def upgrade() -> None:
    # On PostgreSQL CONCURRENTLY, outside the migration's transaction: writers to tickets are not blocked while the
    # index builds.
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.create_index(
                NAME,
                "tickets",
                ["type", "resolved_at"],
                postgresql_where=sa.text(PENDING),
                postgresql_concurrently=True,
            )
        return
    op.create_index(NAME, "tickets", ["type", "resolved_at"], sqlite_where=sa.text(PENDING))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.drop_index(NAME, table_name="tickets", postgresql_concurrently=True)
        return
    op.drop_index(NAME, table_name="tickets")
