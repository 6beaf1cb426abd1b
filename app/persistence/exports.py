"""Rows of record exports, read in keyset pages by (time, id) through an index on the two: each page is one short
statement, so an export of millions of rows holds neither a connection nor memory for long.

Each export's columns come from its table by name (app/domain/exports.py RECORD_EXPORTS); only the columns whose
stored name differs are listed here, so adding an export is its domain definition and a line here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.exports import RECORD_EXPORTS, Cell, ExportKey, RecordExport
from app.domain.surveys import SurveyStatus
from app.persistence.scope import in_business_lines
from app.persistence.tables import after_sales_orders, surveys, tasks, tickets


def _ticket_number(ticket_id: Any) -> ColumnElement[Any]:
    return select(tickets.c.number).where(tickets.c.id == ticket_id).scalar_subquery()


@dataclass(frozen=True)
class Source:
    """Where an export's rows live: the table, the columns not named as the export names them, and any condition
    beyond the time range and the business-line scope."""

    table: Table
    renamed: Mapping[str, ColumnElement[Any]] = field(default_factory=dict)
    where: tuple[ColumnElement[bool], ...] = ()

    def columns(self, spec: RecordExport) -> list[ColumnElement[Any]]:
        return [self.renamed.get(name, self.table.c.get(name)) for name in spec.columns]  # type: ignore[misc]


SOURCES = {
    "tickets": Source(tickets, {"group": tickets.c.group_key}),
    "after-sales": Source(after_sales_orders, {"ticket": _ticket_number(after_sales_orders.c.ticket_id)}),
    "tasks": Source(
        tasks,
        {
            "ticket": _ticket_number(tasks.c.ticket_id),
            "group": tasks.c.group_key,
            "estimated_hours": tasks.c.estimated_centihours,
            "reported_hours": tasks.c.reported_centihours,
            "approved_hours": tasks.c.approved_centihours,
        },
    ),
    "survey-answers": Source(
        surveys, {"group": surveys.c.group_key}, where=(surveys.c.status == SurveyStatus.ANSWERED.value,)
    ),
}
_MISSING = {
    (name, column)
    for name, spec in RECORD_EXPORTS.items()
    for column, source in zip(spec.columns, SOURCES[name].columns(spec), strict=True)
    if source is None
}
if _MISSING:  # at import: a definition naming a column its table lacks never reaches a request
    raise LookupError(f"export columns without a source: {_MISSING}")


class SqlExportRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    def _conditions(
        self, spec: RecordExport, start: datetime, end: datetime, lines: frozenset[str] | None
    ) -> list[ColumnElement[bool]]:
        source = SOURCES[spec.name]
        at = source.table.c[spec.by]
        return [at >= start, at < end, *source.where, *in_business_lines(source.table.c.business_line, lines)]

    async def count(self, spec: RecordExport, start: datetime, end: datetime, lines: frozenset[str] | None) -> int:
        conditions = self._conditions(spec, start, end, lines)
        stmt = select(func.count()).select_from(SOURCES[spec.name].table).where(*conditions)
        return int((await self._conn.execute(stmt)).scalar_one())

    async def rows(
        self,
        spec: RecordExport,
        start: datetime,
        end: datetime,
        lines: frozenset[str] | None,
        after: ExportKey | None,
        limit: int,
    ) -> tuple[list[Sequence[Cell]], ExportKey | None]:
        source = SOURCES[spec.name]
        table = source.table
        at, id_ = table.c[spec.by], table.c.id
        conditions = self._conditions(spec, start, end, lines)
        if after is not None:
            last_at, last_id = after
            conditions.append(or_(at > last_at, (at == last_at) & (id_ > last_id)))
        stmt = (
            select(at.label("keyset_at"), id_.label("keyset_id"), *source.columns(spec))
            .where(*conditions)
            .order_by(at, id_)
            .limit(limit)
        )
        rows = list(await self._conn.execute(stmt))
        key = (rows[-1][0], rows[-1][1]) if len(rows) == limit else None
        return [tuple(row[2:]) for row in rows], key
