"""people, tickets, timeline and outbox

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Ticket numbers: a sequence on PostgreSQL (no row lock held by concurrent creates), a counter row on SQLite
    # (whose writers are serialised anyway).
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE ticket_number_seq")
    op.create_table('agents',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('roles', JSON_DOC, nullable=False),
    sa.Column('groups', JSON_DOC, nullable=False),
    sa.Column('skills', JSON_DOC, nullable=False),
    sa.Column('regions', JSON_DOC, nullable=False),
    sa.Column('product_lines', JSON_DOC, nullable=False),
    sa.Column('supervisor', sa.String(length=128), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('max_open_tickets', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agents')),
    sa.UniqueConstraint('user_id', name=op.f('uq_agents_user_id'))
    )
    op.create_table('counters',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_counters'))
    )
    op.create_table('groups',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.String(length=1000), nullable=True),
    sa.Column('business_line', sa.String(length=64), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_groups')),
    sa.UniqueConstraint('key', name=op.f('uq_groups_key'))
    )
    op.create_table('outbox',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('aggregate_type', sa.String(length=32), nullable=False),
    sa.Column('aggregate_id', sa.Uuid(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('payload', JSON_DOC, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    op.create_table('timeline',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('subject_id', sa.Uuid(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=True),
    sa.Column('from_status', sa.String(length=32), nullable=True),
    sa.Column('to_status', sa.String(length=32), nullable=True),
    sa.Column('remark', sa.Text(), nullable=True),
    sa.Column('payload', JSON_DOC, nullable=False),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timeline'))
    )
    op.create_index(op.f('ix_timeline_subject_id_id'), 'timeline', ['subject_id', 'id'])

    op.create_table('tickets',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('customer_no', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=True),
    sa.Column('tags', JSON_DOC, nullable=False),
    sa.Column('order_no', sa.String(length=64), nullable=True),
    sa.Column('sku', sa.String(length=64), nullable=True),
    sa.Column('serial_no', sa.String(length=64), nullable=True),
    sa.Column('purchase_date', sa.Date(), nullable=True),
    sa.Column('warranty_status', sa.String(length=16), nullable=False),
    sa.Column('warranty_until', sa.Date(), nullable=True),
    sa.Column('fault_description', sa.Text(), nullable=True),
    sa.Column('expected_by', sa.DateTime(timezone=True), nullable=True),
    sa.Column('contact', JSON_DOC, nullable=False),
    sa.Column('region', sa.String(length=64), nullable=True),
    sa.Column('business_line', sa.String(length=64), nullable=True),
    sa.Column('attachments', JSON_DOC, nullable=False),
    sa.Column('assignee', sa.String(length=128), nullable=True),
    sa.Column('group_key', sa.String(length=64), nullable=True),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('urge_count', sa.Integer(), nullable=False),
    sa.Column('last_urged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution', JSON_DOC, nullable=True),
    sa.Column('follow_up_outcome', sa.String(length=16), nullable=True),
    sa.Column('close_reason', sa.String(length=32), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_no'], ['customers.customer_no'], name=op.f('fk_tickets_customer_no_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets')),
    sa.UniqueConstraint('number', name=op.f('uq_tickets_number'))
    )
    op.create_index(op.f('ix_tickets_assignee_status_id'), 'tickets', ['assignee', 'status', 'id'])
    op.create_index(op.f('ix_tickets_customer_no_id'), 'tickets', ['customer_no', 'id'])
    op.create_index(op.f('ix_tickets_order_no'), 'tickets', ['order_no'])
    op.create_index(op.f('ix_tickets_status_group_key_id'), 'tickets', ['status', 'group_key', 'id'])
    op.create_index(op.f('ix_tickets_status_id'), 'tickets', ['status', 'id'])
    op.create_index(op.f('ix_tickets_status_updated_at_id'), 'tickets', ['status', 'updated_at', 'id'])
    op.create_index(op.f('ix_tickets_updated_at_id'), 'tickets', ['updated_at', 'id'])

    op.create_table('ticket_tags',
    sa.Column('ticket_id', sa.Uuid(), nullable=False),
    sa.Column('tag', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_tags_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ticket_id', 'tag', name=op.f('pk_ticket_tags'))
    )
    op.create_index(op.f('ix_ticket_tags_tag_ticket_id'), 'ticket_tags', ['tag', 'ticket_id'])



def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE ticket_number_seq")
    op.drop_index(op.f('ix_ticket_tags_tag_ticket_id'), table_name='ticket_tags')

    op.drop_table('ticket_tags')
    op.drop_index(op.f('ix_tickets_updated_at_id'), table_name='tickets')
    op.drop_index(op.f('ix_tickets_status_updated_at_id'), table_name='tickets')
    op.drop_index(op.f('ix_tickets_status_id'), table_name='tickets')
    op.drop_index(op.f('ix_tickets_status_group_key_id'), table_name='tickets')
    op.drop_index(op.f('ix_tickets_order_no'), table_name='tickets')
    op.drop_index(op.f('ix_tickets_customer_no_id'), table_name='tickets')
    op.drop_index(op.f('ix_tickets_assignee_status_id'), table_name='tickets')

    op.drop_table('tickets')
    op.drop_index(op.f('ix_timeline_subject_id_id'), table_name='timeline')

    op.drop_table('timeline')
    op.drop_table('outbox')
    op.drop_table('groups')
    op.drop_table('counters')
    op.drop_table('agents')
