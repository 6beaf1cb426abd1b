"""The other lists that grow with the business (after-sales orders, tasks, approvals, inbound events, webhook
deliveries, the inbox): every filter combination their API offers reads about a page on PostgreSQL, or is refused
before any SQL. The same method as tests/integration/test_ticket_indexes.py: rows spread so that a filter applied to
what a broader index returns reads thousands, executed plans, rows read counted."""

# ruff: noqa: S608 - the spreads are our own constant SQL
from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.after_sales import AfterSalesFilter, AfterSalesType
from app.domain.approvals import ApprovalFilter, Status, SubjectKind
from app.domain.errors import InvalidInput
from app.domain.inbound import InboundFilter, InboundStatus
from app.domain.pagination import PageRequest
from app.domain.principal import Principal, Role
from app.domain.tasks import TaskFilter
from app.domain.webhooks import DeliveryStatus
from app.persistence.after_sales import SqlAfterSalesRepository
from app.persistence.approvals import SqlApprovalRepository
from app.persistence.inbound import SqlInboundEventRepository
from app.persistence.notifications import SqlNotificationRepository
from app.persistence.tasks import SqlTaskRepository
from app.persistence.webhooks import SqlWebhookRepository
from tests.sql_capture import executed_plans, scanned

pytestmark = pytest.mark.postgres_only

LIMIT = 20
ROWS = 20_000
NOW = datetime(2025, 7, 1, tzinfo=UTC)
NARROWED = 50  # one customer's, order's, ticket's or parent task's rows, or the pending approvals


def _uuid(seed: str) -> UUID:
    return UUID(hashlib.md5(seed.encode()).hexdigest())  # noqa: S324 - a repeatable id, not a secret


TICKET, PARENT, ENDPOINT = _uuid("ticket-1"), _uuid("task-1"), _uuid("endpoint-1")

_CUSTOMERS = """INSERT INTO customers (id, customer_no, name, level, contact_channels, version, created_at, updated_at)
    SELECT gen_random_uuid(), 'C-' || g, 'customer', 'normal', '[]', 1, now(), now() FROM generate_series(1, 2) AS g"""
_TICKETS = """INSERT INTO tickets (id, number, customer_no, channel, type, priority, status, title, description, tags,
        warranty_status, contact, attachments, escalation_level, urge_count, created_by, version, created_at,
        updated_at)
    SELECT md5('ticket-' || g)::uuid, 'T-' || g, 'C-1', 'app', 'repair', 'normal', 'new', 't', 'd', '[]', 'unknown',
        '{}', '[]', 0, 0, 'test', 1, now(), now() FROM generate_series(1, 2) AS g"""
_DATES = "timestamptz '2024-06-01Z' + g * interval '1 hour'"  # two years around NOW

