"""tasks, approvals, notifications and group membership

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Task numbers: a sequence on PostgreSQL, the counter row on SQLite (as for ticket numbers).
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE task_number_seq")
    op.create_table('approvals',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('subject_kind', sa.String(length=32), nullable=False),
    sa.Column('subject_id', sa.Uuid(), nullable=False),
    sa.Column('subject_ref', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('facts', JSON_DOC, nullable=False),
    sa.Column('requested_by', sa.String(length=128), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('current_level', sa.Integer(), nullable=False),
    sa.Column('levels', JSON_DOC, nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approvals'))
    )
    with op.batch_alter_table('approvals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approvals_status_id'), ['status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_approvals_subject_id_id'), ['subject_id', 'id'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('recipient', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('subject_type', sa.String(length=32), nullable=False),
    sa.Column('subject_id', sa.Uuid(), nullable=False),
    sa.Column('subject_ref', sa.String(length=32), nullable=False),
    sa.Column('title', JSON_DOC, nullable=False),
    sa.Column('data', JSON_DOC, nullable=False),
    sa.Column('unread', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dedupe_key', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_notifications_dedupe_key'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_recipient_unread_id'), ['recipient', 'unread', 'id'], unique=False)

    op.create_table('agent_group_members',
    sa.Column('group_key', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['agents.user_id'], name=op.f('fk_agent_group_members_user_id_agents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_key', 'user_id', name=op.f('pk_agent_group_members'))
    )
    with op.batch_alter_table('agent_group_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_group_members_user_id'), ['user_id'], unique=False)
    # Membership so far lived only in agents.groups (a JSON list): copy it into the table.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "INSERT INTO agent_group_members (group_key, user_id) "
            "SELECT DISTINCT jsonb_array_elements_text(groups), user_id FROM agents"
        )
    else:
        op.execute(
            "INSERT INTO agent_group_members (group_key, user_id) "
            "SELECT DISTINCT json_each.value, agents.user_id FROM agents, json_each(agents.groups)"
        )

    op.create_table('approval_approvers',
    sa.Column('approval_id', sa.Uuid(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('approver', sa.String(length=160), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=True),
    sa.Column('decided_by', sa.String(length=128), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('data', JSON_DOC, nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['approval_id'], ['approvals.id'], name=op.f('fk_approval_approvers_approval_id_approvals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('approval_id', 'level', 'approver', name=op.f('pk_approval_approvers'))
    )
    with op.batch_alter_table('approval_approvers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approval_approvers_approver_decision_approval_id'), ['approver', 'decision', 'approval_id'], unique=False)

    op.create_table('tasks',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('ticket_id', sa.Uuid(), nullable=False),
    sa.Column('parent_id', sa.Uuid(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('instructions', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('assignee', sa.String(length=128), nullable=True),
    sa.Column('group_key', sa.String(length=64), nullable=True),
    sa.Column('business_line', sa.String(length=64), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('estimated_centihours', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reported_centihours', sa.Integer(), nullable=True),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attachments', JSON_DOC, nullable=False),
    sa.Column('approved_centihours', sa.Integer(), nullable=True),
    sa.Column('approved_by', sa.String(length=128), nullable=True),
    sa.Column('approval_comment', sa.Text(), nullable=True),
    sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('cancel_reason', sa.String(length=500), nullable=True),
    sa.Column('return_count', sa.Integer(), nullable=False),
    sa.Column('due_soon_notified', sa.Boolean(), nullable=False),
    sa.Column('overdue_notified', sa.Boolean(), nullable=False),
    sa.Column('next_reminder_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['tasks.id'], name=op.f('fk_tasks_parent_id_tasks')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_tasks_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks')),
    sa.UniqueConstraint('number', name=op.f('uq_tasks_number'))
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tasks_assignee_completed_at'), ['assignee', 'completed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tasks_assignee_id'), ['assignee', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tasks_due_at_id'), ['due_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tasks_next_reminder_at'), ['next_reminder_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tasks_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tasks_status_id'), ['status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tasks_ticket_id_id'), ['ticket_id', 'id'], unique=False)



def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE task_number_seq")
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tasks_ticket_id_id'))
        batch_op.drop_index(batch_op.f('ix_tasks_status_id'))
        batch_op.drop_index(batch_op.f('ix_tasks_parent_id'))
        batch_op.drop_index(batch_op.f('ix_tasks_next_reminder_at'))
        batch_op.drop_index(batch_op.f('ix_tasks_due_at_id'))
        batch_op.drop_index(batch_op.f('ix_tasks_assignee_id'))
        batch_op.drop_index(batch_op.f('ix_tasks_assignee_completed_at'))

    op.drop_table('tasks')
    with op.batch_alter_table('approval_approvers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approval_approvers_approver_decision_approval_id'))

    op.drop_table('approval_approvers')
    with op.batch_alter_table('agent_group_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_group_members_user_id'))

    op.drop_table('agent_group_members')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_recipient_unread_id'))

    op.drop_table('notifications')
    with op.batch_alter_table('approvals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approvals_subject_id_id'))
        batch_op.drop_index(batch_op.f('ix_approvals_status_id'))

    op.drop_table('approvals')
