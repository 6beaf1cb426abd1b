"""Timeline and outbox rows, written in the transaction of the change they record."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any
from uuid import UUID

from sqlalchemy import Insert, Row, Table, bindparam, insert, select
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


_WRITTEN = {
    timeline: [c.name for c in timeline.c],
    outbox: ["id", "type", "aggregate_type", "aggregate_id", "occurred_at", "payload"],
}
"""The columns each row writes (the outbox's sequence and fan-out flag are the database's)."""
_ADD_ENTRY = insert(timeline)
_ADD_EVENTS = insert(outbox)


def _placeholders(table: Table, prefix: str) -> dict[str, Any]:
    return {name: bindparam(f"{prefix}{name}", type_=table.c[name].type) for name in _WRITTEN[table]}


def outbox_placeholders(prefix: str) -> dict[str, Any]:
    """Bound parameters for one outbox row, named `<prefix><column>` (another table's write may carry its event)."""
    return _placeholders(outbox, prefix)


def outbox_values(event: OutboxEvent, prefix: str) -> dict[str, Any]:
    """`event`'s values for `outbox_placeholders(prefix)`."""
    return {f"{prefix}{k}": v for k, v in _event_row(event).items()}


@cache
def _entry_with_events(count: int) -> Insert:
    """PostgreSQL: a timeline row and `count` outbox rows in one statement (data-modifying CTEs), built once per
    count. Each event is an INSERT of its own (a multi-row VALUES has no cache key: SQLAlchemy would compile it
    anew for every request, a tenth of a ticket create's CPU, measured), and each reads the row the one before it
    returned, so that the database numbers them (`sequence`) in the order they were recorded."""
    entry = insert(timeline).values(_placeholders(timeline, "t_")).returning(timeline.c.id).cte("entry")
    statements: list[Any] = [entry]
    previous = None
    for n in range(count):
        row = _placeholders(outbox, f"o{n}_")
        event = (
            insert(outbox).values(row)
            if previous is None
            else insert(outbox).from_select(list(row), select(*row.values()).select_from(previous))
        )
        if n == count - 1:
            return event.add_cte(*statements)
        previous = event.returning(outbox.c.id).cte(f"event_{n}")
        statements.append(previous)
    raise ValueError("a timeline entry with events has at least one")


def _entry_row(entry: TimelineEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in _WRITTEN[timeline]}


def _event_row(event: OutboxEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "type": event.type,
        "aggregate_type": event.aggregate_type,
        "aggregate_id": event.aggregate_id,
        "occurred_at": event.occurred_at,
        "payload": event.payload,
    }


class SqlTimelineRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, entry: TimelineEntry, events: Sequence[OutboxEvent] = ()) -> None:
        if events and self._conn.dialect.name == "postgresql":
            values = {f"t_{k}": v for k, v in _entry_row(entry).items()}
            for n, event in enumerate(events):
                values |= outbox_values(event, f"o{n}_")
            await self._conn.execute(_entry_with_events(len(events)), values)
            return
        await self._conn.execute(_ADD_ENTRY, _entry_row(entry))
        if events:
            await SqlOutboxRepository(self._conn).add(*events)

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

    async def add(self, *events: OutboxEvent) -> None:
        """One statement, built once, for any number of events (executed for many rows at once)."""
        if events:
            rows = [_event_row(event) for event in events]
            await self._conn.execute(_ADD_EVENTS, rows)
