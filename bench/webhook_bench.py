"""Webhook deliveries per second: `aftersales worker` processes on the bench database fan out and deliver a burst
of outbox events to a local receiver; timed from the moment the events are committed to the last one received."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import orjson

from app.domain.ids import new_id
from app.services.webhooks import new_secret
from bench.receiver import Receiver
from bench.server import clean_environment
from bench.ticket_rows import plain_dsn

IDLE_POLL = "0.05"
TIMEOUT_SECONDS = 300


@dataclass(frozen=True, slots=True)
class DeliveryFigures:
    workers: int
    events: int
    seconds: float
    received: int

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


@contextlib.asynccontextmanager
async def _workers(database_url: str, count: int) -> AsyncIterator[None]:
    env = clean_environment(
        {
            "AFTERSALES_DATABASE_URL": database_url,
            "AFTERSALES_ENV": "development",
            "AFTERSALES_LOG_LEVEL": "WARNING",
            "AFTERSALES_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
            "AFTERSALES_WEBHOOK_BATCH_SIZE": "500",
            "AFTERSALES_WEBHOOK_CONCURRENCY": "128",
            "AFTERSALES_WORKER_POLL_SECONDS": IDLE_POLL,
        }
    )
    command = str(Path(sys.executable).with_name("aftersales"))
    procs = [
        await asyncio.create_subprocess_exec(
            command, "worker", env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        for _ in range(count)
    ]
    try:
        await asyncio.sleep(2.0)  # the workers import, connect and start polling
        yield
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def measure(database_url: str, events: int, workers: int) -> DeliveryFigures:
    """One endpoint subscribed to everything; `events` events committed at once; until all have arrived."""
    conn = await asyncpg.connect(plain_dsn(database_url))
    try:
        await conn.execute("UPDATE outbox SET fanned_out = true")  # earlier scenarios' events are not this burst
        async with Receiver(keep=False) as receiver, _workers(database_url, workers):
            await conn.execute("DELETE FROM webhook_endpoints")
            now = datetime.now(UTC)
            await conn.execute(
                "INSERT INTO webhook_endpoints (id, url, event_types, enabled, secret, created_by, version, "
                "created_at, updated_at) VALUES ($1, $2, '[\"*\"]', true, $3, 'bench', 1, $4, $4)",
                new_id(),
                receiver.url,
                new_secret(),
                now,
            )
            payload = orjson.dumps({"ticket_id": str(new_id()), "number": "T-2026-000001", "status": "new"}).decode()
            rows = [(new_id(), "ticket.created", "ticket", new_id(), now, payload) for _ in range(events)]
            started = time.perf_counter()
            await conn.executemany(
                "INSERT INTO outbox (id, type, aggregate_type, aggregate_id, occurred_at, payload) "
                "VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
                rows,
            )
            async with asyncio.timeout(TIMEOUT_SECONDS):
                await receiver.until(events)
            seconds = time.perf_counter() - started
            received = receiver.count
    finally:
        await conn.close()
    return DeliveryFigures(workers, events, seconds, received)


def lines(figures: list[DeliveryFigures]) -> list[str]:
    out = []
    for f in figures:
        extra = f" ({f.received - f.events} sent twice)" if f.received > f.events else ""
        out.append(
            f"webhook deliveries, {f.workers} worker{'s' if f.workers > 1 else ''}: {f.events:,} events in "
            f"{f.seconds:.2f} s = {f.per_second:,.0f}/s{extra} (goal ≥ 1,000/s per worker)"
        )
    return out
