"""The ticket scenarios beside the baseline: intake, reading one ticket, and list pages at two table sizes."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from app.domain.pagination import PageRequest
from app.domain.principal import Role
from app.domain.tickets import Channel, Priority, TicketFilter, TicketSort, TicketType
from app.web.pagination import encode_cursor
from bench import query_plans, report, ticket_rows
from bench.harness import Harness
from bench.scenarios import bearer_headers
from bench.ticket_requests import create_tickets, list_tickets, read_tickets

LIMIT = 20
READ_SET = 1000  # tickets the reads cycle through
CUSTOMER = "C-B000123"  # one of the bulk tickets' customers
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
    ListPage("customer_no", {"customer_no": CUSTOMER}, TicketFilter(customer_no=CUSTOMER)),
    # The agent's open work, latest activity first: one index seek per open state, merged.
    ListPage(
        "queues/mine",
        where=TicketFilter(assignee=AGENT, statuses=MY_QUEUE),
        path="/v1/queues/mine",
        sort=TicketSort.UPDATED,
    ),
    # Each leading filter once with values the bulk rows have and once with values they never have ("none"): a
    # filter read by filtering rather than seeking shows as the second page costing a table scan.
    ListPage("channel=wechat", {"channel": "wechat"}, TicketFilter(channels=(Channel.WECHAT,))),
    ListPage("channel=email (none)", {"channel": "email"}, TicketFilter(channels=(Channel.EMAIL,))),
    ListPage(
        "channel=wechat&status=new",
        {"channel": "wechat", "status": "new"},
        TicketFilter(statuses=("new",), channels=(Channel.WECHAT,)),
    ),
    ListPage("type=repair", {"type": "repair"}, TicketFilter(types=(TicketType.REPAIR,))),
    ListPage(
        "type=after_sales_request (none)",
        {"type": "after_sales_request"},
        TicketFilter(types=(TicketType.AFTER_SALES_REQUEST,)),
    ),
    ListPage("priority=urgent", {"priority": "urgent"}, TicketFilter(priorities=(Priority.URGENT,))),
    ListPage(
        "priority=urgent&status=cancelled",
        {"priority": "urgent", "status": "cancelled"},
        TicketFilter(statuses=("cancelled",), priorities=(Priority.URGENT,)),
    ),
    ListPage("group=east (none)", {"group": "east"}, TicketFilter(group_key="east")),
    ListPage("tag=noise (none)", {"tag": "noise"}, TicketFilter(tag="noise")),
    # Text is searched within one customer's tickets.
    ListPage(
        "customer_no&q",
        {"customer_no": CUSTOMER, "q": "loud noise"},
        TicketFilter(customer_no=CUSTOMER, text="loud noise"),
    ),
    ListPage(
        "customer_no&q (none)", {"customer_no": CUSTOMER, "q": "焦味"}, TicketFilter(customer_no=CUSTOMER, text="焦味")
    ),
    ListPage(
        "customer_no sort=updated",
        {"customer_no": CUSTOMER, "sort": "updated"},
        TicketFilter(customer_no=CUSTOMER),
        sort=TicketSort.UPDATED,
    ),
    ListPage(
        "status=new sort=updated",
        {"status": "new", "sort": "updated"},
        TicketFilter(statuses=("new",)),
        sort=TicketSort.UPDATED,
    ),
)


def range_pages(oldest: datetime, newest: datetime) -> tuple[ListPage, ...]:
    """Created and updated ranges of a day in the middle of the bulk rows, and a created range before all of them."""
    middle = oldest + (newest - oldest) / 2
    day = {"created_from": middle, "created_to": middle + timedelta(days=1)}
    before = {"created_to": oldest - timedelta(days=1)}
    since = {"updated_from": middle}
    return (
        ListPage("created range, a day", _iso(day), TicketFilter(**day)),
        ListPage("created range (none)", _iso(before), TicketFilter(**before)),
        ListPage(
            "updated_from sort=updated",
            {**_iso(since), "sort": "updated"},
            TicketFilter(**since),
            sort=TicketSort.UPDATED,
        ),
        ListPage(
            "assignee=me&updated_from sort=updated",
            {**_iso(since), "assignee": "me", "sort": "updated"},
            TicketFilter(assignee=AGENT, **since),
            sort=TicketSort.UPDATED,
        ),
    )


def _iso(instants: Mapping[str, datetime]) -> dict[str, str]:
    return {name: at.isoformat().replace("+00:00", "Z") for name, at in instants.items()}


async def intake(h: Harness) -> None:
    """POST /v1/tickets, then the baseline's same inserts, at the same concurrency."""
    ours = create_tickets("/v1/tickets", bearer_headers(h.secret))
    floor = create_tickets("/tickets", {})
    create = await h.measure_traffic("create ticket", h.service, h.service_url, ours, ours)
    baseline = await h.measure_traffic("baseline create", h.baseline, h.baseline_url, floor, floor)
    h.lines += [
        report.ratio(create, baseline, report.CREATE_RATIO_TARGET),
        report.cpu_ratio(create, baseline, report.CREATE_CPU_TARGET),
    ]


