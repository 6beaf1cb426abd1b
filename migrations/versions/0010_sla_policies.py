"""SLA policies: ordered per subject, the conditions, targets, pauses, warning and escalation as one document

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# JSON documents: JSONB on PostgreSQL, JSON text on SQLite.
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A policy is read and written whole: its rules are one document. (subject, position) is indexed for the ordered
    # read but not unique: a reorder rewrites positions row by row, which a unique constraint would refuse midway
    # (SQLite cannot defer one); the service keeps positions 1..n under a write lock instead.
    op.create_table(
        "sla_policies",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("document", JSON_DOC, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policies")),
        sa.UniqueConstraint("key", name=op.f("uq_sla_policies_key")),
    )
    op.create_index(op.f("ix_sla_policies_subject_position"), "sla_policies", ["subject", "position"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_sla_policies_subject_position"), table_name="sla_policies")
    op.drop_table("sla_policies")
