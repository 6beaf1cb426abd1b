"""churn warning: each customer's stored churn score, its reasons, when it was computed and last warned; indexes for
the customer list's filter by score and for the refresh of scores whose facts leave the window

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_customers_scored_churn_score_id": (["churn_score", "id"], "churn_score IS NOT NULL"),
    "ix_customers_at_risk_churn_scored_at": (["churn_scored_at"], "churn_score > 0"),
}
"""The list filter reads scored customers only, highest score first; the refresh reads the scores above 0, oldest
first. Customers never scored (most of them) are in neither."""


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("churn_score", sa.Integer()))
        batch.add_column(sa.Column("churn_reasons", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")))
        batch.add_column(sa.Column("churn_scored_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("churn_warned_at", sa.DateTime(timezone=True)))
    if op.get_bind().dialect.name != "postgresql":
        for name, (columns, where) in INDEXES.items():
            op.create_index(name, "customers", columns, sqlite_where=sa.text(where))
        return
    # CONCURRENTLY, outside the migration's transaction: upserts of customers are not blocked while the indexes build.
    with op.get_context().autocommit_block():
        for name, (columns, where) in INDEXES.items():
            op.create_index(name, "customers", columns, postgresql_where=sa.text(where), postgresql_concurrently=True)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name in INDEXES:
        if postgres:
            with op.get_context().autocommit_block():
                op.drop_index(name, table_name="customers", postgresql_concurrently=True)
        else:
            op.drop_index(name, table_name="customers")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("churn_warned_at")
        batch.drop_column("churn_scored_at")
        batch.drop_column("churn_reasons")
        batch.drop_column("churn_score")
