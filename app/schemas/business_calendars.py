"""Business calendar contract: weekly hours and dated overrides in JSON, closed days in an ICS file, previews."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

import icalendar
from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, StrictInt

from app.domain.business_calendars import FIRST_DATE, LAST_DATE, MAX_OVERRIDES, CalendarData, CalendarRecord, in_order
from app.domain.business_time import WEEKDAYS, BusinessCalendar, DateOverride, Interval
from app.domain.errors import FieldError, InvalidInput
from app.schemas.common import Input, Line, Output, QueryInstant
from app.services.business_calendars import HolidaySeed, ImportedClosure, Preview, calendar_view

CLOCK_PATTERN = r"^(?:(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d)?|24:00(?::00)?)$"
ClockText = Annotated[
    str,
    Field(
        pattern=CLOCK_PATTERN,
        examples=["09:00"],
        description="Local wall-clock time `HH:MM[:SS]`; `24:00` ends the day.",
    ),
]
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_INTERVALS_PER_DAY = 24
MAX_PREVIEW_SECONDS = 10 * 365 * 86_400
"""Ten years of seconds: longer than any SLA target."""


def _iso_date(value: Any) -> Any:
    """A date is written `YYYY-MM-DD`: no epoch numbers, no date-times with a zero time."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value):
        return value
    raise ValueError("a date written YYYY-MM-DD")


def _covered(value: date) -> date:
    if not FIRST_DATE <= value <= LAST_DATE:
        raise ValueError(f"outside {FIRST_DATE}–{LAST_DATE}, the dates calendars cover")
    return value


def _covered_instant(value: datetime) -> datetime:
    _covered(value.date())
    return value


CalendarDate = Annotated[date, BeforeValidator(_iso_date), AfterValidator(_covered)]
"""A date in a calendar: `YYYY-MM-DD`, within the years calendars cover (1970–2100)."""
PreviewInstant = Annotated[QueryInstant, AfterValidator(_covered_instant)]
"""An instant to preview from or to: RFC 3339 with its offset, in UTC within the years calendars cover."""


class WorkingIntervalIn(Input):
    start: ClockText
    end: ClockText = Field(examples=["12:00"])

    def to_interval(self) -> Interval:
        return Interval.parse(self.start, self.end)


DayHours = Annotated[
    list[WorkingIntervalIn],
    Field(max_length=MAX_INTERVALS_PER_DAY, description="Working intervals; none (or the day left out): closed."),
]


class WeeklyHoursIn(Input):
    """The week's working hours; a day left out is closed."""

    monday: DayHours = Field(default_factory=list)
    tuesday: DayHours = Field(default_factory=list)
    wednesday: DayHours = Field(default_factory=list)
    thursday: DayHours = Field(default_factory=list)
    friday: DayHours = Field(default_factory=list)
    saturday: DayHours = Field(default_factory=list)
    sunday: DayHours = Field(default_factory=list)


class DateOverrideIn(Input):
    """A date whose hours replace the weekly ones: closed with no intervals (节假日), open with some (调休上班)."""

    date: CalendarDate
    intervals: DayHours = Field(default_factory=list)
    name: Line = Field("", max_length=200, examples=["春节"])


class BusinessCalendarIn(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Shanghai service desk",
                    "time_zone": "Asia/Shanghai",
                    "weekly": {
                        day: [{"start": "09:00", "end": "12:00"}, {"start": "13:30", "end": "18:00"}]
                        for day in WEEKDAYS[:5]
                    },
                    "overrides": [{"date": "2026-10-01", "intervals": [], "name": "国庆节"}],
                    "valid_from": "2026-01-01",
                    "valid_to": "2027-12-31",
                }
            ]
        }
    )

    name: Line = Field(min_length=1, max_length=200)
    time_zone: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z][A-Za-z0-9_+\-/]*$",
        examples=["Asia/Shanghai"],
        description="IANA time zone the hours are local to.",
    )
    weekly: WeeklyHoursIn
    overrides: list[DateOverrideIn] = Field([], max_length=MAX_OVERRIDES, description="Dated exceptions, one per date.")
    valid_from: CalendarDate | None = Field(None, description="First date the overrides were drawn up for.")
    valid_to: CalendarDate | None = Field(None, description="Last date the overrides were drawn up for.")

    def to_data(self) -> CalendarData:
        """The calendar, validated as sent (errors point into this body), then kept in time order."""
        hours = BusinessCalendar(
            time_zone=self.time_zone,
            weekly=tuple(tuple(i.to_interval() for i in getattr(self.weekly, day)) for day in WEEKDAYS),
            overrides=tuple(
                DateOverride(o.date, tuple(i.to_interval() for i in o.intervals), o.name) for o in self.overrides
            ),
            valid_from=self.valid_from,
            valid_to=self.valid_to,
        )
        return CalendarData(name=self.name, hours=in_order(hours))


