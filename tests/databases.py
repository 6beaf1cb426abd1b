"""Throwaway databases for the suite: a SQLite file and a PostgreSQL database per run, migrated to head."""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from app.persistence.migrations import upgrade_to_head
from app.persistence.tables import metadata

POSTGRES_ADMIN_URL = os.environ.get(
    "AFTERSALES_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"
DATABASE_PREFIX = os.environ.get("AFTERSALES_TEST_DATABASE_PREFIX", "aftersales_test_")
"""On a shared server, a prefix of your own (e.g. `ci_42_aftersales_`) keeps runs apart and easy to clean up."""
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,50}$")


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def create_postgres_database() -> str:
    """Create an empty database; skip loudly when PostgreSQL is unreachable, unless it is required."""
    if not _IDENTIFIER.match(DATABASE_PREFIX):
        pytest.fail(
            f"AFTERSALES_TEST_DATABASE_PREFIX={DATABASE_PREFIX!r}: use lower-case letters, digits and _ (≤ 51)",
            pytrace=False,
        )
    name = f"{DATABASE_PREFIX}{uuid.uuid4().hex[:12]}"
    try:
        conn = await asyncpg.connect(_asyncpg_dsn(POSTGRES_ADMIN_URL), timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        message = f"PostgreSQL unreachable at {make_url(POSTGRES_ADMIN_URL).host}: {exc!r}"
        if REQUIRE_POSTGRES:
            pytest.fail(f"REQUIRE_POSTGRES=1 but {message}", pytrace=False)
        print(f"\n!!! SKIPPING THE POSTGRESQL HALF OF THE SUITE: {message} !!!\n")
        pytest.skip(message)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


async def drop_postgres_database(url: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(POSTGRES_ADMIN_URL))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    finally:
        await conn.close()


def sqlite_url(directory: Path) -> str:
    return f"sqlite+aiosqlite:///{directory / 'aftersales-test.db'}"


async def migrate(url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, url)


async def empty_all_tables(engine: AsyncEngine) -> None:
    """Between tests: every table emptied, schema kept."""
    tables = [table.name for table in reversed(metadata.sorted_tables)]
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - our own table names
