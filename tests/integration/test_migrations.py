"""The schema comes only from migrations, and the migrations build exactly what the code declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from app.persistence.migrations import head_revision
from app.persistence.tables import SEARCH_INDEX_OBJECTS, metadata

OPTIONS = {"compare_type": True, "include_name": lambda name, _type, _parent: name not in SEARCH_INDEX_OBJECTS}
"""The search index objects only a migration can declare (see SEARCH_INDEX_OBJECTS) are compared by the search
tests instead."""


async def test_migrations_and_table_definitions_do_not_drift(database_url):
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts=OPTIONS), metadata)
            )
            revision = await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
    finally:
        await engine.dispose()

    assert diff == [], "tables.py and migrations differ: write a migration"
    assert revision == head_revision()
