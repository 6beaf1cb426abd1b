"""Statements built once: reading one row by its key, and conditions that need no per-request rendering.

A statement built inside a request costs its construction and its cache key every time (measured: the larger
share of a small read's SQLAlchemy time); one built at import, executed with parameters, is served from the
compiled cache."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, ColumnElement, Row, Table, bindparam, or_, select
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


def equals_any(column: Column[Any], values: tuple[Any, ...]) -> ColumnElement[bool]:
    """`column IN (values)` for a set fixed at import, written as equalities: SQLAlchemy renders every IN list
    again at each execution (an "expanding" parameter), equalities are compiled once with the statement."""
    return or_(*(column == value for value in values))
