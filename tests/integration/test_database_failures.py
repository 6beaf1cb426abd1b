"""A database that cannot be reached, or a connection lost in the middle of a request, answers 503 with
Retry-After (nothing was committed; try again), never 500."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.domain.clock import SystemClock
from app.domain.principal import Role
from app.main import create_app
from app.persistence.database import Database, is_unavailable
from tests.conftest import client_for, make_settings
from tests.databases import _asyncpg_dsn
from tests.factories import product_body

UNREACHABLE = {
    "postgres on a closed port": "postgresql+asyncpg://postgres@127.0.0.1:1/aftersales",
    "sqlite in a missing directory": "sqlite+aiosqlite:////nonexistent-directory/aftersales.db",
}


@pytest.mark.parametrize("url", UNREACHABLE.values(), ids=UNREACHABLE)
async def test_an_authenticated_read_with_the_database_unreachable_is_a_503_with_retry_after(url):
    app = create_app(make_settings(url))
    async with client_for(app) as http:
        headers = _agent(app)
        response = await http.get("/v1/tickets", headers=headers)
        write = await http.put("/v1/products/SKU-1", json=product_body(), headers=_integration(app))

    for answer in (response, write):
        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == "database_unavailable"
        assert int(answer.headers["retry-after"]) > 0


@pytest.mark.postgres_only
async def test_a_connection_terminated_mid_request_is_a_503_and_nothing_is_written(client, auth, database_url):
    """The request waits on a row lock held elsewhere; its backend is terminated (pg_terminate_backend) while it
    waits, as a failover or an operator would."""
    integration = auth(Role.INTEGRATION)
    assert (await client.put("/v1/products/SKU-1", json=product_body(), headers=integration)).status_code == 201
    database = make_url(database_url).database
    blocker = await asyncpg.connect(_asyncpg_dsn(database_url))
    try:
        lock = blocker.transaction()
        await lock.start()
        await blocker.execute("SELECT 1 FROM products WHERE sku = 'SKU-1' FOR UPDATE")
        change = asyncio.create_task(
            client.put("/v1/products/SKU-1", json=product_body(name="changed"), headers=integration)
        )
        waiting = await _backend_waiting_on_a_lock(blocker, database)
        assert await blocker.fetchval("SELECT pg_terminate_backend($1)", waiting)
        response = await asyncio.wait_for(change, 10)
        await lock.rollback()
    finally:
        await blocker.close()

    assert response.status_code == 503, response.text
    assert response.json()["code"] == "database_unavailable"
    assert "retry-after" in response.headers
    after = await client.get("/v1/products/SKU-1", headers=auth(Role.AGENT))
    assert after.status_code == 200 and after.json()["name"] == product_body()["name"]


async def _backend_waiting_on_a_lock(conn: asyncpg.Connection, database: str) -> int:
    for _ in range(200):
        pid = await conn.fetchval(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = $1 AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
            database,
        )
        if pid is not None:
            return pid
        await asyncio.sleep(0.025)
    raise AssertionError("the request never waited on the lock")


def _agent(app) -> dict[str, str]:
    return _token(app, Role.AGENT)


def _integration(app) -> dict[str, str]:
    return _token(app, Role.INTEGRATION)


def _token(app, role: Role) -> dict[str, str]:
    token = app.state.services.tokens.issue(
        subject="probe", roles=[role], now=SystemClock().now(), ttl=timedelta(hours=1)
    )
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.postgres_only
@pytest.mark.parametrize("ping_after_idle, replaced", [(0.0, True), (3600.0, False)], ids=["pinged", "not pinged"])
async def test_a_pooled_connection_dropped_while_idle_is_replaced_when_pinged(database_url, ping_after_idle, replaced):
    """Its backend is terminated while it sits in the pool (a server restart, a proxy's idle timeout). A connection
    idle longer than `ping_after_idle` is pinged on checkout and, dead, replaced; one that is not pinged fails (the
    counter-case: it shows the ping is what saves the request)."""
    database = Database(database_url, pool_size=1, ping_after_idle=ping_after_idle)
    try:
        async with database.engine.connect() as conn:
            pooled = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        killer = await asyncpg.connect(_asyncpg_dsn(database_url))
        try:
            assert await killer.fetchval("SELECT pg_terminate_backend($1)", pooled)
        finally:
            await killer.close()
        if replaced:
            async with database.engine.connect() as conn:
                assert (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one() != pooled
        else:
            with pytest.raises(Exception) as failed:
                await database.ping()
            assert is_unavailable(failed.value)
    finally:
        await database.dispose()
