"""after-sales orders, ledgers and settings

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # After-sales numbers: a sequence on PostgreSQL, the counter row on SQLite (as for ticket numbers).
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE after_sales_number_seq")
    op.create_table('service_settings',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', JSON_DOC, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_by', sa.String(length=128), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_service_settings'))
    )
    op.create_table('after_sales_orders',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('order_no', sa.String(length=64), nullable=False),
    sa.Column('customer_no', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('reason_code', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('attachments', JSON_DOC, nullable=False),
    sa.Column('ticket_id', sa.Uuid(), nullable=True),
    sa.Column('compensation_kind', sa.String(length=16), nullable=True),
    sa.Column('assignee', sa.String(length=128), nullable=True),
    sa.Column('reviewed_by', sa.String(length=128), nullable=True),
    sa.Column('review_rule', sa.String(length=64), nullable=True),
    sa.Column('lightning', sa.Boolean(), nullable=False),
    sa.Column('return_shipment', JSON_DOC, nullable=False),
    sa.Column('replacement_shipment', JSON_DOC, nullable=False),
    sa.Column('inspection_passed', sa.Boolean(), nullable=True),
    sa.Column('payment_attempts', sa.Integer(), nullable=False),
    sa.Column('payment_reference', sa.String(length=128), nullable=True),
    sa.Column('urge_count', sa.Integer(), nullable=False),
    sa.Column('last_urged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_no'], ['customers.customer_no'], name=op.f('fk_after_sales_orders_customer_no_customers')),
    sa.ForeignKeyConstraint(['order_no'], ['sales_orders.order_no'], name=op.f('fk_after_sales_orders_order_no_sales_orders')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_after_sales_orders_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_after_sales_orders')),
    sa.UniqueConstraint('number', name=op.f('uq_after_sales_orders_number'))
    )
    with op.batch_alter_table('after_sales_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_after_sales_orders_assignee_status_id'), ['assignee', 'status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_after_sales_orders_customer_no_created_at'), ['customer_no', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_after_sales_orders_customer_no_id'), ['customer_no', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_after_sales_orders_order_no_id'), ['order_no', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_after_sales_orders_status_id'), ['status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_after_sales_orders_type_id'), ['type', 'id'], unique=False)

    op.create_table('order_ledgers',
    sa.Column('order_no', sa.String(length=64), nullable=False),
    sa.Column('reserved', sa.BigInteger(), nullable=False),
    sa.Column('refunded', sa.BigInteger(), nullable=False),
    sa.Column('compensated', sa.BigInteger(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['order_no'], ['sales_orders.order_no'], name=op.f('fk_order_ledgers_order_no_sales_orders')),
    sa.PrimaryKeyConstraint('order_no', name=op.f('pk_order_ledgers'))
    )
    op.create_table('after_sales_lines',
    sa.Column('after_sales_id', sa.Uuid(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['after_sales_id'], ['after_sales_orders.id'], name=op.f('fk_after_sales_lines_after_sales_id_after_sales_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('after_sales_id', 'line_no', name=op.f('pk_after_sales_lines'))
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE after_sales_number_seq")
    op.drop_table('after_sales_lines')
    op.drop_table('order_ledgers')
    with op.batch_alter_table('after_sales_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_after_sales_orders_type_id'))
        batch_op.drop_index(batch_op.f('ix_after_sales_orders_status_id'))
        batch_op.drop_index(batch_op.f('ix_after_sales_orders_order_no_id'))
        batch_op.drop_index(batch_op.f('ix_after_sales_orders_customer_no_id'))
        batch_op.drop_index(batch_op.f('ix_after_sales_orders_customer_no_created_at'))
        batch_op.drop_index(batch_op.f('ix_after_sales_orders_assignee_status_id'))

    op.drop_table('after_sales_orders')
    op.drop_table('service_settings')
