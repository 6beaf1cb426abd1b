"""Keyset pages: rows after the last key of the previous page, O(page) whatever the table size."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Row, Select, Table, select, tuple_, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.errors import FieldError, InvalidInput
from app.domain.pagination import PageRequest


def page_statement(
    stmt: Select[Any], key: Column[Any] | Sequence[Column[Any]], page: PageRequest, *, descending: bool = True
) -> Select[Any]:
    """`stmt` narrowed to one page ordered by `key` (one column, or several compared as a row value), with one
    row more than the page so the caller knows whether another follows."""
    columns = _columns(key)
    if page.after is not None:
        _check_cursor(columns, page.after)
        current = columns[0] if len(columns) == 1 else tuple_(*columns)
        after = page.after[0] if len(columns) == 1 else tuple_(*page.after)
        stmt = stmt.where(current < after if descending else current > after)
    order = [c.desc() if descending else c.asc() for c in columns]
    return stmt.order_by(*order).limit(page.limit + 1)


async def fetch_page(
    conn: AsyncConnection,
    stmt: Select[Any],
    key: Column[Any] | Sequence[Column[Any]],
    page: PageRequest,
    *,
    descending: bool = True,
) -> tuple[Sequence[Row[Any]], tuple[Any, ...] | None]:
    """Rows of one page and the key to continue after, or None on the last page."""
    rows = (await conn.execute(page_statement(stmt, key, page, descending=descending))).all()
    if len(rows) <= page.limit:
        return rows, None
    rows = rows[: page.limit]
    return rows, tuple(rows[-1]._mapping[c] for c in _columns(key))


async def fetch_merged_page(
    conn: AsyncConnection,
    table: Table,
    parts: Sequence[list[Any]],
    key: Column[Any] | Sequence[Column[Any]],
    page: PageRequest,
    *,
    descending: bool = True,
    also: Sequence[Any] = (),
) -> tuple[Sequence[Row[Any]], tuple[Any, ...] | None]:
    """The page of `table`'s rows matching any of the disjoint `parts` (lists of conditions), with the columns
    `also` selects beside each (subqueries correlated to the row: what its readers need from other tables).

    Each part is its own keyset page of sort keys only (an index seek); the union of those, at most len(parts) ×
    (limit + 1) keys, is merged in key order, cut to a page and joined to its rows. Keys only, because the database
    merges them as cheaply as rows and the statement is built per request: a union of full rows costs more to build
    in Python than to run. `key` ends with the primary key `id`."""
    if len(parts) == 1:
        return await fetch_page(conn, select(table, *also).where(*parts[0]), key, page, descending=descending)
    columns = _columns(key)
    keys = [
        page_statement(select(*columns).where(*part), key, page, descending=descending).subquery() for part in parts
    ]
    merged = union_all(*(select(*part.c) for part in keys)).subquery()
    order = [merged.c[c.name].desc() if descending else merged.c[c.name].asc() for c in columns]
    stmt = select(table, *also).join(merged, table.c.id == merged.c.id).order_by(*order).limit(page.limit + 1)
    rows = (await conn.execute(stmt)).all()
    if len(rows) <= page.limit:
        return rows, None
    return rows[: page.limit], tuple(rows[page.limit - 1]._mapping[c] for c in columns)


def _check_cursor(columns: list[Column[Any]], after: tuple[Any, ...]) -> None:
    """A cursor from another list (or of another sort) has other keys: refuse it rather than send it to SQL."""
    fits = len(after) == len(columns) and all(
        isinstance(value, _python_type(column)) for column, value in zip(columns, after, strict=True)
    )
    if not fits:
        raise InvalidInput(
            "The cursor does not belong to this list; start again without it",
            code="invalid_cursor",
            errors=[FieldError("cursor", "cursor of another list", location="query")],
        )


def _python_type(column: Column[Any]) -> type:
    try:
        return column.type.python_type
    except NotImplementedError:
        return object


def _columns(key: Column[Any] | Sequence[Column[Any]]) -> list[Column[Any]]:
    return [key] if isinstance(key, Column) else list(key)
