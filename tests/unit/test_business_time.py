"""Business-time arithmetic: examples a reader can check on a calendar, and the laws `add` and `elapsed` obey on any
calendar, across the 2026 clock changes of New York and Berlin and in Shanghai."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.business_time import (
    DAY,
    WEEKDAYS,
    BusinessCalendar,
    DateOverride,
    Interval,
    NoBusinessTime,
    clock,
    hours,
    week,
    weekdays,
)
from app.domain.errors import InvalidInput

SHANGHAI, NEW_YORK, BERLIN = ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin")
HOUR = 3600
CN_DAY = hours("09:00-12:00", "13:30-18:00")
SPRING_FESTIVAL = tuple(DateOverride(date(2026, 2, day), (), "春节") for day in range(15, 24))
TIAOXIU = (DateOverride(date(2026, 2, 14), CN_DAY, "调休上班"), DateOverride(date(2026, 2, 28), CN_DAY, "调休上班"))

CN_OFFICE = BusinessCalendar("Asia/Shanghai", weekdays(CN_DAY), SPRING_FESTIVAL + TIAOXIU)
NY_OFFICE = BusinessCalendar("America/New_York", weekdays(hours("09:00-17:00")))
BERLIN_SHIFTS = BusinessCalendar(
    "Europe/Berlin",
    week(
        **dict.fromkeys(WEEKDAYS[:5], hours("06:00-10:00", "16:00-20:00")),
        saturday=hours("22:00-24:00"),
        sunday=hours("00:00-02:30", "03:30-06:00"),
    ),
)
BERLIN_ALWAYS_BUT_CHRISTMAS = BusinessCalendar(
    "Europe/Berlin", BusinessCalendar.always_open().weekly, (DateOverride(date(2026, 12, 25), (), "Weihnachten"),)
)
NY_NIGHTS = BusinessCalendar("America/New_York", week(**dict.fromkeys(WEEKDAYS, hours("01:00-04:00", "22:00-24:00"))))


def at(zone: ZoneInfo, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=zone)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# Examples


def test_a_duration_skips_the_lunch_break():
    due = CN_OFFICE.add(at(SHANGHAI, 2026, 3, 2, 11, 30), HOUR)

    assert due == at(SHANGHAI, 2026, 3, 2, 14, 0)
    assert due.tzinfo is UTC


def test_a_split_shift_resumes_in_the_evening():
    assert BERLIN_SHIFTS.add(at(BERLIN, 2026, 5, 12, 9), 3 * HOUR) == at(BERLIN, 2026, 5, 12, 18)
    assert BERLIN_SHIFTS.elapsed(at(BERLIN, 2026, 5, 12, 0), at(BERLIN, 2026, 5, 13, 0)) == 8 * HOUR


def test_the_tiaoxiu_saturday_is_a_working_day():
    assert CN_OFFICE.add(at(SHANGHAI, 2026, 2, 13, 17), 2 * HOUR) == at(SHANGHAI, 2026, 2, 14, 10)
    assert CN_OFFICE.is_open(at(SHANGHAI, 2026, 2, 14, 9))
    assert not CN_OFFICE.is_open(at(SHANGHAI, 2026, 2, 7, 9))  # an ordinary Saturday


def test_spring_festival_is_closed_from_the_15th_to_the_23rd_of_february():
    assert CN_OFFICE.elapsed(at(SHANGHAI, 2026, 2, 15), at(SHANGHAI, 2026, 2, 24)) == 0
    assert CN_OFFICE.add(at(SHANGHAI, 2026, 2, 14, 17), 2 * HOUR) == at(SHANGHAI, 2026, 2, 24, 10)
    assert CN_OFFICE.next_open(at(SHANGHAI, 2026, 2, 16, 10)) == at(SHANGHAI, 2026, 2, 24, 9)


def test_a_nine_to_five_day_stays_eight_hours_on_both_new_york_changes():
    assert NY_OFFICE.add(at(NEW_YORK, 2026, 3, 6, 16), 2 * HOUR) == utc(2026, 3, 9, 14)  # 10:00 EDT
    assert NY_OFFICE.add(at(NEW_YORK, 2026, 10, 30, 16, 30), HOUR) == utc(2026, 11, 2, 14, 30)  # 09:30 EST
    assert NY_OFFICE.elapsed(at(NEW_YORK, 2026, 3, 6), at(NEW_YORK, 2026, 3, 10)) == 16 * HOUR
    assert NY_OFFICE.elapsed(at(NEW_YORK, 2026, 10, 30), at(NEW_YORK, 2026, 11, 3)) == 16 * HOUR


def test_an_interval_that_spans_the_change_loses_or_gains_the_hour():
    assert NY_NIGHTS.elapsed(at(NEW_YORK, 2026, 3, 8), at(NEW_YORK, 2026, 3, 8, 12)) == 2 * HOUR
    assert NY_NIGHTS.elapsed(at(NEW_YORK, 2026, 11, 1), at(NEW_YORK, 2026, 11, 1, 12)) == 4 * HOUR
    assert NY_NIGHTS.elapsed(at(NEW_YORK, 2026, 11, 8), at(NEW_YORK, 2026, 11, 8, 12)) == 3 * HOUR


def test_a_boundary_in_the_spring_gap_is_the_moment_of_the_jump():
    calendar = BusinessCalendar("America/New_York", week(sunday=hours("02:30-05:00")))

    assert calendar.next_open(at(NEW_YORK, 2026, 3, 8)) == utc(2026, 3, 8, 7)  # 03:00 EDT
    assert calendar.elapsed(at(NEW_YORK, 2026, 3, 8), at(NEW_YORK, 2026, 3, 9)) == 2 * HOUR


def test_a_boundary_in_the_repeated_hour_is_its_first_occurrence():
    calendar = BusinessCalendar("America/New_York", week(sunday=hours("00:00-01:30")))
    first_0115, second_0115 = utc(2026, 11, 1, 5, 15), utc(2026, 11, 1, 6, 15)  # 01:15 EDT, then 01:15 EST

    assert calendar.is_open(first_0115)
    assert not calendar.is_open(second_0115)
    assert calendar.add(at(NEW_YORK, 2026, 11, 1), 90 * 60) == utc(2026, 11, 1, 5, 30)


def test_an_interval_ending_at_midnight_runs_on_into_the_next_day():
    calendar = BusinessCalendar("Asia/Shanghai", week(monday=hours("18:00-24:00"), tuesday=hours("00:00-02:00")))

    assert calendar.add(at(SHANGHAI, 2026, 3, 2, 23), 3 * HOUR) == at(SHANGHAI, 2026, 3, 3, 2)
    assert calendar.is_open(at(SHANGHAI, 2026, 3, 3, 0))
    assert calendar.elapsed(at(SHANGHAI, 2026, 3, 2, 23, 30), at(SHANGHAI, 2026, 3, 3, 0, 30)) == HOUR


def test_a_duration_that_ends_with_a_shift_ends_at_its_close():
    assert NY_OFFICE.add(at(NEW_YORK, 2026, 5, 15, 9), 8 * HOUR) == at(NEW_YORK, 2026, 5, 15, 17)


def test_exactly_one_working_week_ends_at_fridays_close():
    assert NY_OFFICE.add(at(NEW_YORK, 2026, 5, 16, 12), 40 * HOUR) == at(NEW_YORK, 2026, 5, 22, 17)
    assert CN_OFFICE.add(at(SHANGHAI, 2026, 5, 16, 12), 5 * 27000) == at(SHANGHAI, 2026, 5, 22, 18)


def test_zero_seconds_is_the_start_itself_even_when_closed():
    sunday = at(SHANGHAI, 2026, 2, 15, 10)

    assert CN_OFFICE.add(sunday, 0) == sunday
    assert CN_OFFICE.next_open(sunday) == at(SHANGHAI, 2026, 2, 24, 9)


def test_next_open_is_the_instant_itself_while_open():
    assert NY_OFFICE.next_open(at(NEW_YORK, 2026, 5, 15, 12, 0, 7)) == at(NEW_YORK, 2026, 5, 15, 12, 0, 7)
    assert NY_OFFICE.next_open(at(NEW_YORK, 2026, 5, 15, 17)) == at(NEW_YORK, 2026, 5, 18, 9)


def test_fractions_of_a_second_are_dropped():
    start = at(NEW_YORK, 2026, 5, 15, 12, 0, 0) + timedelta(microseconds=900_000)

    assert NY_OFFICE.add(start, 60) == at(NEW_YORK, 2026, 5, 15, 12, 1)
    assert NY_OFFICE.elapsed(start, start + timedelta(microseconds=200_000)) == 1


def test_calendar_time_counts_every_real_second_across_the_changes():
    always = BusinessCalendar.always_open("America/New_York")
    with_a_holiday = BusinessCalendar("America/New_York", always.weekly, (DateOverride(date(2027, 12, 25)),))

    for calendar in (always, with_a_holiday):
        assert calendar.elapsed(at(NEW_YORK, 2026, 3, 8), at(NEW_YORK, 2026, 3, 9)) == 23 * HOUR
        assert calendar.elapsed(at(NEW_YORK, 2026, 11, 1), at(NEW_YORK, 2026, 11, 2)) == 25 * HOUR
        assert calendar.add(at(NEW_YORK, 2026, 3, 1), 365 * DAY) == at(NEW_YORK, 2026, 3, 1) + timedelta(days=365)


def test_a_closed_day_in_calendar_time_is_left_out():
    calendar = BERLIN_ALWAYS_BUT_CHRISTMAS

    assert calendar.elapsed(at(BERLIN, 2026, 12, 24), at(BERLIN, 2026, 12, 27)) == 2 * DAY
    assert calendar.add(at(BERLIN, 2026, 12, 24, 12), DAY) == at(BERLIN, 2026, 12, 26, 12)
    assert not calendar.is_open(at(BERLIN, 2026, 12, 25, 8))


def test_ten_years_are_counted_in_weeks_not_days(monkeypatch):
    days_walked = 0
    spans = BusinessCalendar._spans

    def counting(self, day):
        nonlocal days_walked
        days_walked += 1
        return spans(self, day)

    monkeypatch.setattr(BusinessCalendar, "_spans", counting)
    ten_years = 10 * 52 * 40 * HOUR

    due = NY_OFFICE.add(at(NEW_YORK, 2026, 3, 6, 16), ten_years)

    assert due == at(NEW_YORK, 2036, 2, 22, 16)  # 520 weeks later, the same Friday hour
    assert NY_OFFICE.elapsed(at(NEW_YORK, 2026, 3, 6, 16), due) == ten_years
    assert days_walked < 400  # the weeks of the 20 clock changes, walked a day at a time, and the ends


def test_a_calendar_that_runs_out_of_working_time_says_so():
    one_day = BusinessCalendar("UTC", week(), (DateOverride(date(2026, 5, 1), hours("09:00-10:00")),))

    assert one_day.add(utc(2026, 4, 1), HOUR) == utc(2026, 5, 1, 10)
    with pytest.raises(NoBusinessTime):
        one_day.add(utc(2026, 4, 1), HOUR + 1)
    with pytest.raises(NoBusinessTime):
        one_day.next_open(utc(2026, 5, 1, 10))
    assert one_day.elapsed(utc(2026, 1, 1), utc(2030, 1, 1)) == HOUR


def test_instants_must_carry_a_time_zone_and_durations_cannot_be_negative():
    with pytest.raises(ValueError, match="timezone-aware"):
        NY_OFFICE.add(datetime(2026, 5, 15, 12), 60)
    with pytest.raises(ValueError, match="negative"):
        NY_OFFICE.add(utc(2026, 5, 15, 12), -1)


# Validation


def _pointers(**fields) -> list[str]:
    fields.setdefault("time_zone", "Asia/Shanghai")
    fields.setdefault("weekly", weekdays(CN_DAY))
    with pytest.raises(InvalidInput) as refused:
        BusinessCalendar(**fields)
    assert refused.value.code == "invalid_calendar"
    return [error.pointer for error in refused.value.errors]


def test_an_unknown_time_zone_is_refused_by_name():
    assert _pointers(time_zone="Asia/Beijing") == ["/time_zone"]
    assert _pointers(time_zone="../../etc/passwd") == ["/time_zone"]


def test_inverted_empty_and_out_of_day_intervals_are_refused_where_they_are():
    assert _pointers(weekly=week(monday=(*CN_DAY[:1], Interval(clock("18:00"), clock("13:30"))))) == [
        "/weekly/monday/1/end"
    ]
    assert _pointers(weekly=week(tuesday=hours("09:00-09:00"))) == ["/weekly/tuesday/0/end"]
    assert _pointers(weekly=week(friday=(Interval(DAY, DAY),))) == ["/weekly/friday/0/start"]
    assert _pointers(weekly=week(sunday=(Interval(-60, 600),))) == ["/weekly/sunday/0/start"]


def test_overlapping_intervals_on_one_day_are_refused():
    assert _pointers(weekly=week(monday=hours("13:00-18:00", "09:00-13:30"))) == ["/weekly/monday/0"]
    assert _pointers(weekly=week(monday=hours("09:00-18:00", "10:00-11:00", "12:00-13:00"))) == [
        "/weekly/monday/1",
        "/weekly/monday/2",
    ]
    BusinessCalendar("UTC", week(monday=hours("09:00-12:00", "12:00-13:00")))  # touching is fine


def test_override_dates_must_be_unique_and_within_the_calendar_range():
    overrides = (
        DateOverride(date(2026, 2, 14), CN_DAY),
        DateOverride(date(2026, 2, 14)),
        DateOverride(date(2027, 1, 1)),
        DateOverride(date(2026, 3, 1), hours("10:00-09:00")),
    )

    pointers = _pointers(overrides=overrides, valid_from=date(2026, 1, 1), valid_to=date(2026, 12, 31))

    assert pointers == ["/overrides/1/date", "/overrides/2/date", "/overrides/3/intervals/0/end"]


def test_the_range_and_the_week_must_make_sense():
    assert _pointers(valid_from=date(2026, 2, 1), valid_to=date(2026, 1, 1)) == ["/valid_to"]
    assert _pointers(weekly=weekdays(CN_DAY)[:5]) == ["/weekly"]
    assert _pointers(weekly=week(), overrides=(DateOverride(date(2026, 1, 1)),)) == ["/weekly"]


def test_times_of_day_are_read_from_text():
    assert clock("09:30") == 9 * HOUR + 30 * 60
    assert clock("17:45:30") == 17 * HOUR + 45 * 60 + 30
    assert clock("24:00") == DAY
    assert str(Interval.parse("18:00", "24:00")) == "18:00–24:00"
    for bad in ("24:01", "9:00", "12:60", "noon"):
        with pytest.raises(ValueError):
            clock(bad)


# Laws, on calendars with lunch breaks, split shifts, night shifts across the changes, overrides and calendar time


def _day_by_day(calendar: BusinessCalendar) -> BusinessCalendar:
    """The same hours with every Wednesday overridden by itself: no week is plain, so every day is walked."""
    wednesdays = [date(2025, 12, 31) + timedelta(weeks=n) for n in range(70)]
    extra = tuple(
        DateOverride(day, calendar.weekly[2]) for day in wednesdays if day not in {o.date for o in calendar.overrides}
    )
    return BusinessCalendar(calendar.time_zone, calendar.weekly, calendar.overrides + extra)


CALENDARS = {
    "cn_office": CN_OFFICE,
    "ny_office": NY_OFFICE,
    "berlin_shifts": BERLIN_SHIFTS,
    "ny_nights": NY_NIGHTS,
    "ny_always": BusinessCalendar.always_open("America/New_York"),
    "berlin_always_but_christmas": BERLIN_ALWAYS_BUT_CHRISTMAS,
}
_DAY_BY_DAY = {id(calendar): _day_by_day(calendar) for calendar in CALENDARS.values()}
CHANGES = [utc(2026, 3, 8, 7), utc(2026, 11, 1, 6), utc(2026, 3, 29, 1), utc(2026, 10, 25, 1), utc(2026, 2, 14, 1)]
YEAR_START, YEAR_END = int(utc(2026, 1, 1).timestamp()), int(utc(2027, 1, 1).timestamp())

calendars = st.sampled_from(sorted(CALENDARS)).map(CALENDARS.__getitem__)
instants = st.one_of(
    st.integers(YEAR_START, YEAR_END),
    st.tuples(st.sampled_from(CHANGES), st.integers(-3 * DAY, 3 * DAY)).map(lambda c: int(c[0].timestamp()) + c[1]),
).map(lambda seconds: datetime.fromtimestamp(seconds, UTC))
"""UTC: Python compares and subtracts two datetimes of one zone by their wall clocks, which a clock change fools."""
durations = st.one_of(st.integers(0, 12 * HOUR), st.integers(0, 60 * 8 * HOUR))
laws = settings(max_examples=120, deadline=None)


@laws
@given(calendars, instants, durations)
def test_elapsed_gives_back_what_add_spent_and_no_earlier_instant_would_do(calendar, start, seconds):
    due = calendar.add(start, seconds)

    assert calendar.elapsed(start, due) == seconds
    if seconds:
        assert calendar.elapsed(start, due - timedelta(seconds=1)) == seconds - 1


@laws
@given(calendars, instants, durations, durations)
def test_add_never_goes_back_as_the_duration_grows(calendar, start, one, other):
    shorter, longer = sorted((one, other))

    assert calendar.add(start, shorter) <= calendar.add(start, longer)


@laws
@given(calendars, st.lists(instants, min_size=3, max_size=3).map(sorted))
def test_elapsed_adds_up_and_grows_with_the_span(calendar, points):
    a, b, c = points

    assert calendar.elapsed(a, c) == calendar.elapsed(a, b) + calendar.elapsed(b, c)
    assert calendar.elapsed(a, c) >= calendar.elapsed(b, c)  # an earlier start counts at least as much
    assert calendar.elapsed(a, c) >= calendar.elapsed(a, b)  # a later end counts at least as much
    assert calendar.elapsed(c, a) == 0
    assert calendar.elapsed(a, c) <= (c - a).total_seconds()


@laws
@given(calendars, instants)
def test_next_open_is_open_and_nothing_lies_before_it(calendar, instant):
    opening = calendar.next_open(instant)

    assert calendar.is_open(opening)
    assert opening >= instant.replace(microsecond=0)
    assert calendar.elapsed(instant, opening) == 0


@laws
@given(calendars, instants, durations)
def test_whole_weeks_counted_at_once_agree_with_walking_every_day(calendar, start, seconds):
    walked = _DAY_BY_DAY[id(calendar)]
    due = calendar.add(start, seconds)

    assert walked.add(start, seconds) == due
    assert walked.elapsed(start, due + timedelta(days=9)) == calendar.elapsed(start, due + timedelta(days=9))
