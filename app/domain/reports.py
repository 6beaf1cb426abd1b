"""Reports over the hourly rollups: which ones exist, what they are asked (a local date range in an IANA zone, an
interval, a dimension to split by, filters), and how UTC hours become local periods.

Rollups are kept per UTC hour, never per local day: an hour is a whole unit of every zone whose offset is a whole
number of hours, so those zones are answered exactly. In a zone with a half- or quarter-hour offset (Asia/Kolkata,
Asia/Kathmandu) an hour belongs to the local period in which it starts, so up to 45 minutes at each period edge
are counted with the neighbouring period; docs/reports.md says so."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Protocol
from uuid import UUID
from zoneinfo import ZoneInfo

from app.domain.errors import FieldError, InvalidInput
from app.domain.events import OutboxCursor
from app.domain.report_metrics import BACKLOG_IN, BACKLOG_OUT, COUNTS, TIMES, Cell, Measure, Step, hour_of, percentile


class Dimension(StrEnum):
    """What a report can be split by and filtered on: the ticket's own fields, and its product's line."""

    CHANNEL = "channel"
    TYPE = "type"
    CATEGORY = "category"
    PRIORITY = "priority"
    REGION = "region"
    PRODUCT_LINE = "product_line"
    GROUP = "group"
    BUSINESS_LINE = "business_line"


class Interval(StrEnum):
    DAY = "day"
    WEEK = "week"  # ISO weeks, starting Monday
    MONTH = "month"


NONE = ""
"""A dimension a ticket has no value for (no category, no product): stored as the empty string, so that it is a
key like any other; reports answer it as null."""

Dimensions = tuple[str, ...]
"""A ticket's value of each Dimension, in the enum's order."""


def dimensions(values: Mapping[Dimension, str | None]) -> Dimensions:
    return tuple(values.get(d) or NONE for d in Dimension)


@dataclass(frozen=True, slots=True)
class TicketFacts:
    """A ticket as metrics see it: its dimensions now and its history."""

    id: UUID
    dimensions: Dimensions
    history: Sequence[Step]


@dataclass(frozen=True, slots=True)
class RolledEvent:
    """An outbox event the rollup job reads: which ticket it changed, and its type (which finds its own line)."""

    id: UUID
    occurred_at: datetime
    ticket_id: UUID
    type: str


@dataclass(frozen=True, slots=True)
class ReportQuery:
    """A request for a report: local dates `start` to `end`, both included, in `zone`."""

    start: date
    end: date
    zone: ZoneInfo
    interval: Interval = Interval.DAY
    group_by: Dimension | None = None
    filters: Mapping[Dimension, str] = field(default_factory=dict)
    business_lines: frozenset[str] | None = None

    @property
    def utc_start(self) -> datetime:
        return _utc_hour(self.start, self.zone)

    @property
    def utc_end(self) -> datetime:
        return _utc_hour(self.end + timedelta(days=1), self.zone)

    def period_of(self, hour: datetime) -> date:
        """The local period in which the UTC hour starts."""
        return self._period_of_day(hour.astimezone(self.zone).date())

    def _period_of_day(self, day: date) -> date:
        if self.interval is Interval.WEEK:
            return day - timedelta(days=day.weekday())
        if self.interval is Interval.MONTH:
            return day.replace(day=1)
        return day

    def periods(self) -> list[date]:
        """Every period the range touches, in order, each named by its first local day."""
        seen: list[date] = []
        day = self.start
        while day <= self.end:
            period = self._period_of_day(day)
            if not seen or seen[-1] != period:
                seen.append(period)
            day += timedelta(days=1)
        return seen


def _utc_hour(day: date, zone: ZoneInfo) -> datetime:
    """The first UTC hour that starts at or after local midnight of `day` (the hour of midnight itself in every
    whole-hour zone)."""
    midnight = datetime.combine(day, time(), zone).astimezone(UTC)
    hour = hour_of(midnight)
    return hour if hour == midnight else hour + timedelta(hours=1)


def check_range(start: date, end: date, max_days: int) -> None:
    if end < start:
        raise InvalidInput(
            "The report's range ends before it starts",
            code="validation_failed",
            errors=[FieldError("to", "must be on or after `from`", "query")],
        )
    if (end - start).days + 1 > max_days:
        raise InvalidInput(
            f"The report's range is longer than {max_days} days",
            code="validation_failed",
            errors=[FieldError("to", f"at most {max_days} days after `from`, both included", "query")],
        )


@dataclass(frozen=True, slots=True)
class RollupRow:
    """A sum of rollup counts: one hour, one measure and bucket, one value of the split dimension (None: no split)."""

    hour: datetime
    measure: Measure
    bucket: int
    group: str | None
    count: int


@dataclass(frozen=True, slots=True)
class VolumeRow:
    period: date
    group: str | None
    counts: Mapping[Measure, int]
    backlog: int


@dataclass(frozen=True, slots=True)
class TimeStats:
    count: int
    p50_seconds: float | None
    p90_seconds: float | None


@dataclass(frozen=True, slots=True)
class TimesRow:
    period: date
    group: str | None
    times: Mapping[Measure, TimeStats]


def _group(value: str | None) -> str | None:
    return None if value == NONE else value


def volume(query: ReportQuery, rows: Sequence[RollupRow], opening: Mapping[str | None, int]) -> list[VolumeRow]:
    """Counts per period and group, and the backlog at each period's end: the opening backlog (`opening`: open at
    the range's start, per group) plus every creation and reopening minus every closing and cancellation since."""
    sums: dict[tuple[date, str | None], Counter[Measure]] = {}
    groups = set(opening)
    for row in rows:
        groups.add(row.group)
        sums.setdefault((query.period_of(row.hour), row.group), Counter())[row.measure] += row.count
    out: list[VolumeRow] = []
    for group in sorted(groups, key=lambda g: (g is not None and g != NONE, g or "")):
        backlog = opening.get(group, 0)
        for period in query.periods():
            counts = sums.get((period, group), Counter())
            backlog += sum(counts[m] for m in BACKLOG_IN) - sum(counts[m] for m in BACKLOG_OUT)
            out.append(VolumeRow(period, _group(group), {m: counts[m] for m in COUNTS}, backlog))
    return out


