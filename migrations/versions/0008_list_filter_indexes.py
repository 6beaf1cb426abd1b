"""list filter indexes: every list filter a caller can send seeks an index in page order

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Each index leads one list page's read (see the repositories' list functions and the filters' `check_served`):
# (filter…, sort key…, id). A filter whose index begins with status is read once per state and merged when the
# request names no status.
ADDED = (
    # GET /v1/tickets: assignee and status; priority, type or channel (± status); a created range; a customer's
    # tickets most recently updated first.
    ("tickets", "ix_tickets_assignee_status_id", ["assignee", "status", "id"]),
    ("tickets", "ix_tickets_status_priority_id", ["status", "priority", "id"]),
    ("tickets", "ix_tickets_status_type_id", ["status", "type", "id"]),
    ("tickets", "ix_tickets_status_channel_id", ["status", "channel", "id"]),
    ("tickets", "ix_tickets_created_at_id", ["created_at", "id"]),
    ("tickets", "ix_tickets_customer_no_updated_at_id", ["customer_no", "updated_at", "id"]),
    # GET /v1/after-sales: assignee alone; type and status; a created range.
    ("after_sales_orders", "ix_after_sales_orders_assignee_id", ["assignee", "id"]),
    ("after_sales_orders", "ix_after_sales_orders_status_type_id", ["status", "type", "id"]),
    ("after_sales_orders", "ix_after_sales_orders_created_at_id", ["created_at", "id"]),
    # GET /v1/tasks: assignee and status; group (± status); soonest due (± assignee) per state.
    ("tasks", "ix_tasks_parent_id_id", ["parent_id", "id"]),
    ("tasks", "ix_tasks_assignee_status_id", ["assignee", "status", "id"]),
    ("tasks", "ix_tasks_group_key_status_id", ["group_key", "status", "id"]),
    ("tasks", "ix_tasks_status_due_at_id", ["status", "due_at", "id"]),
    ("tasks", "ix_tasks_assignee_status_due_at_id", ["assignee", "status", "due_at", "id"]),
    # GET /v1/approvals?kind=
    ("approvals", "ix_approvals_status_subject_kind_id", ["status", "subject_kind", "id"]),
    # GET /v1/inbound-events?source= / ?type=
    ("inbound_events", "ix_inbound_events_status_source_id", ["status", "source", "id"]),
    ("inbound_events", "ix_inbound_events_status_type_id", ["status", "type", "id"]),
    # GET /v1/webhook-endpoints/{id}/deliveries (± status), newest first
    ("webhook_deliveries", "ix_webhook_deliveries_endpoint_id_status_id", ["endpoint_id", "status", "id"]),
)
# Served by ix_tasks_parent_id_id, which also gives a task's subtasks in id order.
DROPPED = (("tasks", "ix_tasks_parent_id", ["parent_id"]),)
UNGROUPED = "group_key IS NULL"
"""GET /v1/queues/pool, tickets of no group: a partial index, as `IS NULL` does not order an index by what follows."""
PARTIAL = (("tickets", "ix_tickets_ungrouped_status_id", ["status", "id"], UNGROUPED),)


def upgrade() -> None:
    _create(ADDED, PARTIAL)
    _drop(DROPPED)


def downgrade() -> None:
    _create(DROPPED, ())
    _drop((*ADDED, *((table, name, columns) for table, name, columns, _where in PARTIAL)))


Indexes = tuple[tuple[str, str, list[str]], ...]


def _create(indexes: Indexes, partial: tuple[tuple[str, str, list[str], str], ...]) -> None:
    """On PostgreSQL CONCURRENTLY, outside the migration's transaction: writers to large tables are not blocked
    while an index builds."""
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            for table, name, columns in indexes:
                op.create_index(name, table, columns, postgresql_concurrently=True)
            for table, name, columns, where in partial:
                op.create_index(name, table, columns, postgresql_where=sa.text(where), postgresql_concurrently=True)
        return
    for table, name, columns in indexes:
        op.create_index(name, table, columns)
    for table, name, columns, where in partial:
        op.create_index(name, table, columns, sqlite_where=sa.text(where))


def _drop(indexes: Indexes) -> None:
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            for table, name, _columns in indexes:
                op.drop_index(name, table_name=table, postgresql_concurrently=True)
        return
    for table, name, _columns in indexes:
        op.drop_index(name, table_name=table)
