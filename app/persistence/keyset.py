"""Keyset pages: rows after the last key of the previous page, O(page) whatever the table size."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Row, Select, tuple_
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
