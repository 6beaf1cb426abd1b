"""Report rollups in SQL: the rollup job's cursor and counted events, tickets' histories read from the timeline, and
sums of the hourly rollups. Bucket keys (hours, histogram buckets) are computed in Python, never with a database's
date functions, so that SQLite and PostgreSQL hold the same rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, case, delete, func, null, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.conversation import voice_of
from app.domain.events import OutboxCursor
from app.domain.report_metrics import BACKLOG_IN, BACKLOG_OUT, Cell, Measure, Step
from app.domain.reports import Dimension, Dimensions, ReportQuery, RolledEvent, RollupRow, TicketFacts
from app.persistence.outbox_cursors import after_parameters, load_cursor, save_cursor
from app.persistence.tables import (
    ROLLUP_DIMENSIONS,
    outbox,
    products,
    ticket_rollup_events,
    ticket_rollups,
    tickets,
    timeline,
)
from app.persistence.upserts import insert_or_ignore

CURSOR_KEY = "report_rollup_cursor"
CHUNK = 500
"""Ids per `IN (…)` list: far below either database's limit on bound parameters."""

_O, _T, _L, _R = outbox.c, tickets.c, timeline.c, ticket_rollups.c
_COLUMN = dict(zip(Dimension, ROLLUP_DIMENSIONS, strict=True))

_EVENTS = (
    select(_O.id, _O.occurred_at, _O.aggregate_id, _O.type)
    .where(
        _O.aggregate_type == "ticket",
        _O.occurred_at >= bindparam("after_at"),
        or_(_O.occurred_at > bindparam("after_at"), _O.id > bindparam("after_id")),
        _O.occurred_at <= bindparam("until"),
    )
    .order_by(_O.occurred_at, _O.id)
    .limit(bindparam("limit"))
)
_DIMENSIONS = (
    _T.channel,
    _T.type,
    _T.category,
    _T.priority,
    _T.region,
    products.c.product_line,
    _T.group_key,
    _T.business_line,
)
_TICKETS = select(_T.id, *_DIMENSIONS).select_from(tickets.outerjoin(products, products.c.sku == _T.sku))
_STEPS = select(
    _L.subject_id,
    _L.id,
    _L.at,
    _L.kind,
    _L.action,
    _L.from_status,
    _L.to_status,
    _L.public,
    case((_L.kind == "comment", _L.payload), else_=null()).label("said"),  # a comment's speaker; no other payload
).order_by(_L.subject_id, _L.id)
"""Every line of a ticket's timeline: each event finds its own line among them (report_metrics.change_by)."""


def _upsert(conn: AsyncConnection) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(ticket_rollups)
    keys = [c for c in ticket_rollups.c if c.primary_key]
    return stmt.on_conflict_do_update(index_elements=keys, set_={"count": _R.count + stmt.excluded["count"]})


def _chunks(ids: Sequence[UUID]) -> list[list[UUID]]:
    return [list(ids[n : n + CHUNK]) for n in range(0, len(ids), CHUNK)]


def _applied(step_at: datetime, step_id: UUID, through: OutboxCursor) -> bool:
    """Whether the step's event is at or before the cursor (a step's id is just below its event's)."""
    return step_at < through.at or (step_at == through.at and (through.id is None or step_id < through.id))


class SqlReportRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def cursor(self) -> OutboxCursor | None:
        return await load_cursor(self._conn, CURSOR_KEY)

    async def save_cursor(self, cursor: OutboxCursor, at: datetime) -> None:
        await save_cursor(self._conn, CURSOR_KEY, cursor, at)

    async def events(self, after: OutboxCursor, until: datetime, limit: int) -> list[RolledEvent]:
        params = after_parameters(after, until, (), limit)
        del params["types"]
        rows = await self._conn.execute(_EVENTS, params)
        return [RolledEvent(row.id, row.occurred_at, row.aggregate_id, row.type) for row in rows]

    async def claim(self, events: Sequence[RolledEvent]) -> set[UUID]:
        ids = [event.id for event in events]
        counted: set[UUID] = set()
        for chunk in _chunks(ids):
            found = await self._conn.execute(
                select(ticket_rollup_events.c.event_id).where(ticket_rollup_events.c.event_id.in_(chunk))
            )
            counted.update(found.scalars())
        fresh = [event for event in events if event.id not in counted]
        if fresh:
            rows = [{"event_id": e.id, "occurred_at": e.occurred_at} for e in fresh]
            await self._conn.execute(insert_or_ignore(self._conn, ticket_rollup_events, "event_id"), rows)
        return {event.id for event in fresh}

    async def facts(self, ticket_ids: Sequence[UUID], through: OutboxCursor | None = None) -> list[TicketFacts]:
        dims: dict[UUID, Dimensions] = {}
        steps: dict[UUID, list[Step]] = {}
        for chunk in _chunks(list(dict.fromkeys(ticket_ids))):
            for row in await self._conn.execute(_TICKETS.where(_T.id.in_(chunk))):
                dims[row.id] = tuple(value or "" for value in row[1:])
            for row in await self._conn.execute(_STEPS.where(_L.subject_id.in_(chunk))):
                if through is None or _applied(row.at, row.id, through):
                    voice = voice_of(row.kind, row.action, row.public, row.said)
                    step = Step(row.id, row.at, row.kind, row.from_status, row.to_status, row.action, voice)
                    steps.setdefault(row.subject_id, []).append(step)
        return [TicketFacts(ticket_id, values, steps.get(ticket_id, [])) for ticket_id, values in dims.items()]

    async def touched(self, start: datetime, end: datetime) -> list[UUID]:
        stmt = (
            select(_O.aggregate_id)
            .where(_O.aggregate_type == "ticket", _O.occurred_at >= start, _O.occurred_at < end)
            .distinct()
        )
        return list((await self._conn.execute(stmt)).scalars())

    async def add(self, cells: Mapping[tuple[Cell, Dimensions], int]) -> None:
        rows = [
            {"hour": cell.hour, "measure": cell.measure.value, "bucket": cell.bucket, "count": n}
            | dict(zip(ROLLUP_DIMENSIONS, values, strict=True))
            for (cell, values), n in cells.items()
            if n
        ]
        if rows:
            await self._conn.execute(_upsert(self._conn), rows)

    async def clear(self, start: datetime, end: datetime) -> int:
        result = await self._conn.execute(delete(ticket_rollups).where(_R.hour >= start, _R.hour < end))
        return result.rowcount

    async def sums(self, query: ReportQuery, measures: Sequence[Measure]) -> list[RollupRow]:
        group = _R[_COLUMN[query.group_by]] if query.group_by else None
        keys = [_R.hour, _R.measure, _R.bucket, *([group] if group is not None else [])]
        stmt = (
            select(*keys, func.sum(_R.count).label("n"))
            .where(
                _R.hour >= query.utc_start,
                _R.hour < query.utc_end,
                _R.measure.in_([m.value for m in measures]),
                *_where(query),
            )
            .group_by(*keys)
        )
        return [
            RollupRow(row.hour, Measure(row.measure), row.bucket, row[3] if group is not None else None, int(row.n))
            for row in await self._conn.execute(stmt)
        ]

    async def opening_backlog(self, query: ReportQuery) -> dict[str | None, int]:
        group = _R[_COLUMN[query.group_by]] if query.group_by else None
        keys = [_R.measure, *([group] if group is not None else [])]
        stmt = (
            select(*keys, func.sum(_R.count).label("n"))
            .where(
                _R.hour < query.utc_start,
                _R.measure.in_([m.value for m in (*BACKLOG_IN, *BACKLOG_OUT)]),
                *_where(query),
            )
            .group_by(*keys)
        )
        opening: dict[str | None, int] = {}
        for row in await self._conn.execute(stmt):
            key = row[1] if group is not None else None
            sign = 1 if Measure(row.measure) in BACKLOG_IN else -1
            opening[key] = opening.get(key, 0) + sign * int(row.n)
        return opening


def _where(query: ReportQuery) -> list[Any]:
    """The query's filters and the caller's business-line scope (tickets of no line are everyone's)."""
    conditions: list[Any] = [_R[_COLUMN[d]] == value for d, value in query.filters.items()]
    if query.business_lines is not None:
        lines = _R.business_line
        conditions.append(or_(lines == "", lines.in_(sorted(query.business_lines))))
    return conditions
