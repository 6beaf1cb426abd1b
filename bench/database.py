"""A throwaway PostgreSQL database, migrated to head, that is dropped however the run ends."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy.engine import make_url

from app.persistence.migrations import upgrade_to_head

ADMIN_URL_ENV = "AFTERSALES_BENCH_POSTGRES_URL"
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@asynccontextmanager
async def throwaway_database() -> AsyncIterator[str]:
    """Yield the SQLAlchemy URL of a fresh, migrated database; drop it with FORCE so live connections cannot block."""
    admin = make_url(os.environ.get(ADMIN_URL_ENV, DEFAULT_ADMIN_URL)).set(drivername="postgresql")
    admin_dsn = admin.render_as_string(hide_password=False)
    name = f"aftersales_bench_{uuid.uuid4().hex[:12]}"
    await _execute(admin_dsn, f'CREATE DATABASE "{name}"')
    try:
        url = admin.set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)
        await asyncio.to_thread(upgrade_to_head, url)
        yield url
    finally:
        await _execute(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _execute(dsn: str, statement: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()