def times(query: ReportQuery, rows: Sequence[RollupRow]) -> list[TimesRow]:
    """Per period and group, each duration's sample count, p50 and p90 from the histogram summed over the hours."""
    histograms: dict[tuple[date, str | None], dict[Measure, Counter[int]]] = {}
    groups: set[str | None] = set()
    for row in rows:
        groups.add(row.group)
        per = histograms.setdefault((query.period_of(row.hour), row.group), {})
        per.setdefault(row.measure, Counter())[row.bucket] += row.count
    out: list[TimesRow] = []
    for group in sorted(groups or {None}, key=lambda g: (g is not None and g != NONE, g or "")):
        for period in query.periods():
            per = histograms.get((period, group), {})
            stats = {}
            for measure in TIMES:
                histogram = {b: n for b, n in per.get(measure, Counter()).items() if n}
                stats[measure] = TimeStats(
                    sum(histogram.values()), percentile(histogram, 0.5), percentile(histogram, 0.9)
                )
            out.append(TimesRow(period, _group(group), stats))
    return out


class ReportRepository(Protocol):
    async def cursor(self) -> OutboxCursor | None:
        """The rollup job's cursor, locked to the end of the transaction."""
        ...

    async def save_cursor(self, cursor: OutboxCursor, at: datetime) -> None: ...

    async def events(self, after: OutboxCursor, until: datetime, limit: int) -> Sequence[RolledEvent]:
        """Ticket events after the cursor, at or before `until`, in cursor order."""
        ...

    async def claim(self, events: Sequence[RolledEvent]) -> set[UUID]:
        """Record the events as counted; answers those that were not counted before."""
        ...

    async def facts(self, ticket_ids: Sequence[UUID], through: OutboxCursor | None = None) -> list[TicketFacts]:
        """The tickets' dimensions and histories (with `through`: only what events up to that cursor recorded)."""
        ...

    async def touched(self, start: datetime, end: datetime) -> list[UUID]:
        """The tickets with an event in [start, end)."""
        ...

    async def add(self, cells: Mapping[tuple[Cell, Dimensions], int]) -> None:
        """Add the counts to the rollups (INSERT … ON CONFLICT DO UPDATE)."""
        ...

    async def clear(self, start: datetime, end: datetime) -> int:
        """Delete the rollups of the hours in [start, end); answers how many rows."""
        ...

    async def sums(self, query: ReportQuery, measures: Sequence[Measure]) -> list[RollupRow]:
        """The rollups of the query's hours, filters and scope, summed per hour, measure, bucket and group."""
        ...

    async def opening_backlog(self, query: ReportQuery) -> dict[str | None, int]:
        """Open tickets at the query's start per group, from every hour before it."""
        ...
