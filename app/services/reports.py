"""Reports: the rollup job that keeps the hourly ticket rollups current from the outbox, the re-derive that rebuilds
a range of hours from the raw rows, and the reports read from the rollups (docs/reports.md).

The job reads ticket events after its stored cursor (SETTLE behind now, as the survey and churn jobs do), records
each as counted (an event read again counts nothing), and adds what it changed: the contribution of the ticket's
history through the event minus that before it (app/domain/report_metrics.py). The create path pays nothing."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from app.domain.clock import Clock
from app.domain.errors import FieldError, InvalidInput
from app.domain.events import OutboxCursor, cursor_after
from app.domain.principal import Principal
from app.domain.report_metrics import COUNTS, TIMES, Cell, change_by, contribution, hour_of
from app.domain.reports import Dimensions, ReportQuery, TimesRow, VolumeRow, times, volume
from app.domain.unit_of_work import UnitOfWorkFactory

BATCH = 200
"""Events per transaction: each reads its tickets' histories in one statement per 500 tickets."""
SETTLE = timedelta(minutes=2)
"""How far behind now the cursor stays: longer than any transaction that records a ticket event takes."""
BEGINNING = OutboxCursor(datetime(2000, 1, 1, tzinfo=UTC))
"""A first pass reads every event there is."""


@dataclass(frozen=True, slots=True)
class Rederived:
    start: datetime
    end: datetime
    tickets: int
    cells: int


class ReportService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, max_days: int) -> None:
        self._uow = uow
        self._clock = clock
        self.max_days = max_days

    async def run(self) -> int:
        """One pass of the rollup job; answers how many events it counted."""
        counted = 0
        while True:
            async with self._uow.write() as uow:
                now = self._clock.now()
                until = now - SETTLE
                cursor = await uow.reports.cursor() or BEGINNING
                read = await uow.reports.events(cursor, until, BATCH)
                fresh = await uow.reports.claim(read)
                facts = {f.id: f for f in await uow.reports.facts([e.ticket_id for e in read if e.id in fresh])}
                cells: Counter[tuple[Cell, Dimensions]] = Counter()
                for event in read:
                    ticket = facts.get(event.ticket_id)
                    if event.id in fresh and ticket is not None:
                        for cell, n in change_by(ticket.history, event.id, event.type).items():
                            cells[(cell, ticket.dimensions)] += n
                await uow.reports.add(cells)
                await uow.reports.save_cursor(cursor_after(cursor, read, BATCH, until), now)
                await uow.commit()
            counted += len(fresh)
            if len(read) < BATCH:
                return counted

    async def rederive(self, start: datetime, end: datetime) -> Rederived:
        """Rebuild the rollups of the hours in [start, end) from the tickets and their timelines, as far as the job
        has read (a later event is still the job's to count): heals late, lost or replayed events."""
        if start != hour_of(start) or end != hour_of(end) or end <= start:
            raise InvalidInput(
                "A re-derive covers whole hours, `from` before `to`",
                code="validation_failed",
                errors=[FieldError("to", "whole UTC hours, after `from`", "body")],
            )
        if end - start > timedelta(days=self.max_days):
            raise InvalidInput(
                f"A re-derive covers at most {self.max_days} days",
                code="validation_failed",
                errors=[FieldError("to", f"at most {self.max_days} days after `from`", "body")],
            )
        async with self._uow.write() as uow:
            cursor = await uow.reports.cursor() or BEGINNING
            end = max(start, min(end, hour_of(cursor.at)))
            ids = await uow.reports.touched(start, end)
            cells: Counter[tuple[Cell, Dimensions]] = Counter()
            for ticket in await uow.reports.facts(ids, through=cursor):
                for cell, n in contribution(ticket.history).items():
                    if start <= cell.hour < end:
                        cells[(cell, ticket.dimensions)] += n
            await uow.reports.clear(start, end)
            await uow.reports.add(cells)
            await uow.commit()
        return Rederived(start, end, len(ids), len(cells))

    async def volume(self, principal: Principal, query: ReportQuery) -> list[VolumeRow]:
        query = replace(query, business_lines=principal.business_line_scope)
        async with self._uow.read() as uow:
            rows = await uow.reports.sums(query, COUNTS)
            opening = await uow.reports.opening_backlog(query)
        return volume(query, rows, opening)

    async def times(self, principal: Principal, query: ReportQuery) -> list[TimesRow]:
        query = replace(query, business_lines=principal.business_line_scope)
        async with self._uow.read() as uow:
            rows = await uow.reports.sums(query, TIMES)
        return times(query, rows)
