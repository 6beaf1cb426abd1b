"""dispatch: the agent's availability, shift calendar and last assignment, the group's shift calendar, the ordered
dispatch rules, every decision made, and the backlog of work waiting for capacity

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("availability", sa.String(16), nullable=False, server_default="available"))
        batch.add_column(sa.Column("calendar", sa.String(64)))
        batch.add_column(sa.Column("last_assigned_at", sa.DateTime(timezone=True)))
    with op.batch_alter_table("groups") as batch:
        batch.add_column(sa.Column("calendar", sa.String(64)))
    op.create_table(
        "dispatch_rules",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("document", JSON, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("key", name="uq_dispatch_rules_key"),
    )
    op.create_index("ix_dispatch_rules_position", "dispatch_rules", ["position"])
    op.create_table(
        "dispatch_decisions",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("subject_type", sa.String(32), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("trigger", sa.String(32), nullable=False),
        sa.Column("rule_key", sa.String(64)),
        sa.Column("strategy", sa.String(32), nullable=False),
        sa.Column("group_key", sa.String(64)),
        sa.Column("winner", sa.String(128)),
        sa.Column("considered", JSON, nullable=False),
        sa.Column("steps", JSON, nullable=False),
        sa.Column("pool_reason", sa.Text()),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_dispatch_decisions_subject_id_decided_at", "dispatch_decisions", ["subject_id", "decided_at"])
    op.create_table(
        "dispatch_backlog",
        sa.Column(
            "ticket_id",
            sa.Uuid(),
            sa.ForeignKey("tickets.id", name="fk_dispatch_backlog_ticket_id_tickets", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("group_key", sa.String(64), nullable=False),
        sa.Column("priority_rank", sa.Integer(), nullable=False),
        sa.Column("waiting_since", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_dispatch_backlog_group_key_priority_rank_waiting_since",
        "dispatch_backlog",
        ["group_key", "priority_rank", "waiting_since"],
    )


def downgrade() -> None:
    op.drop_table("dispatch_backlog")
    op.drop_table("dispatch_decisions")
    op.drop_table("dispatch_rules")
    with op.batch_alter_table("groups") as batch:
        batch.drop_column("calendar")
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("last_assigned_at")
        batch.drop_column("calendar")
        batch.drop_column("availability")
