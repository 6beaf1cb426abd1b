"""agent assignment count: every assignment an agent is given counts up `agents.assignments`, under the lock that
gives it, so that a dispatch decision knows its read of the agent is current by the count (a timestamp repeats
under a clock that stands still)

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("assignments", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("assignments")
