"""CSV exports as spreadsheets read them: UTF-8 with a BOM (so that Excel opens Chinese text), cells that a
spreadsheet would run as a formula neutralised, times in the requested zone, file names for Content-Disposition."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol
from urllib.parse import quote
from uuid import UUID
from zoneinfo import ZoneInfo

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What spreadsheet software reads as the start of a formula (OWASP CSV injection): such a cell gets a leading `'`."""

Cell = str | int | datetime | None


def neutralised(text: str) -> str:
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def cell(value: Cell, zone: ZoneInfo) -> str:
    """A value as its cell: times in `zone` (RFC 3339 with the zone's offset), text neutralised, null empty."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(zone).isoformat()
    if isinstance(value, int):
        return str(value)
    return neutralised(value)


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


ExportKey = tuple[datetime, UUID]


class ExportRepository(Protocol):
    async def tickets(
        self, start: datetime, end: datetime, lines: frozenset[str] | None, after: ExportKey | None, limit: int
    ) -> tuple[list[Sequence[Cell]], ExportKey | None]:
        """Tickets created in [start, end) within the business lines, oldest first, in keyset pages."""
        ...
