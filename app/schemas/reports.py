"""Reports: the catalogue, the volume and times reports per period and group, and a rollup re-derive."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import AwareDatetime, Field

from app.domain.report_metrics import TIMES
from app.domain.reports import ReportQuery, TimesRow, TimeStats, VolumeRow
from app.schemas.common import Input, Output
from app.services.reports import Rederived


class ReportParameterOut(Output):
    name: str
    description: str
    values: list[str] | None = Field(None, description="The values it takes, when they are a fixed set.")


class ReportInfoOut(Output):
    name: str
    title: str
    path: str
    parameters: list[ReportParameterOut]


class ReportListOut(Output):
    items: list[ReportInfoOut]


class _ReportOut(Output):
    start: date = Field(description="First local day of the range (`from`).")
    end: date = Field(description="Last local day of the range (`to`), included.")
    tz: str
    interval: str
    group_by: str | None

    @staticmethod
    def _head(query: ReportQuery) -> dict[str, object]:
        return {
            "start": query.start,
            "end": query.end,
            "tz": query.zone.key,
            "interval": query.interval.value,
            "group_by": query.group_by.value if query.group_by else None,
        }


class VolumeRowOut(Output):
    period: date = Field(description="The period's first local day.")
    group: str | None = Field(description="The value of `group_by`; null: no value, or no split.")
    created: int
    resolved: int
    closed: int = Field(description="Moves into completed or closed.")
    cancelled: int
    reopened: int
    backlog: int = Field(description="Tickets open at the period's end.")

    @classmethod
    def of(cls, row: VolumeRow) -> VolumeRowOut:
        return cls(
            period=row.period, group=row.group, backlog=row.backlog, **{m.value: n for m, n in row.counts.items()}
        )


class VolumeReportOut(_ReportOut):
    items: list[VolumeRowOut]

    @classmethod
    def of(cls, query: ReportQuery, rows: list[VolumeRow]) -> VolumeReportOut:
        return cls(**cls._head(query), items=[VolumeRowOut.of(row) for row in rows])


class TimeStatsOut(Output):
    count: int = Field(description="Samples: tickets whose duration ended in the period.")
    p50_seconds: float | None
    p90_seconds: float | None

    @classmethod
    def of(cls, stats: TimeStats) -> TimeStatsOut:
        return cls(count=stats.count, p50_seconds=stats.p50_seconds, p90_seconds=stats.p90_seconds)


class TimesRowOut(Output):
    period: date
    group: str | None
    first_reply: TimeStatsOut = Field(description="Created → first public agent reply, counted at that reply.")
    next_reply: TimeStatsOut = Field(
        description="A customer's first message after an agent reply → the next public agent reply, at that reply."
    )
    first_resolution: TimeStatsOut = Field(description="Created → first resolution, counted at that resolution.")
    full_resolution: TimeStatsOut = Field(description="Created → final completion or closure, while not reopened.")

    @classmethod
    def of(cls, row: TimesRow) -> TimesRowOut:
        return cls(period=row.period, group=row.group, **{m.value: TimeStatsOut.of(row.times[m]) for m in TIMES})


class TimesReportOut(_ReportOut):
    items: list[TimesRowOut]

    @classmethod
    def of(cls, query: ReportQuery, rows: list[TimesRow]) -> TimesReportOut:
        return cls(**cls._head(query), items=[TimesRowOut.of(row) for row in rows])


class RollupRederiveIn(Input):
    start: AwareDatetime = Field(description="First UTC hour rebuilt (a whole hour).")
    end: AwareDatetime = Field(description="End (exclusive, a whole hour); held at the rollup job's position.")


class RollupRederiveOut(Output):
    start: datetime
    end: datetime
    tickets: int = Field(description="Tickets with an event in the range, whose histories were read.")
    cells: int = Field(description="Rollup rows written.")

    @classmethod
    def of(cls, done: Rederived) -> RollupRederiveOut:
        return cls(start=done.start, end=done.end, tickets=done.tickets, cells=done.cells)
