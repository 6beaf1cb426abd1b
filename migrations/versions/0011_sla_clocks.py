"""SLA clocks: the append-only clock event log per subject and each subject's next due instant for the timer scan

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# JSON documents: JSONB on PostgreSQL, JSON text on SQLite.
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Events are never updated: a clock's deadline, pauses and breaches are derived from them. (subject_id, id) serves
    # the read of one subject's log in append order, and a page's logs in one query.
    op.create_table(
        "sla_clock_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("target", JSON_DOC, nullable=True),
        sa.Column("warning", JSON_DOC, nullable=True),
        sa.Column("policy_key", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_clock_events")),
    )
    op.create_index(op.f("ix_sla_clock_events_subject_id_id"), "sla_clock_events", ["subject_id", "id"], unique=False)
    # The timer scan claims rows whose due_at has passed, through this index: O(due), not O(subjects).
    op.create_table(
        "sla_timers",
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_sla_timers")),
    )
    op.create_index(op.f("ix_sla_timers_due_at"), "sla_timers", ["due_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_sla_timers_due_at"), table_name="sla_timers")
    op.drop_table("sla_timers")
    op.drop_index(op.f("ix_sla_clock_events_subject_id_id"), table_name="sla_clock_events")
    op.drop_table("sla_clock_events")
