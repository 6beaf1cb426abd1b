"""CSV exports for BI tools and spreadsheets: streamed page by page (constant memory, each page its own short read),
UTF-8 with a BOM, formula-looking cells neutralised, times in the requested zone (app/domain/exports.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from app.domain.exports import BOM, ExportKey, csv_lines
from app.domain.principal import Principal
from app.domain.reports import ReportQuery
from app.domain.unit_of_work import UnitOfWorkFactory

PAGE = 2000
"""Rows per read: one index range scan each, a few hundred kilobytes of CSV."""
TICKET_HEADER = (
    "number",
    "created_at",
    "status",
    "channel",
    "type",
    "priority",
    "category",
    "region",
    "business_line",
    "group",
    "assignee",
    "customer_no",
    "order_no",
    "sku",
    "title",
    "resolved_at",
    "finished_at",
)
EXPORTS = ("tickets",)


class ExportService:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def tickets(self, principal: Principal, query: ReportQuery) -> AsyncIterator[bytes]:
        """The tickets created in the query's local days, oldest first, within the caller's business lines."""
        lines = principal.business_line_scope
        yield (BOM + csv_lines([TICKET_HEADER], query.zone)).encode()
        after: ExportKey | None = None
        while True:
            async with self._uow.read() as uow:
                rows, after = await uow.exports.tickets(query.utc_start, query.utc_end, lines, after, PAGE)
            if rows:
                yield csv_lines(rows, query.zone).encode()
            if after is None:
                return
