"""Business calendar rows ↔ CalendarRecord entities: the hours as JSON documents of `HH:MM[:SS]` pairs, which read
the same in the database as in the API."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.business_calendars import CalendarData, CalendarRecord
from app.domain.business_time import WEEKDAYS, BusinessCalendar, DateOverride, Interval, clock, clock_text
from app.domain.pagination import Page, PageRequest
from app.persistence.keyset import fetch_page
from app.persistence.lookups import Lookup
from app.persistence.tables import business_calendars

Pairs = list[list[str]]


def _pairs(intervals: tuple[Interval, ...]) -> Pairs:
    return [[clock_text(interval.start), clock_text(interval.end)] for interval in intervals]


def _intervals(pairs: Pairs) -> tuple[Interval, ...]:
    return tuple(Interval(clock(start), clock(end)) for start, end in pairs)


def _values(calendar: CalendarRecord) -> dict[str, Any]:
    hours = calendar.data.hours
    return {
        "name": calendar.data.name,
        "time_zone": hours.time_zone,
        "weekly": {name: _pairs(day) for name, day in zip(WEEKDAYS, hours.weekly, strict=True)},
        "overrides": [
            {"date": o.date.isoformat(), "name": o.name, "intervals": _pairs(o.intervals)} for o in hours.overrides
        ],
        "valid_from": hours.valid_from,
        "valid_to": hours.valid_to,
        "version": calendar.version,
        "updated_at": calendar.updated_at,
    }


def _entity(row: Row[Any]) -> CalendarRecord:
    hours = BusinessCalendar(
        time_zone=row.time_zone,
        weekly=tuple(_intervals(row.weekly[name]) for name in WEEKDAYS),
        overrides=tuple(
            DateOverride(date.fromisoformat(o["date"]), _intervals(o["intervals"]), o["name"]) for o in row.overrides
        ),
        valid_from=row.valid_from,
        valid_to=row.valid_to,
    )
    return CalendarRecord(
        id=row.id,
        key=row.key,
        data=CalendarData(name=row.name, hours=hours),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


_BY_KEY = Lookup(business_calendars, business_calendars.c.key)
_ALL = select(business_calendars)
_INSERT = insert(business_calendars)
_UPDATE = update(business_calendars).where(business_calendars.c.id == bindparam("calendar_id"))


class SqlBusinessCalendarRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, key: str, *, for_update: bool = False) -> CalendarRecord | None:
        row = await _BY_KEY.row(self._conn, key, for_update=for_update)
        return _entity(row) if row else None

    async def add(self, calendar: CalendarRecord) -> None:
        await self._conn.execute(
            _INSERT, {"id": calendar.id, "key": calendar.key, "created_at": calendar.created_at, **_values(calendar)}
        )

    async def update(self, calendar: CalendarRecord) -> None:
        await self._conn.execute(_UPDATE, {"calendar_id": calendar.id, **_values(calendar)})

    async def list(self, page: PageRequest) -> Page[CalendarRecord]:
        rows, next_key = await fetch_page(self._conn, _ALL, business_calendars.c.id, page)
        return Page([_entity(row) for row in rows], next_key)
