"""INSERT … ON CONFLICT DO NOTHING in the connection's dialect (PostgreSQL and SQLite spell it the same way)."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert


def insert_or_ignore(conn: AsyncConnection, table: Table, *conflict_columns: str) -> Insert:
    """An insert that writes nothing where a row with the same `conflict_columns` exists."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    columns = [table.c[name] for name in conflict_columns]
    return dialect.insert(table).on_conflict_do_nothing(index_elements=columns)
