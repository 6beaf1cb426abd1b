"""`aftersales serve --workers 2` against one worker: the create-ticket and GET-ticket loads on each, every server
freshly started on its own port and on the bench database."""

from __future__ import annotations

import os
import time
from uuid import UUID

import asyncpg

from app.domain.principal import Role
from bench import report
from bench.harness import Harness, serve_service
from bench.load import Result
from bench.process_stats import cpu_seconds, machine_busy_seconds, postgres_cpu_seconds
from bench.scenarios import bearer_headers
from bench.server import HOST, Server, free_port
from bench.ticket_bench import AGENT, READ_SET
from bench.ticket_requests import create_tickets, read_tickets
from bench.ticket_rows import plain_dsn
from bench.traffic import Traffic

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
            create = await _busy(h, server, url, f"create ticket, {label}", creates)
            reads = read_tickets("/v1/tickets", await _newest_tickets(h.database_url), reader)
            get = await _busy(h, server, url, f"get ticket, {label}", reads)
            h.lines += report.memory([server])
        found[count] = (create, get)
    one, two = found[1], found[2]
    h.lines += [
        report.ratio(two[0], one[0], report.WORKERS_RATIO_TARGET),
        report.ratio(two[1], one[1], report.WORKERS_RATIO_TARGET),
    ]


async def _busy(h: Harness, server: Server, url: str, scenario: str, traffic: Traffic) -> Result:
    """The scenario's run, and where the machine's CPUs went meanwhile: more workers add throughput only while CPUs
    are idle, and on a small machine the service shares them with PostgreSQL and the load generator."""
    cpus = os.cpu_count() or 1
    started, busy = time.monotonic(), machine_busy_seconds()
    served, postgres = cpu_seconds(server.pid), postgres_cpu_seconds()
    result = await h.measure_traffic(scenario, server, url, traffic, traffic)
    wall = time.monotonic() - started
    busy, served = machine_busy_seconds() - busy, cpu_seconds(server.pid) - served
    postgres = postgres_cpu_seconds() - postgres
    during_run = result.server_cpu_seconds / result.sample.elapsed if result.sample.elapsed > 0 else 0.0
    h.lines.append(
        f"{scenario}: the service used {during_run:.2f} cores during the run; over the whole measurement (warm-up "
        f"and settling included) {busy / wall:.2f} of {cpus} CPUs were busy: the service {served / wall:.2f}, "
        f"PostgreSQL {postgres / wall:.2f}, the rest {(busy - served - postgres) / wall:.2f}"
    )
    return result


async def _newest_tickets(database_url: str) -> list[UUID]:
    """The newest tickets: those just created, so the scenario needs no bulk rows."""
    conn = await asyncpg.connect(plain_dsn(database_url))
    try:
        rows = await conn.fetch("SELECT id FROM tickets ORDER BY id DESC LIMIT $1", READ_SET)
    finally:
        await conn.close()
    return [row["id"] for row in rows]