# In each table the sample values of leading filters are common (a third of the rows), the sample states and the
# narrowing keys' rows few or none.
SPREADS = {
    "after-sales": (
        _CUSTOMERS,
        """INSERT INTO sales_orders (id, order_no, customer_no, currency, shipping_fee, discount_amount, paid_amount,
            payment_status, fulfilment_status, placed_at, version, created_at, updated_at)
        SELECT gen_random_uuid(), 'SO-' || g, 'C-' || g, 'CNY', 0, 0, 100, 'paid', 'signed', now(), 1, now(), now()
        FROM generate_series(1, 2) AS g""",
        f"""INSERT INTO after_sales_orders (id, number, order_no, customer_no, type, status, currency, amount,
            reason_code, attachments, lightning, return_shipment, replacement_shipment, payment_attempts,
            urge_count, escalation_level, assignee, created_by, version, created_at, updated_at)
        SELECT gen_random_uuid(), 'AS-' || g, CASE WHEN g % 500 = 0 THEN 'SO-1' ELSE 'SO-2' END,
            CASE WHEN g % 500 = 0 THEN 'C-1' ELSE 'C-2' END,
            CASE WHEN g % 3 = 0 THEN 'refund' ELSE 'exchange' END,
            (ARRAY['refunded', 'cancelled', 'shipping'])[1 + g % 3], 'CNY', 100, 'r', '[]', false, '{{}}', '{{}}',
            0, 0, 0, CASE WHEN g % 3 = 1 THEN 'agent-1' ELSE 'agent-' || (2 + g % 300) END, 'test', 1, {_DATES},
            {_DATES}
        FROM generate_series(1, {ROWS}) AS g""",
    ),
    "tasks": (
        _CUSTOMERS,
        _TICKETS,
        f"""INSERT INTO tasks (id, number, ticket_id, parent_id, title, status, assignee, group_key, due_at,
            attachments, return_count, due_soon_notified, overdue_notified, created_by, version, created_at,
            updated_at)
        SELECT md5('task-' || g)::uuid, 'K-' || g, CASE WHEN g % 500 = 0 THEN '{TICKET}'::uuid
            ELSE md5('ticket-2')::uuid END, CASE WHEN g % 500 = 7 THEN '{PARENT}'::uuid END, 't',
            CASE g % 100 WHEN 0 THEN 'open' WHEN 1 THEN 'in_progress' ELSE 'cancelled' END,
            CASE WHEN g % 3 = 1 THEN 'agent-1' ELSE 'agent-' || (2 + g % 300) END,
            CASE WHEN g % 3 = 2 THEN 'east' ELSE 'g' || g % 40 END,
            {_DATES}, '[]', 0, false, false, 'test', 1, {_DATES}, {_DATES}
        FROM generate_series(1, {ROWS}) AS g""",
    ),
    "approvals": (
        f"""INSERT INTO approvals (id, subject_kind, subject_id, subject_ref, title, facts, requested_by, status,
            current_level, levels, version, created_at, updated_at)
        SELECT gen_random_uuid(), CASE WHEN g % 3 = 0 THEN 'task_hours' ELSE 'after_sales_review' END,
            CASE WHEN g % 500 = 0 THEN '{TICKET}'::uuid ELSE gen_random_uuid() END, 'K-' || g, 't', '{{}}',
            'agent-2', CASE WHEN g % 500 = 1 THEN 'pending' ELSE 'cancelled' END, 1, '[]', 1, {_DATES}, {_DATES}
        FROM generate_series(1, {ROWS}) AS g""",
    ),
    "inbound-events": (
        f"""INSERT INTO inbound_events (id, source, webhook_id, type, payload, status, received_at)
        SELECT gen_random_uuid(), CASE WHEN g % 3 = 0 THEN 'crm' ELSE 'erp' END, 'w-' || g,
            CASE WHEN g % 3 = 1 THEN 'customer.updated' ELSE 'order.updated' END, '{{}}',
            (ARRAY['received', 'processed'])[1 + g % 2], {_DATES}
        FROM generate_series(1, {ROWS}) AS g""",
    ),
    "deliveries": (
        f"""INSERT INTO webhook_endpoints (id, url, event_types, enabled, secret, created_by, version, created_at,
            updated_at)
        VALUES ('{ENDPOINT}', 'https://example.com/hook', '[]', true, 's', 'admin', 1, now(), now()),
            (md5('endpoint-2')::uuid, 'https://example.com/other', '[]', true, 's', 'admin', 1, now(), now())""",
        f"""INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, sequence, status, attempts,
            created_at, updated_at)
        SELECT gen_random_uuid(), CASE WHEN g % 3 = 0 THEN '{ENDPOINT}'::uuid ELSE md5('endpoint-2')::uuid END,
            gen_random_uuid(), 'ticket.created', g, CASE WHEN g % 100 = 0 THEN 'pending' ELSE 'succeeded' END, 1,
            {_DATES}, {_DATES}
        FROM generate_series(1, {ROWS}) AS g""",
    ),
    "notifications": (
        f"""INSERT INTO notifications (id, recipient, kind, subject_type, subject_id, subject_ref, title, data,
            unread, created_at)
        SELECT gen_random_uuid(), CASE WHEN g % 3 = 0 THEN 'agent-1' ELSE 'agent-' || (2 + g % 300) END, 'assignment',
            'ticket', gen_random_uuid(), 'T-' || g, '{{}}', '{{}}', CASE WHEN g % 100 = 0 THEN 1 ELSE 0 END,
            {_DATES}
        FROM generate_series(1, {ROWS}) AS g""",
    ),
}

MANAGER = Principal("manager-1", frozenset({Role.MANAGER}))
Read = Callable[[AsyncConnection, dict[str, Any], PageRequest], Awaitable[Any]]


@dataclass(frozen=True)
class ListCase:
    path: str
    samples: dict[str, dict[str, Any]]  # query parameter → filter fields
    read: Read
    leading: int = 1  # how many of the samples' states a merged read may seek at most (its parts)
    narrowing: frozenset[str] = frozenset()  # one owner's few rows: read and sorted whole (sorting allowed)


