"""Timeline and outbox rows, written in the transaction of the change they record."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Row, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.events import OutboxEvent, TimelineEntry
from app.domain.pagination import Page, PageRequest
from app.persistence.keyset import fetch_page
from app.persistence.tables import outbox, timeline


def _entry(row: Row[Any]) -> TimelineEntry:
    return TimelineEntry(
        id=row.id,
        subject_id=row.subject_id,
        at=row.at,
        actor=row.actor,
        kind=row.kind,
        action=row.action,
        from_status=row.from_status,
        to_status=row.to_status,
        remark=row.remark,
        payload=row.payload,
        public=row.public,
        remark_public=row.remark_public,
    )


class SqlTimelineRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, entry: TimelineEntry) -> None:
        await self._conn.execute(
            insert(timeline).values(
                id=entry.id,
                subject_id=entry.subject_id,
                at=entry.at,
                actor=entry.actor,
                kind=entry.kind,
                action=entry.action,
                from_status=entry.from_status,
                to_status=entry.to_status,
                remark=entry.remark,
                payload=entry.payload,
                public=entry.public,
                remark_public=entry.remark_public,
            )
        )

    async def list(self, subject_id: UUID, page: PageRequest, *, public_only: bool) -> Page[TimelineEntry]:
        """Oldest first, as a history reads."""
        stmt = select(timeline).where(timeline.c.subject_id == subject_id)
        if public_only:
            stmt = stmt.where(timeline.c.public.is_(True))
        rows, next_key = await fetch_page(self._conn, stmt, timeline.c.id, page, descending=False)
        return Page([_entry(row) for row in rows], next_key)


class SqlOutboxRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, event: OutboxEvent) -> None:
        await self._conn.execute(
            insert(outbox).values(
                id=event.id,
                type=event.type,
                aggregate_type=event.aggregate_type,
                aggregate_id=event.aggregate_id,
                occurred_at=event.occurred_at,
                payload=event.payload,
            )
        )
