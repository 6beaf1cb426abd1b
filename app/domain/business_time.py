"""Business-time arithmetic (营业时间): when a duration of business time runs out, and how much of it lies between two
instants, over weekly working hours in an IANA time zone with dated exceptions both ways: public holidays closed,
调休 weekend working days open. Pure and exact: whole seconds, no database, no clock.

Local hours become UTC instants one day at a time, so a day on which the clocks change is counted as it is lived.
A wall-clock time t on date d means the first instant at which the zone's clocks show d t or later:
- a time skipped by a spring-forward change is the moment of the change (the clocks jump past it);
- a time repeated by a fall-back change is its first occurrence (fold=0).
So 09:00–18:00 stays 9 hours unless the change falls inside it, and in New York a 01:00–04:00 shift lasts 2 hours on
the spring-forward night and 4 hours on the fall-back night. Every interval is then one span of real time, and the
spans of successive days follow each other in order.

Cost: `add` and `elapsed` walk the days between their ends, but a week with no override and one UTC offset at all
its midnights is taken in one step as its precomputed business seconds (tzdata changes no zone's offset twice within
two days from 1970 to 2100, so those midnights see every change). That is O(weeks + days of irregular weeks ×
intervals per day): ten years are ~520 steps. A 24/7 calendar with no overrides is plain subtraction.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.domain.errors import FieldError, InvalidInput

DAY = 86_400
SPAN_DAYS = 4096
"""Days whose working spans a calendar remembers as instants (some years of them) before it starts afresh."""
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)
_SECOND = timedelta(seconds=1)
_ONE_DAY = timedelta(days=1)
_WEEK = timedelta(days=7)
_CLOCK = re.compile(r"([01]\d|2[0-4]):([0-5]\d)(?::([0-5]\d))?")


def clock(text: str) -> int:
    """Seconds since local midnight for `HH:MM` or `HH:MM:SS`; `24:00` is the end of the day."""
    match = _CLOCK.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a time of day HH:MM[:SS]")
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    value = hours * 3600 + minutes * 60 + seconds
    if value > DAY:
        raise ValueError(f"{text!r} is later than 24:00")
    return value


def clock_text(seconds: int) -> str:
    """`clock`'s inverse, for messages and display: 09:00, 17:30:15, 24:00."""
    if not 0 <= seconds <= DAY:
        return f"{seconds} s"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


@dataclass(frozen=True, slots=True)
class Interval:
    """Working time [start, end) in local wall-clock seconds since midnight; `end` may be 86 400 (24:00). It never
    crosses midnight: a night shift is two intervals on two days."""

    start: int
    end: int

    @classmethod
    def parse(cls, start: str, end: str) -> Interval:
        return cls(clock(start), clock(end))

    def __str__(self) -> str:
        return f"{clock_text(self.start)}–{clock_text(self.end)}"


Weekly = tuple[tuple[Interval, ...], ...]
"""Seven days of intervals, Monday first."""


def hours(*ranges: str) -> tuple[Interval, ...]:
    """A day's intervals written as text: `hours("09:00-12:00", "13:30-18:00")`."""
    return tuple(Interval.parse(*_halves(text)) for text in ranges)


def _halves(text: str) -> tuple[str, str]:
    start, dash, end = text.partition("-")
    if not dash:
        raise ValueError(f"{text!r} is not an interval HH:MM-HH:MM")
    return start.strip(), end.strip()


def week(**days: Sequence[Interval]) -> Weekly:
    """Intervals by weekday name, `week(monday=OFFICE, saturday=hours("10:00-14:00"))`; days not named are closed."""
    unknown = sorted(set(days) - set(WEEKDAYS))
    if unknown:
        raise TypeError(f"not weekdays: {', '.join(unknown)}")
    return tuple(tuple(days.get(name, ())) for name in WEEKDAYS)


