"""export indexes: tasks by creation and survey answers by answer time, in (time, id) order, so that their CSV
exports read each keyset page as one index range scan

Revision ID: 0030
Revises: 0029
"""

from __future__ import annotations

from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tasks_created_at_id", "tasks", ["created_at", "id"])
    op.create_index("ix_surveys_answered_at_id", "surveys", ["answered_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_surveys_answered_at_id", table_name="surveys")
    op.drop_index("ix_tasks_created_at_id", table_name="tasks")
