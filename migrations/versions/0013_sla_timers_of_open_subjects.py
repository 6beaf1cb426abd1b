"""SLA timers are kept for open subjects only: drop those of tickets already in a final state

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A subject reaching a final state now drops its timer (nothing of it can fall due), so that the timer scan and
    # the re-derivation walk read open subjects only. Timers written before that are dropped here.
    op.execute(
        "DELETE FROM sla_timers WHERE subject_type = 'ticket' AND subject_id IN "
        "(SELECT id FROM tickets WHERE status IN ('completed', 'closed', 'cancelled'))"
    )


def downgrade() -> None:
    # Nothing to restore: a final ticket's timer held no due time.
    pass
