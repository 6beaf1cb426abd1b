"""CSV exports as spreadsheets read them: UTF-8 with a BOM (so that Excel opens Chinese text), cells that a
spreadsheet would run as a formula neutralised, times in the requested zone, money in major units, file names for
Content-Disposition; and the catalogue of record exports (which rows, which columns, which time picks them)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol
from urllib.parse import quote
from uuid import UUID
from zoneinfo import ZoneInfo

from app.domain.money import major_units

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What spreadsheet software reads as the start of a formula (OWASP CSV injection): such a cell gets a leading `'`."""

Cell = str | bool | int | float | Decimal | datetime | date | Sequence[str] | None


def neutralised(text: str) -> str:
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def cell(value: Cell, zone: ZoneInfo) -> str:
    """A value as its cell: times in `zone` (RFC 3339 with the zone's offset), days and numbers as written, lists
    joined by `;`, text neutralised, null empty. Only text is neutralised: a negative number is a number."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(zone).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return neutralised(value)
    return neutralised(";".join(value))


def csv_lines(rows: Sequence[Sequence[Cell]], zone: ZoneInfo) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([cell(value, zone) for value in row] for row in rows)
    return out.getvalue()


def content_disposition(name: str, start: date, end: date) -> str:
    """`attachment` with an ASCII file name and its RFC 5987 form (names are ASCII today; the form keeps it so)."""
    file_name = f"{name}-{start.isoformat()}-{end.isoformat()}.csv"
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\%' else "_" for c in file_name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


@dataclass(frozen=True, slots=True)
class RecordExport:
    """One kind of record as CSV: its columns in order, the time column whose local days pick the rows (and order
    them, oldest first), amounts shown in major units of the currency column beside them, hundredths of an hour
    shown as decimal hours. The persistence layer says where each column comes from."""

    name: str
    title: str
    by: str
    columns: tuple[str, ...]
    money: Mapping[str, str] = field(default_factory=dict)
    hours: frozenset[str] = frozenset()

    def cells(self, row: Sequence[Cell]) -> list[Cell]:
        """A stored row as its cells: integer minor units and centihours become exact decimals."""
        values = dict(zip(self.columns, row, strict=True))
        for amount, currency in self.money.items():
            if values[amount] is not None:
                values[amount] = major_units(values[amount], values[currency])  # type: ignore[arg-type]
        for name in self.hours:
            if values[name] is not None:
                values[name] = Decimal(values[name]).scaleb(-2)  # type: ignore[arg-type]
        return list(values.values())


RECORD_EXPORTS = {
    spec.name: spec
    for spec in (
        RecordExport(
            "tickets",
            "Tickets created in the local days",
            by="created_at",
            columns=(
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
            ),
        ),
        RecordExport(
            "after-sales",
            "After-sales orders (售后单) created in the local days, amounts in major units of their currency",
            by="created_at",
            columns=(
                "number",
                "created_at",
                "type",
                "status",
                "order_no",
                "customer_no",
                "ticket",
                "amount",
                "currency",
                "compensation_kind",
                "reason_code",
                "description",
                "lightning",
                "review_rule",
                "reviewed_by",
                "assignee",
                "business_line",
                "returned_at",
                "finished_at",
            ),
            money={"amount": "currency"},
        ),
        RecordExport(
            "tasks",
            "Tasks (任务单) created in the local days, hours as decimal hours",
            by="created_at",
            columns=(
                "number",
                "created_at",
                "ticket",
                "title",
                "status",
                "assignee",
                "group",
                "business_line",
                "due_at",
                "started_at",
                "completed_at",
                "estimated_hours",
                "reported_hours",
                "approved_hours",
                "approved_by",
                "outcome",
                "archived_at",
                "result",
            ),
            hours=frozenset({"estimated_hours", "reported_hours", "approved_hours"}),
        ),
        RecordExport(
            "survey-answers",
            "Satisfaction survey answers (满意度) given in the local days",
            by="answered_at",
            columns=(
                "number",
                "answered_at",
                "subject_type",
                "title",
                "round",
                "customer_no",
                "agent",
                "group",
                "sku",
                "region",
                "channel",
                "business_line",
                "csat",
                "nps",
                "reasons",
                "comment",
            ),
        ),
    )
}

ExportKey = tuple[datetime, UUID]


class ExportRepository(Protocol):
    async def count(self, spec: RecordExport, start: datetime, end: datetime, lines: frozenset[str] | None) -> int:
        """How many records `rows` reads over all its pages."""
        ...

    async def rows(
        self,
        spec: RecordExport,
        start: datetime,
        end: datetime,
        lines: frozenset[str] | None,
        after: ExportKey | None,
        limit: int,
    ) -> tuple[list[Sequence[Cell]], ExportKey | None]:
        """The records whose `spec.by` time is in [start, end) within the business lines, oldest first, after
        `after`, in `spec.columns` order; with the key of the last one when the page is full."""
        ...