CASES = {
    "after-sales": ListCase(
        "/v1/after-sales",
        {
            "type": {"types": (AfterSalesType.REFUND, AfterSalesType.COMPENSATION)},
            "status": {"statuses": ("under_review", "payment_failed")},
            "customer_no": {"customer_no": "C-1"},
            "order_no": {"order_no": "SO-1"},
            "assignee": {"assignee": "agent-1"},
            "created_from": {"created_from": datetime(2025, 1, 1, tzinfo=UTC)},
            "created_to": {"created_to": NOW},
        },
        lambda conn, f, page: SqlAfterSalesRepository(conn).list(AfterSalesFilter(**f), page),
        leading=4,
    ),
    "tasks": ListCase(
        "/v1/tasks",
        {
            "assignee": {"assignee": "agent-1"},
            "status": {"statuses": ("reported", "approved")},
            "ticket_id": {"ticket_id": TICKET},
            "group": {"group_key": "east"},
            "parent_id": {"parent_id": PARENT},
            "due_before": {"due_before": NOW},
            "overdue": {"overdue_at": NOW},
        },
        lambda conn, f, page: SqlTaskRepository(conn).list(TaskFilter(**f), page),
        leading=5,
        narrowing=frozenset({"ticket_id", "parent_id"}),
    ),
    "approvals": ListCase(
        "/v1/approvals",
        {
            "mine": {"approver": MANAGER},
            "status": {"statuses": (Status.APPROVED, Status.REJECTED)},
            "kind": {"kind": SubjectKind.TASK_HOURS},
            "subject_id": {"subject_id": TICKET},
        },
        lambda conn, f, page: SqlApprovalRepository(conn).list(ApprovalFilter(**f), page),
        leading=4,
    ),
    "inbound-events": ListCase(
        "/v1/inbound-events",
        {
            "source": {"source": "crm"},
            "status": {"status": InboundStatus.FAILED},
            "type": {"type": "customer.updated"},
        },
        lambda conn, f, page: SqlInboundEventRepository(conn).list(InboundFilter(**f), page),
        leading=len(InboundStatus),
    ),
    "deliveries": ListCase(
        "/v1/webhook-endpoints/{id}/deliveries",
        {"status": {"status": DeliveryStatus.DEAD}},
        lambda conn, f, page: SqlWebhookRepository(conn).deliveries(ENDPOINT, f.get("status"), page),
        leading=len(DeliveryStatus),
    ),
    "notifications": ListCase(
        "/v1/me/notifications",
        {"unread": {"unread_only": True}},
        lambda conn, f, page: SqlNotificationRepository(conn).inbox("agent-1", page, unread_only=bool(f)),
    ),
}
NOT_FILTERS = {"limit", "cursor", "id"}


@pytest.fixture
async def spread(app, request) -> AsyncIterator[AsyncConnection]:
    """The list's rows, sequential scans, bitmaps and sorts priced out; rolled back at the end."""
    async with app.state.services.database.engine.connect() as conn:
        for statement in SPREADS[request.param]:
            await conn.exec_driver_sql(statement)
        await conn.exec_driver_sql("ANALYZE")
        for planner_method in ("seqscan", "bitmapscan", "sort"):
            await conn.execute(text(f"SET LOCAL enable_{planner_method} = off"))
        yield conn


@pytest.mark.parametrize("name", list(CASES))
async def test_every_list_filter_of_the_api_has_a_sample_here(app, name):
    path = CASES[name].path
    parameters = app.openapi()["paths"][path]["get"]["parameters"]

    assert {p["name"] for p in parameters if p["in"] == "query"} - NOT_FILTERS == set(CASES[name].samples)


@pytest.mark.parametrize("spread", list(CASES), indirect=True)
async def test_every_served_filter_combination_reads_about_a_page(spread, request):
    case = CASES[request.node.callspec.params["spread"]]
    served, costly = 0, {}
    for size in range(len(case.samples) + 1):
        for combo in itertools.combinations(sorted(case.samples), size):
            fields = {k: v for name in combo for k, v in case.samples[name].items()}
            sorting = "on" if case.narrowing & set(combo) else "off"
            await spread.execute(text(f"SET LOCAL enable_sort = {sorting}"))
            try:
                plans = await executed_plans(spread, lambda f=fields: case.read(spread, f, PageRequest(LIMIT)))
            except InvalidInput:
                continue  # refused before any SQL
            served += 1
            # keys per part, the page's rows, the page's lines or votes, a narrowed owner's few rows
            bound = (case.leading + 3) * (LIMIT + 1) + NARROWED
            for plan in plans:
                read = scanned(plan)
                if read.rows > bound or read.sequential:
                    costly[", ".join(combo) or "no filter"] = (read.rows, read.sequential, plan)

    assert {name: figures[:2] for name, figures in costly.items()} == {}, json.dumps(costly, indent=1)[:20000]
    assert served >= 1
