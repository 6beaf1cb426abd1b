"""Reports as CSV: each report's rows as cells under a header, the same figures its JSON answer gives
(docs/reports.md). Which parameters a report takes stays the report's own (app/routers/reports.py, tasks.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.domain.exports import Cell
from app.domain.report_metrics import COUNTS, TIMES
from app.domain.reports import TimesRow, VolumeRow
from app.domain.tasks import WorkHoursRow


@dataclass(frozen=True, slots=True)
class ReportExport:
    name: str
    title: str
    columns: tuple[str, ...]
    cells: Callable[[Any], Sequence[Cell]]


def _volume(row: VolumeRow) -> list[Cell]:
    return [row.period, row.group, *(row.counts[m] for m in COUNTS), row.backlog]


def _times(row: TimesRow) -> list[Cell]:
    cells: list[Cell] = [row.period, row.group]
    for measure in TIMES:
        stats = row.times[measure]
        cells += [stats.count, stats.p50_seconds, stats.p90_seconds]
    return cells


def _work_hours(row: WorkHoursRow) -> list[Cell]:
    return [
        row.assignee,
        row.tasks,
        Decimal(row.reported_centihours).scaleb(-2),
        Decimal(row.approved_centihours).scaleb(-2),
        row.approved_tasks,
        row.on_time,
        row.overdue,
        row.on_time_rate,
    ]


VOLUME = ReportExport(
    "volume",
    "The volume report: tickets created, resolved, closed, cancelled, reopened and the backlog per period",
    ("period", "group", *(m.value for m in COUNTS), "backlog"),
    _volume,
)
TIMES_REPORT = ReportExport(
    "times",
    "The times report: first and next reply, first and full resolution count, p50 and p90 seconds per period",
    ("period", "group", *(f"{m.value}_{figure}" for m in TIMES for figure in ("count", "p50_seconds", "p90_seconds"))),
    _times,
)
WORK_HOURS = ReportExport(
    "work-hours",
    "The work-hours report: reported and approved task hours and the on-time rate per handler",
    (
        "assignee",
        "tasks",
        "reported_hours",
        "approved_hours",
        "approved_tasks",
        "on_time",
        "overdue",
        "on_time_rate",
    ),
    _work_hours,
)
REPORT_EXPORTS = {spec.name: spec for spec in (VOLUME, TIMES_REPORT, WORK_HOURS)}
