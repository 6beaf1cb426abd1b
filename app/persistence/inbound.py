"""Inbound event rows ↔ entities: one per (source, webhook-id), keyset-paged newest first."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.errors import FieldError, InvalidInput
from app.domain.inbound import InboundEvent, InboundFilter, InboundStatus
from app.domain.pagination import Page, PageRequest
from app.persistence.keyset import fetch_merged_page
from app.persistence.lookups import Lookup
from app.persistence.tables import inbound_events


def _entity(row: Row[Any]) -> InboundEvent:
    return InboundEvent(
        id=row.id,
        source=row.source,
        webhook_id=row.webhook_id,
        type=row.type,
        payload=row.payload,
        status=InboundStatus(row.status),
        received_at=row.received_at,
        detail=row.detail,
        processed_at=row.processed_at,
    )


def _conditions(where: InboundFilter) -> list[Any]:
    c = inbound_events.c
    conditions = [c.status == where.status.value] if where.status is not None else []
    if where.source is not None:
        conditions.append(c.source == where.source)
    if where.type is not None:
        conditions.append(c.type == where.type)
    return conditions


_BY_SOURCE_ID = Lookup(inbound_events, inbound_events.c.source, inbound_events.c.webhook_id)


class SqlInboundEventRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, event_id: UUID) -> InboundEvent | None:
        row = (await self._conn.execute(select(inbound_events).where(inbound_events.c.id == event_id))).first()
        return _entity(row) if row else None

    async def find(self, source: str, webhook_id: str, *, for_update: bool = False) -> InboundEvent | None:
        row = await _BY_SOURCE_ID.row(self._conn, source, webhook_id, for_update=for_update)
        return _entity(row) if row else None

    async def add(self, event: InboundEvent) -> None:
        await self._conn.execute(
            insert(inbound_events).values(
                id=event.id,
                source=event.source,
                webhook_id=event.webhook_id,
                type=event.type,
                payload=event.payload,
                status=event.status.value,
                detail=event.detail,
                received_at=event.received_at,
                processed_at=event.processed_at,
            )
        )

    async def update(self, event: InboundEvent) -> None:
        await self._conn.execute(
            update(inbound_events)
            .where(inbound_events.c.id == event.id)
            .values(
                type=event.type,
                payload=event.payload,
                status=event.status.value,
                detail=event.detail,
                processed_at=event.processed_at,
            )
        )

    async def record_outcome(
        self, event_id: UUID, status: InboundStatus, detail: str | None, at: datetime
    ) -> InboundEvent | None:
        stmt = update(inbound_events).where(inbound_events.c.id == event_id)
        if status is not InboundStatus.PROCESSED:
            stmt = stmt.where(inbound_events.c.status != InboundStatus.PROCESSED.value)
        stmt = stmt.values(status=status.value, detail=detail, processed_at=at).returning(inbound_events)
        row = (await self._conn.execute(stmt)).first()
        return _entity(row) if row else None

    async def list(self, where: InboundFilter, page: PageRequest) -> Page[InboundEvent]:
        """Newest first. A source or a type is read from its (status, …, id) index once per state and merged when
        no status is named; naming both is refused, as no index serves them together."""
        if where.source is not None and where.type is not None:
            raise InvalidInput(
                "No index serves source and type together; name one of them",
                code="validation_failed",
                errors=[
                    FieldError(name, "combine at most one of source, type", location="query")
                    for name in ("source", "type")
                ],
            )
        named = (where.status,) if where.status is not None else tuple(InboundStatus)
        statuses = named if where.source is not None or where.type is not None else (where.status,)
        parts = [_conditions(replace(where, status=status)) for status in statuses]
        rows, next_key = await fetch_merged_page(self._conn, inbound_events, parts, inbound_events.c.id, page)
        return Page([_entity(row) for row in rows], next_key)
