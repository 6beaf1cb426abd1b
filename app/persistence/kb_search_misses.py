"""Search miss rows, counted by one INSERT … ON CONFLICT DO UPDATE per miss (PostgreSQL and SQLite spell it alike)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.kb_search_misses import NO_LINE, MissFilter, SearchMiss
from app.domain.pagination import Page, PageRequest
from app.persistence.keyset import fetch_page
from app.persistence.tables import kb_search_misses

_MISSES = kb_search_misses


class SqlSearchMissRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def record(self, query: str, business_lines: frozenset[str], at: datetime) -> None:
        dialect = postgresql if self._conn.dialect.name == "postgresql" else sqlite
        rows = [
            {"business_line": line, "query": query, "count": 1, "first_seen": at, "last_seen": at}
            for line in sorted(business_lines) or [NO_LINE]
        ]
        stmt = dialect.insert(_MISSES).values(rows)
        stmt = stmt.on_conflict_do_update(
            index_elements=[_MISSES.c.business_line, _MISSES.c.query],
            set_={"count": _MISSES.c.count + 1, "last_seen": stmt.excluded.last_seen},
        )
        await self._conn.execute(stmt)

    async def list(self, where: MissFilter, page: PageRequest) -> Page[SearchMiss]:
        conditions = []
        if where.since is not None:
            conditions.append(_MISSES.c.last_seen >= where.since)
        if where.until is not None:
            conditions.append(_MISSES.c.last_seen < where.until)
        if where.business_lines is not None:
            lines = [NO_LINE, *sorted(where.business_lines)]
            conditions.append(or_(_MISSES.c.business_line.in_(lines)))
        key = [_MISSES.c.count, _MISSES.c.query, _MISSES.c.business_line]
        rows, next_key = await fetch_page(self._conn, select(_MISSES).where(*conditions), key, page)
        misses = [
            SearchMiss(row.query, row.business_line or None, row.count, row.first_seen, row.last_seen) for row in rows
        ]
        return Page(misses, next_key)