def weekdays(intervals: Sequence[Interval]) -> Weekly:
    """The same intervals Monday to Friday, the weekend closed."""
    return week(**dict.fromkeys(WEEKDAYS[:5], tuple(intervals)))


@dataclass(frozen=True, slots=True)
class DateOverride:
    """A date whose hours replace the weekly ones: closed when it has no intervals (节假日), else open with its own
    (调休上班: a weekend working day)."""

    date: date
    intervals: tuple[Interval, ...] = ()
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "intervals", tuple(self.intervals))


class NoBusinessTime(InvalidInput):
    """The calendar has no working time from some date on, so a duration running past it never falls due."""

    code = "no_business_time"
    title = "No business time"


@dataclass(frozen=True)
class BusinessCalendar:
    """Working hours in one IANA time zone. `valid_from`/`valid_to` bound the dates the overrides were drawn up for
    (say, the years whose holidays were seeded); outside them the weekly hours alone apply. Constructing one
    validates it and raises InvalidInput naming each bad field (`/weekly/monday/1/end`), so every instance works."""

    time_zone: str
    weekly: Weekly
    overrides: tuple[DateOverride, ...] = ()
    valid_from: date | None = None
    valid_to: date | None = None
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _days: tuple[tuple[tuple[int, int], ...], ...] = field(init=False, repr=False, compare=False)
    _by_date: dict[date, tuple[tuple[int, int], ...]] = field(init=False, repr=False, compare=False)
    _dates: list[date] = field(init=False, repr=False, compare=False)
    _week_seconds: int = field(init=False, repr=False, compare=False)
    _last_open: date | None = field(init=False, repr=False, compare=False)
    _continuous: bool = field(init=False, repr=False, compare=False)
    _instants: dict[date, tuple[tuple[int, int], ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "weekly", tuple(tuple(day) for day in self.weekly))
        set_(self, "overrides", tuple(self.overrides))
        errors = _calendar_errors(self)
        if errors:
            raise InvalidInput("The business calendar cannot be used as sent", code="invalid_calendar", errors=errors)
        set_(self, "_zone", ZoneInfo(self.time_zone))
        set_(self, "_days", tuple(_spans_of(day) for day in self.weekly))
        set_(self, "_by_date", {o.date: _spans_of(o.intervals) for o in self.overrides})
        set_(self, "_dates", sorted(self._by_date))
        set_(self, "_week_seconds", sum(end - start for day in self._days for start, end in day))
        set_(self, "_last_open", max((d for d, spans in self._by_date.items() if spans), default=None))
        set_(self, "_continuous", not self.overrides and all(day == ((0, DAY),) for day in self._days))
        set_(self, "_instants", {})

    @classmethod
    def always_open(cls, time_zone: str = "UTC") -> BusinessCalendar:
        """Calendar time (自然时间): every second counts, so targets in calendar hours use the same interface."""
        return cls(time_zone, week(**dict.fromkeys(WEEKDAYS, (Interval(0, DAY),))))

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    def add(self, start: datetime, seconds: int) -> datetime:
        """The earliest instant (UTC) by which `seconds` of business time have passed since `start`: a duration that
        ends with a working interval ends at its close, not at the next opening. Zero seconds is `start` itself,
        open or not (`next_open` finds the opening). Raises NoBusinessTime when the working time runs out first."""
        if seconds < 0:
            raise ValueError("a business-time duration cannot be negative")
        at = _instant(start)
        if seconds == 0 or self._continuous:
            return _utc(at + seconds)
        remaining = seconds
        day = self._wall_date(at)
        while True:
            self._check_time_ahead(day)
            if remaining > self._week_seconds and self._plain_week(day) and self._boundary(day, 0) >= at:
                remaining -= self._week_seconds
                day += _WEEK
                continue
            for span_start, end in self._spans(day):
                begin = max(span_start, at)
                if end > begin:
                    if remaining <= end - begin:
                        return _utc(begin + remaining)
                    remaining -= end - begin
            day += _ONE_DAY

    def elapsed(self, start: datetime, end: datetime) -> int:
        """Business seconds from `start` to `end`, 0 when `end` is not after `start`. Instants count to the whole
        second (fractions dropped), so `elapsed(a, add(a, n)) == n` and `elapsed(a, c) == elapsed(a, b) +
        elapsed(b, c)` hold exactly."""
        return self._elapsed(_instant(start), _instant(end))

    def is_open(self, at: datetime) -> bool:
        """Whether the second starting at `at` is business time."""
        second = _instant(at)
        return self._elapsed(second, second + 1) == 1

    def next_open(self, at: datetime) -> datetime:
        """`at` (to the second) when the calendar is open then, else the next opening, in UTC. Raises NoBusinessTime
        when no opening is ahead."""
        instant = _instant(at)
        day = self._wall_date(instant)
        while True:
            self._check_time_ahead(day)
            if self._week_seconds == 0 and self._plain_week(day):
                day += _WEEK
                continue
            for start, end in self._spans(day):
                if end > max(start, instant):
                    return _utc(max(start, instant))
            day += _ONE_DAY

    def _elapsed(self, low: int, high: int) -> int:
        if high <= low:
            return 0
        if self._continuous:
            return high - low
        total = 0
        day = self._wall_date(low)
        while (midnight := self._boundary(day, 0)) < high:
            if midnight >= low and self._plain_week(day) and self._boundary(day + _WEEK, 0) <= high:
                total += self._week_seconds
                day += _WEEK
                continue
            total += sum(max(0, min(end, high) - max(start, low)) for start, end in self._spans(day))
            day += _ONE_DAY
        return total

    def _spans(self, day: date) -> tuple[tuple[int, int], ...]:
        """The day's intervals as UTC instants, in order (an interval lost in a spring-forward gap is empty);
        remembered per date (at most SPAN_DAYS of them), as every deadline near today reads the same few days."""
        found = self._instants.get(day)
        if found is None:
            intervals = self._by_date.get(day, self._days[day.weekday()])
            found = tuple((self._boundary(day, start), self._boundary(day, end)) for start, end in intervals)
            if len(self._instants) >= SPAN_DAYS:
                self._instants.clear()
            self._instants[day] = found
        return found

    def _boundary(self, day: date, seconds: int) -> int:
        """The first instant at which the zone's clocks show `day` + `seconds` or later (see the module docstring)."""
        local = datetime.combine(day, time()) + timedelta(seconds=seconds)
        local_seconds = (local - _NAIVE_EPOCH) // _SECOND
        at = local_seconds - local.replace(tzinfo=self._zone).utcoffset() // _SECOND
        if self._wall(at) == local:
            return at
        # In a gap the clocks jump past `local`: find the jump between the two readings of `local`'s offsets.
        other = local_seconds - local.replace(tzinfo=self._zone, fold=1).utcoffset() // _SECOND
        before, at = min(at, other), max(at, other)
        while at - before > 1:
            middle = (before + at) // 2
            if self._wall(middle) >= local:
                at = middle
            else:
                before = middle
        return at

    def _wall(self, instant: int) -> datetime:
        return datetime.fromtimestamp(instant, self._zone).replace(tzinfo=None)

    def _wall_date(self, instant: int) -> date:
        """The local date at `instant`; no earlier date has working time after it (the spans come in order)."""
        return self._wall(instant).date()

    def _plain_week(self, day: date) -> bool:
        """The seven days from `day` hold exactly the weekly business seconds: no override among them, and one UTC
        offset at all eight of their midnights."""
        following = bisect_left(self._dates, day)
        if following < len(self._dates) and self._dates[following] < day + _WEEK:
            return False
        midnights = (datetime.combine(day + timedelta(days=n), time(), tzinfo=self._zone) for n in range(8))
        return len({midnight.utcoffset() for midnight in midnights}) == 1

    def _check_time_ahead(self, day: date) -> None:
        if self._week_seconds == 0 and (self._last_open is None or day > self._last_open):
            raise NoBusinessTime(
                f"The business calendar has no working time from {day} on: its week is empty and no open date is ahead",
                errors=[FieldError("/weekly", "has no working hours on any weekday")],
            )


def _instant(at: datetime) -> int:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"business time needs a timezone-aware instant, not {at.isoformat()}")
    return (at - _EPOCH) // _SECOND


