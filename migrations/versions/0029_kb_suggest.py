"""knowledge base suggestions: synonym groups (one row per group, one per folded term so that no term sits in two
groups), and the searches that found nothing (one row per folded query and business line)

Revision ID: 0029
Revises: 0028
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "kb_synonym_groups",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("terms", JSON, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_synonym_groups")),
    )
    op.create_index(op.f("ix_kb_synonym_groups_created_at_id"), "kb_synonym_groups", ["created_at", "id"])
    op.create_table(
        "kb_synonym_terms",
        sa.Column("term", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["kb_synonym_groups.id"], name=op.f("fk_kb_synonym_terms_group_id_kb_synonym_groups")
        ),
        sa.PrimaryKeyConstraint("term", name=op.f("pk_kb_synonym_terms")),
    )
    op.create_index(op.f("ix_kb_synonym_terms_group_id"), "kb_synonym_terms", ["group_id"])
    op.create_table(
        "kb_search_misses",
        sa.Column("business_line", sa.String(length=64), nullable=False),
        sa.Column("query", sa.String(length=200), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("business_line", "query", name=op.f("pk_kb_search_misses")),
    )
    op.create_index(op.f("ix_kb_search_misses_last_seen"), "kb_search_misses", ["last_seen"])


def downgrade() -> None:
    op.drop_index(op.f("ix_kb_search_misses_last_seen"), table_name="kb_search_misses")
    op.drop_table("kb_search_misses")
    op.drop_index(op.f("ix_kb_synonym_terms_group_id"), table_name="kb_synonym_terms")
    op.drop_table("kb_synonym_terms")
    op.drop_index(op.f("ix_kb_synonym_groups_created_at_id"), table_name="kb_synonym_groups")
    op.drop_table("kb_synonym_groups")