SeedYear = Annotated[StrictInt, Field(ge=FIRST_DATE.year, le=LAST_DATE.year, examples=[2026])]


class HolidaySeedIn(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"country": "CN", "years": [2026, 2027]}]})

    country: str = Field(
        pattern=r"^[A-Za-z]{2,3}$", examples=["CN"], description="ISO 3166-1 code of the holiday table."
    )
    years: list[SeedYear] = Field(min_length=1, max_length=20)
    subdivision: str | None = Field(
        None, pattern=r"^[A-Za-z0-9-]{1,10}$", description="A province or state of the country, e.g. US `CA`."
    )
    replace_existing: bool = Field(
        False, description="Seeded dates replace the calendar's own overrides of the same dates (default: own win)."
    )

    def to_seed(self) -> HolidaySeed:
        return HolidaySeed(
            country=self.country.upper(),
            years=tuple(self.years),
            subdivision=self.subdivision,
            replace_existing=self.replace_existing,
        )


class WorkingIntervalOut(Output):
    start: str = Field(examples=["09:00"])
    end: str = Field(examples=["12:00"])


class WeeklyHoursOut(Output):
    monday: list[WorkingIntervalOut]
    tuesday: list[WorkingIntervalOut]
    wednesday: list[WorkingIntervalOut]
    thursday: list[WorkingIntervalOut]
    friday: list[WorkingIntervalOut]
    saturday: list[WorkingIntervalOut]
    sunday: list[WorkingIntervalOut]


class DateOverrideOut(Output):
    date: date
    intervals: list[WorkingIntervalOut]
    name: str


class BusinessCalendarOut(Output):
    id: UUID
    key: str
    name: str
    time_zone: str
    weekly: WeeklyHoursOut
    overrides: list[DateOverrideOut] = Field(description="In date order.")
    valid_from: date | None
    valid_to: date | None
    weekly_business_seconds: int = Field(
        description="Business seconds of a week with no override and no clock change: the weekly hours added up."
    )
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, calendar: CalendarRecord) -> BusinessCalendarOut:
        return cls.model_validate(calendar_view(calendar))


class CalendarPreviewOut(Output):
    model_config = ConfigDict(populate_by_name=True)

    from_: datetime = Field(alias="from")
    seconds: int
    due_at: datetime = Field(description="When `seconds` of business time from `from` have passed.")
    time_zone: str
    open_now: bool = Field(description="Whether the calendar is open at `from`.")
    next_open: datetime = Field(description="`from` when open then, else the next opening.")
    to: datetime | None = None
    elapsed_seconds: int | None = Field(None, description="With `to`: the business seconds from `from` to `to`.")

    @classmethod
    def of(cls, preview: Preview) -> CalendarPreviewOut:
        return cls(
            from_=preview.start,
            seconds=preview.seconds,
            due_at=preview.due_at,
            time_zone=preview.time_zone,
            open_now=preview.open_now,
            next_open=preview.next_open,
            to=preview.end,
            elapsed_seconds=preview.elapsed_seconds,
        )


