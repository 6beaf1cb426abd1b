"""Every ticket list filter the API offers, alone and combined, with each sort, is served by an index on PostgreSQL
(or refused before any SQL): a page reads about a page of rows, however many the table holds and even when the
filter matches nothing."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import UUID

import pytest
from sqlalchemy import Column, text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.errors import InvalidInput
from app.domain.ids import new_id
from app.domain.pagination import PageRequest
from app.domain.tickets import Channel, PoolScope, Priority, TicketFilter, TicketSort, TicketType
from app.persistence.tickets import SqlTicketRepository, list_key, seek_parts
from tests.sql_capture import executed_plans, scan_nodes, scanned

pytestmark = pytest.mark.postgres_only

LIMIT = 20
FIRST = PageRequest(limit=LIMIT)
MIDDLE = datetime(2025, 7, 1, tzinfo=UTC)
AFTER = {UUID: new_id(), datetime: MIDDLE}  # a cursor's values, by type
# A sample value of every filter GET /v1/tickets offers (several values where the parameter repeats, so that merged
# reads are planned too). The test below fails when the API gains a filter that is missing here.
SAMPLES: dict[str, dict[str, object]] = {
    "status": {"statuses": ("new", "assigned")},
    "priority": {"priorities": (Priority.URGENT,)},
    "type": {"types": (TicketType.REPAIR,)},
    "channel": {"channels": (Channel.PHONE_400, Channel.WECHAT)},
    "assignee": {"assignee": "agent-1"},
    "group": {"group_key": "east"},
    "customer_no": {"customer_no": "C-1"},
    "tag": {"tag": "noise"},
    "created_from": {"created_from": datetime(2025, 1, 1, tzinfo=UTC)},
    "created_to": {"created_to": datetime(2026, 1, 1, tzinfo=UTC)},
    "updated_from": {"updated_from": datetime(2025, 1, 1, tzinfo=UTC)},
    "updated_to": {"updated_to": datetime(2026, 1, 1, tzinfo=UTC)},
    "q": {"text": "noise"},
    "high_risk": {"high_risk": True},
}
NOT_FILTERS = {"limit", "cursor", "sort"}

# 20,000 tickets over two years around the samples' dates, built so that a filter read any other way than by seeking
# its index shows: the sample agent, group and tag have a third of the rows each, and a third are flagged high-risk,
# while the sample states, priority, type and channels match nothing (a plan that walks the agent's tickets filtering
# by state reads thousands of rows to find none), and the sample customer has a customer's few tickets.
SPREAD = (
    """INSERT INTO customers (id, customer_no, name, level, contact_channels, version, created_at, updated_at)
    SELECT gen_random_uuid(), 'C-' || g, 'customer', 'normal', '[]', 1, now(), now()
    FROM generate_series(1, 200) AS g""",
    """INSERT INTO tickets (id, number, customer_no, channel, type, priority, status, title, description, tags,
        warranty_status, contact, attachments, assignee, group_key, escalation_level, urge_count, created_by,
        version, created_at, updated_at, risk_flagged_at)
    SELECT gen_random_uuid(), 'T-' || g, CASE WHEN g % 400 = 0 THEN 'C-1' ELSE 'C-' || (2 + g % 199) END,
        (ARRAY['app', 'web', 'im_bot'])[1 + g % 3], (ARRAY['complaint', 'consultation'])[1 + g % 2],
        (ARRAY['low', 'normal', 'high'])[1 + g % 3],
        (ARRAY['in_progress', 'waiting_on_customer', 'pending_follow_up', 'completed', 'closed', 'cancelled'])
            [1 + g % 6],
        'title', 'description', '[]', 'unknown', '{}', '[]',
        CASE WHEN g % 3 = 0 THEN 'agent-1' WHEN g % 100 <> 6 THEN 'agent-' || (2 + g % 300) END,
        CASE WHEN g % 3 = 1 THEN 'east' WHEN g % 100 <> 7 THEN 'g' || g % 40 END,
        0, 0, 'test', 1, timestamptz '2024-06-01Z' + g * interval '1 hour',
        timestamptz '2024-06-01Z' + g * interval '1 hour' + (g % 997) * interval '1 minute',
        CASE WHEN g % 3 = 2 THEN timestamptz '2024-06-01Z' + g * interval '1 hour' END
    FROM generate_series(1, 20000) AS g""",
    """INSERT INTO ticket_tags (ticket_id, tag)
    SELECT id, CASE WHEN hashtext(number) % 3 = 0 THEN 'noise' ELSE 'tag' || abs(hashtext(number)) % 50 END
    FROM tickets""",
    "ANALYZE customers, tickets, ticket_tags",
)


def _list_parameters(app) -> set[str]:
    """The query parameters GET /v1/tickets documents, as callers (and generated SDKs) see them."""
    parameters = app.openapi()["paths"]["/v1/tickets"]["get"]["parameters"]
    return {p["name"] for p in parameters if p["in"] == "query"} - NOT_FILTERS


def _combinations() -> list[tuple[str, ...]]:
    """Every filter alone, in pairs and in threes: whatever a caller can send, up to three filters at once."""
    return [combo for size in range(4) for combo in itertools.combinations(sorted(SAMPLES), size)]


@pytest.fixture
async def planner(app) -> AsyncIterator[AsyncConnection]:
    """A connection on SPREAD's tickets with sequential scans, bitmaps and sorts priced out, so that the plans
    answer "can an index serve it in page order". Rolled back at the end. The plans at a million rows are the
    bench's (`python -m bench --only lists`)."""
    async with app.state.services.database.engine.connect() as conn:
        for statement in SPREAD:
            await conn.exec_driver_sql(statement)
        for planner_method in ("seqscan", "bitmapscan", "sort"):
            await conn.execute(text(f"SET LOCAL enable_{planner_method} = off"))
        yield conn


