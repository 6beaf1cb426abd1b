"""ticket list indexes: every common list filter seeks its index in keyset order

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# assignee = ? ORDER BY id / (updated_at, id); assignee = ? AND status = ? ORDER BY (updated_at, id) (GET
# /v1/queues/mine, one seek per open state); group_key = ? ORDER BY id.
ADDED = (
    ('ix_tickets_assignee_id', ['assignee', 'id']),
    ('ix_tickets_assignee_updated_at_id', ['assignee', 'updated_at', 'id']),
    ('ix_tickets_assignee_status_updated_at_id', ['assignee', 'status', 'updated_at', 'id']),
    ('ix_tickets_group_key_id', ['group_key', 'id']),
)
# Served by the ones above: it could not give an assignee's tickets in id order.
DROPPED = (('ix_tickets_assignee_status_id', ['assignee', 'status', 'id']),)


def upgrade() -> None:
    _create(ADDED)
    _drop(DROPPED)


def downgrade() -> None:
    _create(DROPPED)
    _drop(ADDED)


def _create(indexes: tuple[tuple[str, list[str]], ...]) -> None:
    """On PostgreSQL CONCURRENTLY, outside the migration's transaction: writers to a large tickets table are not
    blocked while the index builds."""
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            for name, columns in indexes:
                op.create_index(name, 'tickets', columns, unique=False, postgresql_concurrently=True)
        return
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        for name, columns in indexes:
            batch_op.create_index(name, columns, unique=False)


def _drop(indexes: tuple[tuple[str, list[str]], ...]) -> None:
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            for name, _columns in indexes:
                op.drop_index(name, table_name='tickets', postgresql_concurrently=True)
        return
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        for name, _columns in indexes:
            batch_op.drop_index(name)
