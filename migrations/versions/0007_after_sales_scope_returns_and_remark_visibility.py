"""after-sales business line and return receipt; timeline remarks the customer may read

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('after_sales_orders') as batch:
        batch.add_column(sa.Column('business_line', sa.String(64)))
        batch.add_column(sa.Column('returned_at', sa.DateTime(timezone=True)))
        batch.create_index('ix_after_sales_orders_business_line_id', ['business_line', 'id'])
    # The product line of an order's first line of goods, as new orders take it.
    op.execute(
        """
        UPDATE after_sales_orders SET business_line = (
            SELECT p.product_line FROM after_sales_lines l JOIN products p ON p.sku = l.sku
            WHERE l.after_sales_id = after_sales_orders.id ORDER BY l.line_no LIMIT 1)
        """
    )
    op.execute(
        "UPDATE after_sales_orders SET returned_at = updated_at "
        "WHERE type = 'return_refund' AND inspection_passed IS NOT NULL"
    )
    with op.batch_alter_table('timeline') as batch:
        batch.add_column(sa.Column('remark_public', sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table('timeline') as batch:
        batch.drop_column('remark_public')
    with op.batch_alter_table('after_sales_orders') as batch:
        batch.drop_index('ix_after_sales_orders_business_line_id')
        batch.drop_column('returned_at')
        batch.drop_column('business_line')
