"""The webhook dispatcher as it runs in production: several `aftersales worker` processes on PostgreSQL sending to
a real local receiver. Nothing is lost, nothing is sent twice unless a worker is killed mid-delivery, failures are
retried to success, and SIGTERM lets the deliveries in flight finish."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from app.domain.ids import new_id
from app.domain.principal import Role
from app.persistence.tables import outbox, webhook_deliveries
from bench.receiver import Receiver
from tests.conftest import client_for

pytestmark = pytest.mark.postgres_only
EVENTS = 1_000
BATCH = 50


async def _events(app, count: int) -> None:
    now = datetime.now(UTC)
    rows = [
        {
            "id": new_id(),
            "type": "ticket.created",
            "aggregate_type": "ticket",
            "aggregate_id": new_id(),
            "occurred_at": now,
            "payload": {"n": n},
        }
        for n in range(count)
    ]
    async with app.state.services.database.engine.begin() as conn:
        await conn.execute(insert(outbox), rows)


async def _subscribe(app_with, auth, receiver: Receiver) -> None:
    body = {"url": receiver.url, "event_types": ["ticket.*"]}
    async with client_for(app_with(webhook_allowed_hosts="127.0.0.1")) as http:
        response = await http.post("/v1/webhook-endpoints", json=body, headers=auth(Role.INTEGRATION))
    assert response.status_code == 201, response.text


@asynccontextmanager
async def _workers(database_url: str, count: int) -> AsyncIterator[list[asyncio.subprocess.Process]]:
    env = {
        **os.environ,
        "AFTERSALES_DATABASE_URL": database_url,
        "AFTERSALES_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
        "AFTERSALES_WEBHOOK_BATCH_SIZE": str(BATCH),
        "AFTERSALES_WEBHOOK_LEASE_SECONDS": "5",
        "AFTERSALES_WEBHOOK_RETRY_SCHEDULE": "0,1,1,1,1",
        "AFTERSALES_WORKER_POLL_SECONDS": "0.2",
        "AFTERSALES_LOG_LEVEL": "WARNING",
    }
    command = str(Path(sys.executable).with_name("aftersales"))
    procs = [
        await asyncio.create_subprocess_exec(
            command, "worker", env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        for _ in range(count)
    ]
    try:
        yield procs
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
            await proc.wait()


async def _until(condition, seconds: float = 90) -> None:
    """Poll what other processes change (the receiver's log, the database) until `condition` holds."""
    async with asyncio.timeout(seconds):
        while not (await condition() if asyncio.iscoroutinefunction(condition) else condition()):  # noqa: ASYNC110
            await asyncio.sleep(0.05)


def _ids(receiver: Receiver) -> Counter[str]:
    return Counter(r.headers["webhook-id"] for r in receiver.received)


async def _statuses(app) -> dict[str, int]:
    async with app.state.services.database.engine.connect() as conn:
        stmt = select(webhook_deliveries.c.status, func.count()).group_by(webhook_deliveries.c.status)
        return dict((await conn.execute(stmt)).all())


async def test_two_workers_deliver_every_event_once_retrying_failures(app, app_with, auth, database_url):
    failed_once: set[str] = set()

    def flaky(request) -> int:
        """Every tenth event fails its first try."""
        webhook_id = request.headers["webhook-id"]
        if int(webhook_id[-1], 16) % 10 == 0 and webhook_id not in failed_once:
            failed_once.add(webhook_id)
            return 503
        return 204

    async with Receiver(answer=flaky) as receiver:
        await _subscribe(app_with, auth, receiver)
        await _events(app, EVENTS)
        async with _workers(database_url, 2) as workers:
            await _until(lambda: len(_ids(receiver)) == EVENTS and len(receiver.received) == EVENTS + len(failed_once))
            await asyncio.sleep(0.5)  # anything still to come would be a duplicate
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            assert [await w.wait() for w in workers] == [0, 0]

    counts = _ids(receiver)
    assert len(counts) == EVENTS
    assert set(counts.values()) <= {1, 2}
    assert sum(n - 1 for n in counts.values()) == len(failed_once) > 0  # a second try only after a failure
    assert await _statuses(app) == {"succeeded": EVENTS}


async def test_a_killed_worker_loses_nothing_and_duplicates_only_what_it_held(app, app_with, auth, database_url):
    async with Receiver(delay=0.02) as receiver:
        await _subscribe(app_with, auth, receiver)
        await _events(app, EVENTS)
        async with _workers(database_url, 2) as (victim, survivor):
            await _until(lambda: receiver.count >= 100)
            victim.kill()

            async def all_succeeded() -> bool:  # what the victim held is sent again once its lease runs out
                return await _statuses(app) == {"succeeded": EVENTS}

            await _until(all_succeeded)
            survivor.send_signal(signal.SIGTERM)
            assert await survivor.wait() == 0

    duplicates = sum(n - 1 for n in _ids(receiver).values())
    assert len(_ids(receiver)) == EVENTS
    assert duplicates <= BATCH  # at most the batch the killed worker had claimed
    assert await _statuses(app) == {"succeeded": EVENTS}


async def test_sigterm_lets_the_deliveries_in_flight_finish(app, app_with, auth, database_url):
    async with Receiver(delay=0.3) as receiver:
        await _subscribe(app_with, auth, receiver)
        await _events(app, BATCH)
        async with _workers(database_url, 1) as (worker,):
            await _until(lambda: receiver.count >= 1)
            worker.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(worker.wait(), 30) == 0

    assert len(_ids(receiver)) == BATCH  # the claimed batch was sent in full
    assert await _statuses(app) == {"succeeded": BATCH}  # and recorded: nothing left under a lease
