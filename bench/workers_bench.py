"""`aftersales serve --workers 2` against one worker: the create-ticket and GET-ticket loads on each, every server
freshly started on its own port and on the bench database."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from app.domain.principal import Role
from bench import report
from bench.harness import Harness, serve_service
from bench.load import Result
from bench.scenarios import bearer_headers
from bench.server import HOST, free_port
from bench.ticket_bench import AGENT, READ_SET
from bench.ticket_requests import create_tickets, read_tickets
from bench.ticket_rows import plain_dsn

WORKER_COUNTS = (1, 2)


async def workers(h: Harness) -> None:
    creates = create_tickets("/v1/tickets", bearer_headers(h.secret))
    reader = bearer_headers(h.secret, AGENT, Role.AGENT)
    found: dict[int, tuple[Result, Result]] = {}
    for count in WORKER_COUNTS:
        port = free_port()
        url = f"http://{HOST}:{port}"
        label = f"{count} worker{'s' if count > 1 else ''}"
        async with serve_service(
            port, h.database_url, h.secret, h.inbound_secret, count, f"service, {label}"
        ) as server:
            create = await h.measure_traffic(f"create ticket, {label}", server, url, creates, creates)
            reads = read_tickets("/v1/tickets", await _newest_tickets(h.database_url), reader)
            get = await h.measure_traffic(f"get ticket, {label}", server, url, reads, reads)
            h.lines += report.memory([server])
        found[count] = (create, get)
    one, two = found[1], found[2]
    h.lines += [
        report.ratio(two[0], one[0], report.WORKERS_RATIO_TARGET),
        report.ratio(two[1], one[1], report.WORKERS_RATIO_TARGET),
    ]


async def _newest_tickets(database_url: str) -> list[UUID]:
    """The newest tickets: those just created, so the scenario needs no bulk rows."""
    conn = await asyncpg.connect(plain_dsn(database_url))
    try:
        rows = await conn.fetch("SELECT id FROM tickets ORDER BY id DESC LIMIT $1", READ_SET)
    finally:
        await conn.close()
    return [row["id"] for row in rows]
