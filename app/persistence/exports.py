"""Rows of exports, read in keyset pages by (created_at, id) through the tickets' index: each page is one short
statement, so an export of millions of rows holds neither a connection nor memory for long."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.exports import Cell, ExportKey
from app.persistence.scope import in_business_lines
from app.persistence.tables import tickets

_T = tickets.c
TICKET_COLUMNS = (  # app/services/exports.py names them in its header, in this order
    _T.number,
    _T.created_at,
    _T.status,
    _T.channel,
    _T.type,
    _T.priority,
    _T.category,
    _T.region,
    _T.business_line,
    _T.group_key,
    _T.assignee,
    _T.customer_no,
    _T.order_no,
    _T.sku,
    _T.title,
    _T.resolved_at,
    _T.finished_at,
)


class SqlExportRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def tickets(
        self, start: datetime, end: datetime, lines: frozenset[str] | None, after: ExportKey | None, limit: int
    ) -> tuple[list[Sequence[Cell]], ExportKey | None]:
        """Tickets created in [start, end), oldest first, after `after`; with the key of the last one when the
        page is full."""
        conditions: list[Any] = [_T.created_at >= start, _T.created_at < end]
        if after is not None:
            at, last = after
            conditions.append(or_(_T.created_at > at, (_T.created_at == at) & (_T.id > last)))
        conditions += in_business_lines(_T.business_line, lines)
        stmt = select(_T.id, *TICKET_COLUMNS).where(*conditions).order_by(_T.created_at, _T.id).limit(limit)
        rows = list(await self._conn.execute(stmt))
        key = (rows[-1].created_at, rows[-1].id) if len(rows) == limit else None
        return [tuple(row[1:]) for row in rows], key
