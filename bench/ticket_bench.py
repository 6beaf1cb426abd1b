"""The ticket scenarios: intake beside the baseline's bare inserts, then list pages at two table sizes."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from uuid import UUID

import asyncpg
import httpx

from app.domain.pagination import PageRequest
from app.domain.tickets import TicketFilter, TicketSort
from app.web.pagination import encode_cursor
from bench import load, query_plans, ticket_rows
from bench.load import Budget, Result
from bench.query_plans import Plan
from bench.server import Server
from bench.ticket_requests import create_tickets, list_tickets

LIMIT = 20
AGENT = "agent-007"  # one of the bulk tickets' agents; the list pages are requested with this agent's token
IDLE_AGENT = "agent-new"  # assigned no ticket
MY_QUEUE = ("assigned", "in_progress", "waiting_on_customer", "pending_follow_up")  # what GET /v1/queues/mine lists

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ListPage:
    """One list request, as path and query parameters for the server and as the filter and sort the repository
    receives."""

    label: str
    params: Mapping[str, str] = field(default_factory=dict)
    where: TicketFilter = field(default_factory=TicketFilter)
    deep: bool = False  # continue from the middle of the table, as a client paging far down would
    path: str = "/v1/tickets"
    sort: TicketSort = TicketSort.CREATED


LIST_PAGES = (
    ListPage("first page"),
    ListPage("deep page", deep=True),
    ListPage("status=new", {"status": "new"}, TicketFilter(statuses=("new",))),
    ListPage("assignee=me", {"assignee": "me"}, TicketFilter(assignee=AGENT)),
    # An agent hired today: no page can be filled, so a plan that filters instead of seeking reads every row.
    ListPage("assignee=idle", {"assignee": IDLE_AGENT}, TicketFilter(assignee=IDLE_AGENT)),
    ListPage("customer_no", {"customer_no": "C-B000123"}, TicketFilter(customer_no="C-B000123")),
    # The agent's open work, latest activity first: one index seek per open state, merged.
    ListPage(
        "queues/mine",
        where=TicketFilter(assignee=AGENT, statuses=MY_QUEUE),
        path="/v1/queues/mine",
        sort=TicketSort.UPDATED,
    ),
)


async def intake(
    client: httpx.AsyncClient,
    service: Server,
    service_url: str,
    baseline: Server,
    baseline_url: str,
    headers: Mapping[str, str],
    warmup: Budget,
    budget: Budget,
) -> list[Result]:
    """POST /v1/tickets, then the baseline's same three inserts, at the same concurrency."""
    ours = create_tickets(client, f"{service_url}/v1/tickets", headers)
    floor = create_tickets(client, f"{baseline_url}/tickets", {})
    return [
        await load.measure("create ticket", service, ours, ours, warmup, budget),
        await load.measure("baseline create", baseline, floor, floor, warmup, budget),
    ]


async def list_pages(
    client: httpx.AsyncClient,
    service: Server,
    service_url: str,
    database_url: str,
    headers: Mapping[str, str],
    total: int,
    warmup: Budget,
    budget: Budget,
) -> tuple[list[Result], list[Plan]]:
    """Every list page at a tenth of `total` bulk tickets and at `total`; the plans at `total`.

    A page that costs O(page) answers equally fast at both sizes."""
    results: list[Result] = []
    conn = await asyncpg.connect(ticket_rows.plain_dsn(database_url))
    try:
        await ticket_rows.load_customers(conn)
        loaded = 0
        for size in (total // 10, total):
            log.info("loading tickets up to %s", f"{size:,}")
            await ticket_rows.grow_to(conn, loaded, size, total)
            loaded = size
            middle = await ticket_rows.key_at_depth(conn, size // 2)
            for page in LIST_PAGES:
                send = list_tickets(client, f"{service_url}{page.path}", headers, _params(page, middle))
                scenario = f"list {page.label} @{_short(size)}"
                results.append(await load.measure(scenario, service, send, send, warmup, budget))
    finally:
        await conn.close()
    log.info("explaining the list queries")
    pages = {p.label: (p.where, p.sort, _page_request(p, middle)) for p in LIST_PAGES}
    plans = await query_plans.explain(database_url, pages)
    return results, plans


def _params(page: ListPage, middle: UUID) -> dict[str, str]:
    cursor = {"cursor": encode_cursor((middle,)) or ""} if page.deep else {}
    return {**page.params, **cursor, "limit": str(LIMIT)}


def _page_request(page: ListPage, middle: UUID) -> PageRequest:
    return PageRequest(LIMIT, after=(middle,) if page.deep else None)


def _short(size: int) -> str:
    """1000000 → 1M, 100000 → 100k: table sizes as a reader says them."""
    for unit, suffix in ((1_000_000, "M"), (1_000, "k")):
        if size >= unit and size % unit == 0:
            return f"{size // unit}{suffix}"
    return str(size)
