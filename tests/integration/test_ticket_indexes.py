"""The common ticket list filters are served by an index on PostgreSQL, so a page costs O(page), not O(table)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.dialects import postgresql

from app.domain.pagination import PageRequest
from app.domain.tickets import Channel, PoolScope, Priority, TicketFilter, TicketSort
from app.persistence.keyset import page_statement
from app.persistence.tables import tickets
from app.persistence.tickets import SORT_KEY, SqlTicketRepository, filter_conditions, pool_conditions

pytestmark = pytest.mark.postgres_only

FIRST = PageRequest(limit=20)
# Each common filter, and what its plan must show: the index condition on the filtered column, or, for filters too
# broad to index, an index walked in page order that stops after a page (no sort of the whole match).
COMMON_FILTERS = {
    "no filter": (TicketFilter(), None),
    "status": (TicketFilter(statuses=("completed",)), "status"),
    "customer": (TicketFilter(customer_no="C-1"), "customer_no"),
    "assignee and open states": (TicketFilter(assignee="agent-1", statuses=("assigned", "in_progress")), "assignee"),
    "group and status": (TicketFilter(group_key="east", statuses=("new",)), "status"),
    "tag": (TicketFilter(tag="noise"), "tag"),
    "priority": (TicketFilter(priorities=(Priority.URGENT,)), None),
    "channel": (TicketFilter(channels=(Channel.PHONE_400,)), None),
}


async def _plan(app, stmt) -> str:
    sql = str(stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    async with app.state.services.database.engine.connect() as conn:
        await conn.execute(text("SET LOCAL enable_seqscan = off"))  # "can an index serve it", whatever the size
        return json.dumps((await conn.execute(text(f"EXPLAIN (FORMAT JSON) {sql}"))).scalar_one())


@pytest.mark.parametrize("name", list(COMMON_FILTERS))
@pytest.mark.parametrize("sort", list(TicketSort))
async def test_common_list_filters_use_an_index(app, name, sort):
    where, indexed_column = COMMON_FILTERS[name]
    stmt = page_statement(select(tickets).where(*filter_conditions(where)), SORT_KEY[sort], FIRST)

    plan = await _plan(app, stmt)

    assert '"Seq Scan"' not in plan, plan
    if indexed_column is None:
        assert '"Sort"' not in plan, plan
    else:
        assert f"(({indexed_column})::text = " in plan, plan


async def test_the_claim_pool_uses_an_index(app):
    stmt = page_statement(
        select(tickets).where(*pool_conditions(PoolScope(groups=frozenset({"east"}), business_lines=None))),
        tickets.c.id,
        FIRST,
        descending=False,
    )

    plan = await _plan(app, stmt)

    assert '"Seq Scan"' not in plan, plan
    assert "((status)::text = " in plan, plan


# The repository's own statements, captured as sent (several statuses and the pool are merged keyset reads).
REPOSITORY_PAGES = {
    "assignee only": (TicketFilter(assignee="agent-1"), TicketSort.CREATED, "ix_tickets_assignee_id"),
    "my queue": (
        TicketFilter(assignee="agent-1", statuses=("assigned", "in_progress", "waiting_on_customer")),
        TicketSort.UPDATED,
        "ix_tickets_assignee_status_updated_at_id",
    ),
    "group": (TicketFilter(group_key="east"), TicketSort.CREATED, "ix_tickets_group_key_id"),
}


async def _sent_plan(app, read) -> str:
    """The plan of the last statement `read(repository)` sends."""
    sent: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many) -> None:
        sent.append((statement, parameters))

    engine = app.state.services.database.engine
    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with engine.connect() as conn:
            await read(SqlTicketRepository(conn))
            statement, parameters = sent[-1]
            await conn.execute(text("SET LOCAL enable_seqscan = off"))
            result = await conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters)
            return json.dumps(result.scalar_one())
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)


@pytest.mark.parametrize("name", list(REPOSITORY_PAGES))
async def test_the_repository_pages_read_the_index_made_for_them(app, name):
    where, sort, index = REPOSITORY_PAGES[name]

    plan = await _sent_plan(app, lambda repo: repo.list(where, sort, FIRST))

    assert '"Seq Scan"' not in plan, plan
    assert index in plan, plan


async def test_the_claim_pool_of_several_groups_reads_an_index_per_group(app):
    scope = PoolScope(groups=frozenset({"east", "west"}), business_lines=None)

    plan = await _sent_plan(app, lambda repo: repo.pool(scope, FIRST))

    assert '"Seq Scan"' not in plan, plan
    assert plan.count('"Index Name"') >= 3, plan  # no group, east, west
