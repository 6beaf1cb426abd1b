"""Keyset pages over a time-ordered id: newest first, O(page) whatever the table size."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Row, Select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.pagination import PageRequest


async def fetch_page(
    conn: AsyncConnection, stmt: Select[Any], key: Column[Any], page: PageRequest
) -> tuple[Sequence[Row[Any]], tuple[Any, ...] | None]:
    """Rows of one page (`key` descending) and the key to continue after, or None on the last page."""
    if page.after is not None:
        stmt = stmt.where(key < page.after[0])
    rows = (await conn.execute(stmt.order_by(key.desc()).limit(page.limit + 1))).all()
    if len(rows) <= page.limit:
        return rows, None
    rows = rows[: page.limit]
    return rows, (rows[-1]._mapping[key],)
