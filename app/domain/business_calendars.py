"""Business calendars (营业日历) kept by key: a name and the working hours the SLA engine counts in. The arithmetic is
app/domain/business_time.py; this module holds the stored record and the rules of changing its dates."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Protocol
from uuid import UUID

from app.domain.business_time import BusinessCalendar, DateOverride, Interval
from app.domain.pagination import Page, PageRequest

FIRST_DATE = date(1970, 1, 1)
LAST_DATE = date(2100, 12, 31)
"""The dates a calendar, a seeding and a preview may name: the span over which the engine's week-at-a-time steps are
exact (see app/domain/business_time.py), and far enough either way for any SLA."""
MAX_OVERRIDES = 3000
"""Dated exceptions one calendar holds at most: decades of holidays, and a bound on what one request makes us store."""


@dataclass(frozen=True, slots=True)
class CalendarData:
    """What a caller sends: a display name and the hours, kept in time order so that sending the same hours in
    another order changes nothing."""

    name: str
    hours: BusinessCalendar


@dataclass(frozen=True, slots=True)
class CalendarRecord:
    id: UUID
    key: str
    data: CalendarData
    version: int
    created_at: datetime
    updated_at: datetime


class BusinessCalendarRepository(Protocol):
    async def get(self, key: str, *, for_update: bool = False) -> CalendarRecord | None: ...
    async def add(self, calendar: CalendarRecord) -> None: ...
    async def update(self, calendar: CalendarRecord) -> None: ...
    async def list(self, page: PageRequest) -> Page[CalendarRecord]: ...


def in_order(calendar: BusinessCalendar) -> BusinessCalendar:
    """`calendar` with each day's intervals and the overrides in time order, as it is stored and answered. Validate
    the calendar as sent first: its errors point at the positions the caller used."""
    return replace(
        calendar,
        weekly=tuple(_sorted(day) for day in calendar.weekly),
        overrides=tuple(
            replace(o, intervals=_sorted(o.intervals)) for o in sorted(calendar.overrides, key=lambda o: o.date)
        ),
    )


def _sorted(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    return tuple(sorted(intervals, key=lambda interval: (interval.start, interval.end)))


def weekly_seconds(calendar: BusinessCalendar) -> int:
    """Business seconds in a week with no override and no clock change: what the weekly hours add up to."""
    return sum(interval.end - interval.start for day in calendar.weekly for interval in day)


def merged(
    own: Iterable[DateOverride], incoming: Iterable[DateOverride], *, incoming_wins: bool
) -> tuple[DateOverride, ...]:
    """One override per date, in date order: the calendar's own override of a date wins over an incoming one (seeded
    holidays, imported closures), unless `incoming_wins`."""
    first, second = (incoming, own) if incoming_wins else (own, incoming)
    by_date: dict[date, DateOverride] = {}
    for override in (*first, *second):
        by_date.setdefault(override.date, override)
    return tuple(by_date[day] for day in sorted(by_date))


def outside(calendar: BusinessCalendar, day: date) -> str | None:
    """Why `day` cannot carry an override of `calendar`, or None when it can."""
    first = max(FIRST_DATE, calendar.valid_from or FIRST_DATE)
    last = min(LAST_DATE, calendar.valid_to or LAST_DATE)
    if first <= day <= last:
        return None
    if calendar.valid_from is not None and day < calendar.valid_from:
        return f"{day} is before the calendar's valid_from {calendar.valid_from}"
    if calendar.valid_to is not None and day > calendar.valid_to:
        return f"{day} is after the calendar's valid_to {calendar.valid_to}"
    return f"{day} is outside the years {FIRST_DATE.year}–{LAST_DATE.year} calendars cover"
