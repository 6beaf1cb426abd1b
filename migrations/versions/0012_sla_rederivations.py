"""SLA re-derivations: requests to derive open tickets' timers again after a policy or calendar change, with their
keyset cursor and progress

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One row per committed change (a handful a day): the primary key (time-ordered) serves the newest-first list and
    # the claim of the newest unfinished request.
    op.create_table(
        "sla_rederivations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("after_subject_id", sa.Uuid(), nullable=True),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("superseded_by", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_rederivations")),
    )


def downgrade() -> None:
    op.drop_table("sla_rederivations")