async def test_every_list_filter_of_the_api_has_a_sample_here(app):
    assert _list_parameters(app) == set(SAMPLES)


@pytest.mark.parametrize("deep", [False, True], ids=["first page", "after a cursor"])
@pytest.mark.parametrize("sort", list(TicketSort))
async def test_every_served_filter_combination_reads_about_a_page(planner, sort, deep):
    """A page read by seeking reads at most a page of keys per part, the page's rows and (with `customer_no`) one
    customer's few tickets; a filter applied to what a broader index returns reads thousands here."""
    served, costly = 0, {}
    for combo in _combinations():
        where = TicketFilter(**{k: v for name in combo for k, v in SAMPLES[name].items()})
        try:
            where.check_served(sort)
        except InvalidInput:
            continue  # refused with a 422 before any SQL (tests/api/test_ticket_list_filters.py)
        key = list_key(where, sort)
        columns = [key] if isinstance(key, Column) else key
        page = PageRequest(LIMIT, after=tuple(AFTER[c.type.python_type] for c in columns) if deep else None)
        plans = await executed_plans(
            planner, lambda where=where, page=page: SqlTicketRepository(planner).list(where, sort, page)
        )
        bound = (len(seek_parts(where)) + 2) * (LIMIT + 1) + 50  # keys per part, the page's rows, a customer's
        for plan in plans:
            read = scanned(plan)
            if read.rows > bound or read.sequential:
                costly[", ".join(combo) or "no filter"] = (read.rows, read.sequential, plan)
        served += 1

    assert {name: figures[:2] for name, figures in costly.items()} == {}, json.dumps(costly, indent=1)[:20000]
    assert served > 50  # the combinations above are truly planned, not all refused


@pytest.mark.parametrize("groups", [None, frozenset({"east"}), frozenset({"east", "west"})])
async def test_the_claim_pool_reads_about_a_page_per_group(planner, groups):
    # Most tickets wait in the pool, few of them belong to no group.
    await planner.exec_driver_sql("UPDATE tickets SET status = 'new' WHERE assignee <> 'agent-1'")
    await planner.exec_driver_sql("ANALYZE tickets")
    scope = PoolScope(groups=groups, business_lines=None)

    plans = await executed_plans(planner, lambda: SqlTicketRepository(planner).pool(scope, FIRST))

    parts = 1 + len(groups or ())  # no group, then each group
    # A page of keys per part, then the page's rows; twice that, as the planner may walk the primary key in page order
    # filtering out the third of the tickets that are not new (28-33 rows for a page of 21, varying with the random
    # ids): still a page, where a plan that does not seek reads thousands.
    bound = 2 * (parts + 1) * (LIMIT + 1)
    assert all(read.rows <= bound and not read.sequential for read in map(scanned, plans)), [
        scan_nodes(plan) for plan in plans
    ]


# The index each leading filter was given, where SPREAD makes it the only cheap read (planner's pick otherwise).
REPOSITORY_PAGES = {
    "assignee only": (TicketFilter(assignee="agent-1"), TicketSort.CREATED, "ix_tickets_assignee_id"),
    "group": (TicketFilter(group_key="east"), TicketSort.CREATED, "ix_tickets_group_key_id"),
    "channel": (TicketFilter(channels=(Channel.WECHAT,)), TicketSort.CREATED, "ix_tickets_status_channel_id"),
    "priority": (TicketFilter(priorities=(Priority.URGENT,)), TicketSort.CREATED, "ix_tickets_status_priority_id"),
    "type": (TicketFilter(types=(TicketType.REPAIR,)), TicketSort.CREATED, "ix_tickets_status_type_id"),
    "created range": (TicketFilter(created_to=MIDDLE), TicketSort.CREATED, "ix_tickets_created_at_id"),
    "customer, latest change": (
        TicketFilter(customer_no="C-1"),
        TicketSort.UPDATED,
        "ix_tickets_customer_no_updated_at_id",
    ),
    "tag": (TicketFilter(tag="noise"), TicketSort.CREATED, "ix_ticket_tags_tag_ticket_id"),
}


@pytest.mark.parametrize("name", list(REPOSITORY_PAGES))
async def test_the_repository_pages_read_the_index_made_for_them(planner, name):
    where, sort, index = REPOSITORY_PAGES[name]

    plans = await executed_plans(planner, lambda: SqlTicketRepository(planner).list(where, sort, FIRST))

    assert index in json.dumps(plans), plans
