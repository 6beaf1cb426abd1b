"""Reading one row by its key, with the statement built once.

A statement built inside a request costs its construction and its cache key every time (measured: the larger
share of a small read's SQLAlchemy time); one built at import, executed with parameters, is served from the
compiled cache."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Row, Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection


class Lookup:
    """`SELECT * FROM table WHERE key columns = :values`, plain and `FOR UPDATE`."""

    def __init__(self, table: Table, *columns: Column[Any]) -> None:
        self._names = tuple(f"key_{column.name}" for column in columns)
        plain = select(table).where(
            *(column == bindparam(name) for column, name in zip(columns, self._names, strict=True))
        )
        self._statements = {False: plain, True: plain.with_for_update()}

    async def row(self, conn: AsyncConnection, *keys: Any, for_update: bool = False) -> Row[Any] | None:
        params = dict(zip(self._names, keys, strict=True))
        return (await conn.execute(self._statements[for_update], params)).first()
