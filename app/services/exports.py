"""CSV exports for BI tools and spreadsheets: records streamed page by page (constant memory, each page its own short
read) and reports as their services answer them; UTF-8 with a BOM, formula-looking cells neutralised, times in the
requested zone, money in major units (app/domain/exports.py).

Every export is a coroutine that does its checks and first read before answering the stream: a refusal is then a
problem document, never a body cut off after its status line was sent."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from app.domain.exports import BOM, Cell, ExportKey, RecordExport, csv_lines
from app.domain.pagination import PageRequest
from app.domain.principal import Principal
from app.domain.report_exports import TIMES_REPORT, VOLUME, WORK_HOURS, ReportExport
from app.domain.reports import ReportQuery
from app.domain.tasks import WorkHoursQuery
from app.domain.unit_of_work import UnitOfWorkFactory
from app.services.reports import ReportService
from app.services.tasks import TaskService

PAGE = 2000
"""Rows per read: one index range scan each, a few hundred kilobytes of CSV."""
HANDLERS_PAGE = 500
"""Handlers per read of the work-hours report."""
UTC = ZoneInfo("UTC")
Progress = Callable[[int], None]
"""Told how many rows were just written."""


def header(columns: Sequence[str]) -> bytes:
    return (BOM + csv_lines([columns], UTC)).encode()


class ExportService:
    def __init__(self, uow: UnitOfWorkFactory, reports: ReportService, tasks: TaskService) -> None:
        self._uow = uow
        self._reports = reports
        self._tasks = tasks

    async def records(
        self, principal: Principal, spec: RecordExport, query: ReportQuery, progress: Progress | None = None
    ) -> AsyncIterator[bytes]:
        """The records whose `spec.by` time is in the query's local days, oldest first, within the caller's
        business lines. `progress` hears how many rows each page wrote (the command line's bar)."""
        lines = principal.business_line_scope
        zone = query.zone

        async def page(after: ExportKey | None) -> tuple[list[Sequence[Cell]], ExportKey | None]:
            async with self._uow.read() as uow:
                return await uow.exports.rows(spec, query.utc_start, query.utc_end, lines, after, PAGE)

        async def stream(rows: list[Sequence[Cell]], after: ExportKey | None) -> AsyncIterator[bytes]:
            yield header(spec.columns)
            while True:
                if rows:
                    yield csv_lines([spec.cells(row) for row in rows], zone).encode()
                    if progress is not None:
                        progress(len(rows))
                if after is None:
                    return
                rows, after = await page(after)

        return stream(*await page(None))

    async def count(self, principal: Principal, spec: RecordExport, query: ReportQuery) -> int:
        """How many rows `records` writes (the command line's bar total)."""
        async with self._uow.read() as uow:
            return await uow.exports.count(spec, query.utc_start, query.utc_end, principal.business_line_scope)

    async def volume(self, principal: Principal, query: ReportQuery) -> AsyncIterator[bytes]:
        return _report(VOLUME, _once(await self._reports.volume(principal, query)), query.zone)

    async def times(self, principal: Principal, query: ReportQuery) -> AsyncIterator[bytes]:
        return _report(TIMES_REPORT, _once(await self._reports.times(principal, query)), query.zone)

    async def work_hours(self, principal: Principal, query: WorkHoursQuery) -> AsyncIterator[bytes]:
        """Every handler's figures, read a page of handlers at a time."""

        async def pages(first: Any) -> AsyncIterator[Iterable[Any]]:
            found = first
            while True:
                yield found.items
                if found.next_key is None:
                    return
                found = await self._read_hours(principal, query, found.next_key)

        return _report(WORK_HOURS, pages(await self._read_hours(principal, query, None)), UTC)

    async def _read_hours(self, principal: Principal, query: WorkHoursQuery, after: tuple[Any, ...] | None) -> Any:
        page = PageRequest(limit=HANDLERS_PAGE, after=after)
        return await self._tasks.work_hours(principal, query.start, query.end, query.assignee, page)


async def _once(rows: Iterable[Any]) -> AsyncIterator[Iterable[Any]]:
    yield rows


async def _report(spec: ReportExport, pages: AsyncIterator[Iterable[Any]], zone: ZoneInfo) -> AsyncIterator[bytes]:
    yield header(spec.columns)
    async for rows in pages:
        yield csv_lines([spec.cells(row) for row in rows], zone).encode()
