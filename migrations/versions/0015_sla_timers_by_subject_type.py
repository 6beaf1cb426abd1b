"""SLA timers indexed by subject type and due time: each subject's scan, and the check of which subjects have
timers due, read due timers of that subject only

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_sla_timers_subject_type_due_at"), "sla_timers", ["subject_type", "due_at"], unique=False)
    op.drop_index(op.f("ix_sla_timers_due_at"), table_name="sla_timers")


def downgrade() -> None:
    op.create_index(op.f("ix_sla_timers_due_at"), "sla_timers", ["due_at"], unique=False)
    op.drop_index(op.f("ix_sla_timers_subject_type_due_at"), table_name="sla_timers")