def closures_from_ics(text: str) -> list[ImportedClosure]:
    """Every all-day VEVENT of an iCalendar file (RFC 5545) as closed dates, named by its SUMMARY: DTSTART is a date
    and DTEND (exclusive) or DURATION make it span several. Timed and recurring events are refused, each named by
    its line and UID; cancelled events are left out."""
    try:
        calendars = icalendar.Calendar.from_ical(text, multiple=True)
        events = [event for calendar in calendars for event in calendar.walk("VEVENT")]
    except Exception as error:  # the parser raises ValueError and others on text it cannot read
        raise _refused([f"not an iCalendar file: {error}"]) from error
    starts = [n for n, line in enumerate(text.splitlines(), start=1) if line.strip().upper() == "BEGIN:VEVENT"]
    lines = starts if len(starts) == len(events) else [None] * len(events)
    closures: list[ImportedClosure] = []
    problems: list[str] = []
    for event, line in zip(events, lines, strict=True):
        where = _where(event, line)
        try:
            days, name = _event_days(event)
        except ValueError as error:
            problems.append(f"{where}: {error}")
            continue
        closures += [ImportedClosure(day, name, where) for day in days]
        if len(closures) > MAX_OVERRIDES:
            raise _refused([f"the file closes more than {MAX_OVERRIDES} dates; import fewer at once"])
    if problems:
        raise _refused(problems)
    if not events:
        raise _refused(["the file holds no VEVENT"])
    return closures


def _where(event: icalendar.Event, line: int | None) -> str:
    uid = str(event.get("UID", "")).strip()
    parts = [f"line {line}" if line else "", f"UID {uid}" if uid else ""]
    return "VEVENT " + (", ".join(part for part in parts if part) or "without UID")


def _event_days(event: icalendar.Event) -> tuple[list[date], str]:
    """The dates an all-day event covers and its name; ValueError says why it cannot be a closed day."""
    if str(event.get("STATUS", "")).upper() == "CANCELLED":
        return [], ""
    broken = [f"{prop} {message}" for prop, message in event.errors if prop in ("DTSTART", "DTEND", "DURATION")]
    if broken:
        raise ValueError("; ".join(broken))
    if "RRULE" in event or "RDATE" in event:
        raise ValueError("is a recurring event (RRULE/RDATE): list each closed day as an event of its own")
    start = event.get("DTSTART")
    if start is None:
        raise ValueError("has no DTSTART")
    first = start.dt
    if isinstance(first, datetime) or not isinstance(first, date):
        raise ValueError(
            f"is a timed event (DTSTART {start.to_ical().decode()}): only all-day events "
            "(DTSTART;VALUE=DATE) become closed days"
        )
    last = first + _length(event)
    for day in (first, last - timedelta(days=1)):
        if not FIRST_DATE <= day <= LAST_DATE:
            raise ValueError(f"{day} is outside {FIRST_DATE}–{LAST_DATE}, the dates calendars cover")
    name = " ".join(str(event.get("SUMMARY", "")).split())
    name = "".join(char for char in name if char.isprintable())
    if len(name) > 200:
        raise ValueError("its SUMMARY is longer than the 200 characters a date's name may have")
    return [first + timedelta(days=n) for n in range((last - first).days)], name


def _length(event: icalendar.Event) -> timedelta:
    """An all-day event's length in whole days: to DTEND (exclusive), or its DURATION, or one day (RFC 5545)."""
    end, duration = event.get("DTEND"), event.get("DURATION")
    if end is not None:
        if isinstance(end.dt, datetime) or not isinstance(end.dt, date):
            raise ValueError("its DTSTART is a date but its DTEND is not: give DTEND;VALUE=DATE")
        length = end.dt - event.get("DTSTART").dt
    elif duration is not None:
        length = duration.dt
        if not isinstance(length, timedelta) or length % timedelta(days=1):
            raise ValueError("its DURATION is not whole days (e.g. P1D)")
    else:
        return timedelta(days=1)
    if length <= timedelta(0):
        raise ValueError("it ends (DTEND is exclusive) on or before the day it starts")
    return length


def _refused(problems: list[str]) -> InvalidInput:
    return InvalidInput(
        f"The ICS file cannot be imported: {problems[0]}"
        + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
        code="invalid_calendar",
        errors=[FieldError("", problem) for problem in problems[:20]],
    )