def _utc(instant: int) -> datetime:
    return _EPOCH + timedelta(seconds=instant)


def _spans_of(intervals: Sequence[Interval]) -> tuple[tuple[int, int], ...]:
    return tuple(sorted((interval.start, interval.end) for interval in intervals))


def _calendar_errors(calendar: BusinessCalendar) -> list[FieldError]:
    """Every problem of the calendar, each naming its field as a JSON pointer into the calendar."""
    errors: list[FieldError] = []
    try:
        ZoneInfo(calendar.time_zone)
    except (KeyError, ValueError, OSError, TypeError):
        errors.append(FieldError("/time_zone", f"{calendar.time_zone!r} is not an IANA time zone (e.g. Asia/Shanghai)"))
    if len(calendar.weekly) != len(WEEKDAYS):
        errors.append(FieldError("/weekly", "needs the intervals of all seven days, Monday first"))
    else:
        for name, day in zip(WEEKDAYS, calendar.weekly, strict=True):
            errors += _day_errors(f"/weekly/{name}", day)
    first, last = calendar.valid_from, calendar.valid_to
    if first is not None and last is not None and last < first:
        errors.append(FieldError("/valid_to", f"{last} is before valid_from {first}"))
    seen: dict[date, int] = {}
    for index, override in enumerate(calendar.overrides):
        where = f"/overrides/{index}"
        if override.date in seen:
            errors.append(
                FieldError(
                    f"{where}/date", f"{override.date} is overridden already at /overrides/{seen[override.date]}"
                )
            )
        seen.setdefault(override.date, index)
        if first is not None and override.date < first:
            errors.append(FieldError(f"{where}/date", f"{override.date} is before the calendar's valid_from {first}"))
        if last is not None and override.date > last:
            errors.append(FieldError(f"{where}/date", f"{override.date} is after the calendar's valid_to {last}"))
        errors += _day_errors(f"{where}/intervals", override.intervals)
    if not any(calendar.weekly) and not any(override.intervals for override in calendar.overrides):
        errors.append(
            FieldError("/weekly", "has no working hours on any day, and no date opens: nothing could fall due")
        )
    return errors


def _day_errors(where: str, intervals: Sequence[Interval]) -> list[FieldError]:
    """Each interval within one day and after its start; no two overlapping (touching is fine)."""
    errors: list[FieldError] = []
    usable: list[tuple[int, int, int]] = []
    for index, interval in enumerate(intervals):
        if not 0 <= interval.start < DAY:
            errors.append(FieldError(f"{where}/{index}/start", f"{clock_text(interval.start)} is not a time of day"))
        elif not interval.start < interval.end <= DAY:
            errors.append(
                FieldError(
                    f"{where}/{index}/end",
                    f"{clock_text(interval.end)} must be after the start {clock_text(interval.start)} and at most "
                    "24:00: an interval stays within its day, a night shift is two intervals on two days",
                )
            )
        else:
            usable.append((interval.start, interval.end, index))
    reach: tuple[int, int] | None = None  # the latest end so far, and whose it is
    for start, end, index in sorted(usable):
        if reach is not None and start < reach[0]:
            errors.append(
                FieldError(f"{where}/{index}", f"overlaps {where}/{reach[1]}, which runs to {clock_text(reach[0])}")
            )
        if reach is None or end > reach[0]:
            reach = (end, index)
    return errors
