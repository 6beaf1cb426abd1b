"""review queues: the ordered queues after-sales orders are routed to on entering review, the queue each order went
to, and the indexes of a queue's pool and of a reviewer's claimed orders

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
UNCLAIMED_UNDER_REVIEW = "status = 'under_review' AND assignee IS NULL"
UNDER_REVIEW = "status = 'under_review'"


def upgrade() -> None:
    op.create_table(
        "review_queues",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("document", JSON, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("key", name="uq_review_queues_key"),
    )
    op.create_index("ix_review_queues_position_key", "review_queues", ["position", "key"])
    with op.batch_alter_table("after_sales_orders") as batch:
        batch.add_column(sa.Column("review_queue", sa.String(64)))
    op.create_index(
        "ix_after_sales_orders_review_pool",
        "after_sales_orders",
        ["review_queue", "id", "created_at"],
        postgresql_where=sa.text(UNCLAIMED_UNDER_REVIEW),
        sqlite_where=sa.text(UNCLAIMED_UNDER_REVIEW),
    )
    op.create_index(
        "ix_after_sales_orders_held_reviews",
        "after_sales_orders",
        ["assignee", "updated_at", "id"],
        postgresql_where=sa.text(UNDER_REVIEW),
        sqlite_where=sa.text(UNDER_REVIEW),
    )


def downgrade() -> None:
    op.drop_index("ix_after_sales_orders_held_reviews", table_name="after_sales_orders")
    op.drop_index("ix_after_sales_orders_review_pool", table_name="after_sales_orders")
    with op.batch_alter_table("after_sales_orders") as batch:
        batch.drop_column("review_queue")
    op.drop_table("review_queues")