async def reads(h: Harness) -> None:
    """GET one ticket among a tenth of --tickets bulk rows, from the service and the baseline: under load, then at
    one client."""
    size = h.options.tickets // 10
    conn = await asyncpg.connect(ticket_rows.plain_dsn(h.database_url))
    try:
        await _grow(h, conn, size)
        rows = await conn.fetch(
            "SELECT id FROM tickets WHERE created_by = $1 ORDER BY random() LIMIT $2", ticket_rows.CREATED_BY, READ_SET
        )
    finally:
        await conn.close()
    ids = [row["id"] for row in rows]
    ours = read_tickets("/v1/tickets", ids, bearer_headers(h.secret, AGENT, Role.AGENT))
    floor = read_tickets("/tickets", ids, {})
    at = f"@{_short(size)}"
    get = await h.measure_traffic(f"get ticket {at}", h.service, h.service_url, ours, ours)
    baseline = await h.measure_traffic(f"baseline get ticket {at}", h.baseline, h.baseline_url, floor, floor)
    alone = await h.measure_traffic(f"get ticket {at}, 1 client", h.service, h.service_url, ours, ours, 1)
    floor_alone = await h.measure_traffic(
        f"baseline get ticket {at}, 1 client", h.baseline, h.baseline_url, floor, floor, 1
    )
    h.lines += [
        report.ratio(get, baseline),
        report.cpu_ratio(get, baseline, report.READ_CPU_TARGET),
        report.latency_ratio(alone, floor_alone, report.IDLE_LATENCY_TARGET),
    ]


async def list_pages(h: Harness) -> None:
    """Every list page at a tenth of --tickets bulk tickets and at all of them, at one client, beside the
    baseline's first and deep keyset page; then the plans at the full size.

    A page that costs O(page) answers equally fast at both sizes."""
    total = h.options.tickets
    headers = bearer_headers(h.secret, AGENT, Role.AGENT)
    conn = await asyncpg.connect(ticket_rows.plain_dsn(h.database_url))
    try:
        for size in (total // 10, total):
            await _grow(h, conn, size)
            middle = await ticket_rows.key_at_depth(conn, size // 2)
            pages = (*LIST_PAGES, *range_pages(*await ticket_rows.created_span(conn)))
            at = f"@{_short(size)}"
            results = {}
            for page in pages:
                traffic = list_tickets(page.path, headers, _params(page, middle))
                scenario = f"list {page.label} {at}"
                results[page.label] = await h.measure_traffic(scenario, h.service, h.service_url, traffic, traffic, 1)
            for label, cursor in (("first page", {}), ("deep page", {"cursor": str(middle)})):
                traffic = list_tickets("/tickets", {}, cursor)
                floor = await h.measure_traffic(
                    f"baseline {label} {at}", h.baseline, h.baseline_url, traffic, traffic, 1
                )
                h.lines.append(report.cpu_ratio(results[label], floor, report.READ_CPU_TARGET))
    finally:
        await conn.close()
    h.lines.append(report.list_p99([r for r in h.results if r.scenario.startswith("list ")]))
    log.info("explaining the list queries")
    plans = await query_plans.explain(
        h.database_url, {p.label: (p.where, p.sort, _page_request(p, middle)) for p in pages}
    )
    h.lines.append(f"list query plans at {total:,} bulk tickets:")
    h.lines += report.plans(plans)
    unindexed = [plan.label for plan in plans if not plan.indexes]
    if unindexed:
        h.failures.append(f"FAILED list queries without an index: {', '.join(unindexed)}")


async def _grow(h: Harness, conn: asyncpg.Connection, size: int) -> None:
    """Bulk tickets up to `size` of the planned --tickets, the customers they name first."""
    if h.bulk_tickets >= size:
        return
    if h.bulk_tickets == 0:
        await ticket_rows.load_customers(conn)
    log.info("loading tickets up to %s", f"{size:,}")
    await ticket_rows.grow_to(conn, h.bulk_tickets, size, h.options.tickets)
    h.bulk_tickets = size


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
