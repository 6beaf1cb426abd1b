"""Business calendar use cases: upserts by key, public holidays seeded from the tables, closed days imported from an
ICS file, and previews of what the SLA engine will compute. Every change is announced as `business_calendar.created`
or `business_calendar.updated` (the calendar as `GET` answers it), so that deadlines can be derived again."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from app.domain.business_calendars import (
    LAST_DATE,
    MAX_OVERRIDES,
    CalendarData,
    CalendarRecord,
    merged,
    outside,
    weekly_seconds,
)
from app.domain.business_time import WEEKDAYS, BusinessCalendar, DateOverride, Interval, NoBusinessTime, clock_text
from app.domain.clock import Clock
from app.domain.errors import FieldError, InvalidInput, NotFound
from app.domain.holiday_calendars import overrides_from_holidays, table_years, usual_weekday_hours
from app.domain.ids import new_id
from app.domain.pagination import Page, PageRequest
from app.domain.preconditions import Precondition
from app.domain.unit_of_work import UnitOfWork, UnitOfWorkFactory
from app.services.reference_events import Announced, announce
from app.services.revisions import Saved, save_revision

AGGREGATE = "business_calendar"
CREATED = f"{AGGREGATE}.created"
UPDATED = f"{AGGREGATE}.updated"
EVENT_TYPES = frozenset({CREATED, UPDATED})
HORIZON = datetime.combine(LAST_DATE + timedelta(days=1), time(), UTC)
"""Nothing falls due at or after this instant: the end of the years calendars cover."""
_SLACK_PER_HALF_YEAR = 7200
"""Business seconds a clock change may add to a week (a fall-back change inside working hours repeats up to 2 h)."""


@dataclass(frozen=True, slots=True)
class HolidaySeed:
    """Public holidays to seed (节假日 closed, 调休 weekend working days open)."""

    country: str
    years: tuple[int, ...]
    subdivision: str | None = None
    replace_existing: bool = False


@dataclass(frozen=True, slots=True)
class ImportedClosure:
    """One closed date read from an imported file, with where it came from (`line 12, UID abc`) for messages."""

    date: date
    name: str
    source: str


@dataclass(frozen=True, slots=True)
class Preview:
    start: datetime
    seconds: int
    due_at: datetime
    time_zone: str
    open_now: bool
    next_open: datetime
    end: datetime | None
    elapsed_seconds: int | None


def _intervals(intervals: Sequence[Interval]) -> list[dict[str, str]]:
    return [{"start": clock_text(i.start), "end": clock_text(i.end)} for i in intervals]


def calendar_view(calendar: CalendarRecord) -> dict[str, Any]:
    """The calendar as `GET` answers it and as its events carry it."""
    hours = calendar.data.hours
    return {
        "id": calendar.id,
        "key": calendar.key,
        "name": calendar.data.name,
        "time_zone": hours.time_zone,
        "weekly": {name: _intervals(day) for name, day in zip(WEEKDAYS, hours.weekly, strict=True)},
        "overrides": [{"date": o.date, "intervals": _intervals(o.intervals), "name": o.name} for o in hours.overrides],
        "valid_from": hours.valid_from,
        "valid_to": hours.valid_to,
        "weekly_business_seconds": weekly_seconds(hours),
        "version": calendar.version,
        "created_at": calendar.created_at,
        "updated_at": calendar.updated_at,
    }


ANNOUNCED: Announced[CalendarRecord] = Announced(AGGREGATE, "key", calendar_view, split=True)
"""`calendar_view` in `<aggregate>.created` / `.updated` events, as reference data announces its upserts."""


class BusinessCalendarService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, on_change: Callable[[], None] = lambda: None) -> None:
        """`on_change` runs after each committed change: the SLA clock forgets its snapshot of policies and
        calendars, so this process uses the change at once (other processes within the snapshot's refresh)."""
        self._on_change = on_change
        self._uow = uow
        self._clock = clock

    async def upsert(self, key: str, data: CalendarData, precondition: Precondition) -> Saved[CalendarRecord]:
        async with self._uow.write() as uow:
            existing = await uow.business_calendars.get(key, for_update=True)
            precondition.check(existing.version if existing else None)
            now = self._clock.now()
            saved = await save_revision(
                uow.business_calendars,
                existing,
                data,
                now,
                lambda: CalendarRecord(new_id(), key, data, 1, now, now),
            )
            await announce(uow, ANNOUNCED, saved, now)
            if saved.changed:
                await uow.sla_rederivations.request(f"{ANNOUNCED.type_of(saved)}:{key}", now)
            await uow.commit()
        self._on_change()
        return saved

    async def get(self, key: str) -> CalendarRecord:
        async with self._uow.read() as uow:
            calendar = await uow.business_calendars.get(key)
        return _found(key, calendar)

    async def list(self, page: PageRequest) -> Page[CalendarRecord]:
        async with self._uow.read() as uow:
            return await uow.business_calendars.list(page)

    async def seed_holidays(self, key: str, seed: HolidaySeed, precondition: Precondition) -> Saved[CalendarRecord]:
        """Public holidays of `seed.years` closed and 调休 weekend days open with the calendar's usual weekday hours;
        a date the calendar overrides already keeps its own hours unless `replace_existing`."""
        _check_table_years(seed)
        async with self._uow.write() as uow:
            existing = _found(key, await uow.business_calendars.get(key, for_update=True))
            precondition.check(existing.version)
            hours = existing.data.hours
            seeded = _seeded(hours, seed)
            refusals = _outside_by_year(hours, seed, seeded)
            if refusals:
                raise InvalidInput(
                    "Public holidays cannot be seeded: some dates lie outside the calendar's range",
                    code="invalid_calendar",
                    errors=refusals,
                )
            saved = await self._revise(
                uow, existing, merged(hours.overrides, seeded, incoming_wins=seed.replace_existing)
            )
            await uow.commit()
        self._on_change()
        return saved

    async def import_closures(
        self, key: str, closures: Sequence[ImportedClosure], replace_existing: bool, precondition: Precondition
    ) -> Saved[CalendarRecord]:
        """Each imported date closed (the first event of a date names it); a date the calendar overrides already
        keeps its own hours unless `replace_existing`."""
        async with self._uow.write() as uow:
            existing = _found(key, await uow.business_calendars.get(key, for_update=True))
            precondition.check(existing.version)
            hours = existing.data.hours
            refusals = [
                FieldError("", f"{closure.source}: {reason}")
                for closure in closures
                if (reason := outside(hours, closure.date)) is not None
            ]
            if refusals:
                raise InvalidInput(
                    "The ICS file cannot be imported: some dates lie outside the calendar's range",
                    code="invalid_calendar",
                    errors=refusals[:20],
                )
            first: dict[date, ImportedClosure] = {}
            for closure in closures:
                first.setdefault(closure.date, closure)
            closed = [DateOverride(day, (), closure.name) for day, closure in first.items()]
            saved = await self._revise(uow, existing, merged(hours.overrides, closed, incoming_wins=replace_existing))
            await uow.commit()
        self._on_change()
        return saved

    async def preview(self, key: str, start: datetime, seconds: int, end: datetime | None = None) -> Preview:
        """When `seconds` of business time from `start` run out, whether the calendar is open at `start` and when it
        next opens, and optionally the business seconds from `start` to `end`: what the SLA engine will compute."""
        hours = (await self.get(key)).data.hours
        try:
            next_open = hours.next_open(start)
        except NoBusinessTime as refused:
            raise NoBusinessTime(
                refused.detail,
                errors=[FieldError("from", "the calendar has no working time after this instant", location="query")],
            ) from refused
        due_at = _due(hours, start, seconds)
        return Preview(
            start=start,
            seconds=seconds,
            due_at=due_at,
            time_zone=hours.time_zone,
            open_now=hours.is_open(start),
            next_open=next_open,
            end=end,
            elapsed_seconds=None if end is None else hours.elapsed(start, end),
        )

    async def _revise(
        self, uow: UnitOfWork, existing: CalendarRecord, overrides: tuple[DateOverride, ...]
    ) -> Saved[CalendarRecord]:
        if len(overrides) > MAX_OVERRIDES:
            raise InvalidInput(
                f"The calendar would hold {len(overrides)} dated overrides, more than the {MAX_OVERRIDES} allowed",
                code="invalid_calendar",
                errors=[FieldError("", f"at most {MAX_OVERRIDES} overrides: seed or import fewer dates at once")],
            )
        data = replace(existing.data, hours=replace(existing.data.hours, overrides=overrides))
        now = self._clock.now()
        saved = await save_revision(uow.business_calendars, existing, data, now, lambda: existing)
        await announce(uow, ANNOUNCED, saved, now)
        if saved.changed:
            await uow.sla_rederivations.request(f"{ANNOUNCED.type_of(saved)}:{existing.key}", now)
        return saved


def _found(key: str, calendar: CalendarRecord | None) -> CalendarRecord:
    if calendar is None:
        raise NotFound(f"No business calendar '{key}'", code="business_calendar_not_found")
    return calendar


def _check_table_years(seed: HolidaySeed) -> None:
    """A year outside the package's table for the country would seed nothing at all: refused rather than ignored."""
    span = table_years(seed.country)
    if span is None:
        return  # overrides_from_holidays names the unknown country
    outside_table = [
        FieldError(
            f"/years/{index}", f"{year} is outside the years {span.start}–{span[-1]} of the {seed.country} table"
        )
        for index, year in enumerate(seed.years)
        if year not in span
    ]
    if outside_table:
        raise InvalidInput(
            "Public holidays cannot be seeded: the holiday tables do not cover some years",
            code="invalid_calendar",
            errors=outside_table,
        )


def _seeded(hours: BusinessCalendar, seed: HolidaySeed) -> tuple[DateOverride, ...]:
    workday = usual_weekday_hours(hours)
    try:
        return overrides_from_holidays(seed.country, seed.years, seed.subdivision, workday_intervals=workday)
    except InvalidInput as refused:
        if not workday and any(error.pointer == "/workday_intervals" for error in refused.errors):
            # The weekend working days open with the calendar's weekday hours, and it has none: say so at the country.
            raise InvalidInput(
                refused.detail,
                code="invalid_calendar",
                errors=[
                    FieldError(
                        "/country",
                        f"{seed.country} moves working days onto weekends, and the calendar has no Monday–Friday "
                        "hours to open them with: give it weekday hours first",
                    )
                ],
            ) from refused
        raise


def _outside_by_year(hours: BusinessCalendar, seed: HolidaySeed, seeded: Sequence[DateOverride]) -> list[FieldError]:
    """One error per requested year some of whose seeded dates the calendar's range leaves out."""
    by_year: dict[int, list[str]] = defaultdict(list)
    for override in seeded:
        reason = outside(hours, override.date)
        if reason is not None:
            by_year[override.date.year].append(f"{reason} ({override.name})")
    return [
        FieldError(
            f"/years/{index}",
            f"{len(by_year[year])} of {year}'s dates lie outside the calendar's range, e.g. {by_year[year][0]}",
        )
        for index, year in enumerate(seed.years)
        if by_year.get(year)
    ]


def _due(hours: BusinessCalendar, start: datetime, seconds: int) -> datetime:
    """`hours.add(start, seconds)`, refused (naming `seconds`) when it would fall due at or after the horizon. A
    calendar with a short week is first measured against an upper bound of the business time left before the
    horizon, so that a huge duration is refused without walking decades of weeks."""
    week = weekly_seconds(hours)
    if week:
        weeks = (HORIZON - start).days // 7 + 2
        opened = sum(i.end - i.start for o in hours.overrides for i in o.intervals)
        most = weeks * week + opened + (weeks // 26 + 2) * _SLACK_PER_HALF_YEAR
        if seconds > most:
            raise _past_horizon(seconds, week)
    try:
        due_at = hours.add(start, seconds)
    except NoBusinessTime as refused:
        raise NoBusinessTime(
            refused.detail,
            errors=[FieldError("seconds", "the calendar's working time runs out before this much", location="query")],
        ) from refused
    if due_at >= HORIZON:
        raise _past_horizon(seconds, week)
    return due_at


def _past_horizon(seconds: int, week: int) -> NoBusinessTime:
    return NoBusinessTime(
        f"{seconds} business seconds do not run out before {HORIZON.date()} on this calendar "
        f"({week} business seconds a week)",
        errors=[FieldError("seconds", f"falls due after {LAST_DATE}, the last date calendars cover", location="query")],
    )
