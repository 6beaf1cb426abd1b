"""Calendars seeded from the `holidays` package: public holidays closed, China's 调休 weekend working days open, and
the package's 2026 China schedule checked day by day against the State Council notice as published."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.domain.business_time import BusinessCalendar, DateOverride, Interval, hours, week, weekdays
from app.domain.errors import InvalidInput
from app.domain.holiday_calendars import WEEKEND_WORKING_DAY, overrides_from_holidays, with_public_holidays

SHANGHAI = ZoneInfo("Asia/Shanghai")
CN_DAY = hours("09:00-12:00", "13:30-18:00")
CN_OFFICE = BusinessCalendar("Asia/Shanghai", weekdays(CN_DAY))
GOLDEN = Path(__file__).parents[1] / "golden" / "business_time_cases.json"


def _local(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)


def _refused_at(*args, **kwargs) -> list[str]:
    with pytest.raises(InvalidInput) as refused:
        overrides_from_holidays(*args, **kwargs)
    return [error.pointer for error in refused.value.errors]


def test_spring_festival_2026_closes_the_15th_to_the_23rd_of_february():
    seeded = with_public_holidays(CN_OFFICE, "CN", [2026])

    assert seeded.elapsed(_local(date(2026, 2, 15)), _local(date(2026, 2, 24))) == 0
    assert seeded.is_open(datetime(2026, 2, 24, 9, tzinfo=SHANGHAI))
    names = {o.date: o.name for o in seeded.overrides}
    assert [names[date(2026, 2, day)] for day in (16, 17, 18, 19)] == ["农历除夕", "春节", "春节", "春节"]


def test_the_tiaoxiu_saturdays_open_with_the_usual_weekday_hours():
    seeded = with_public_holidays(CN_OFFICE, "cn", [2026])
    by_date = {o.date: o for o in seeded.overrides}

    for saturday in (date(2026, 2, 14), date(2026, 2, 28)):
        assert by_date[saturday] == DateOverride(saturday, CN_DAY, WEEKEND_WORKING_DAY)
        assert seeded.elapsed(_local(saturday), _local(saturday + timedelta(days=1))) == 27000


def test_the_2026_china_schedule_matches_the_state_council_notice_day_by_day():
    """The golden file's cn_office calendar is the notice typed in by hand; the package must agree on every date."""
    spec = json.loads(GOLDEN.read_text(encoding="utf-8"))["calendars"]["cn_office"]
    notice = BusinessCalendar(
        spec["time_zone"],
        weekdays(CN_DAY),
        tuple(
            DateOverride(date.fromisoformat(o["date"]), tuple(Interval.parse(*pair) for pair in o["intervals"]))
            for o in spec["overrides"]
        ),
    )
    seeded = with_public_holidays(CN_OFFICE, "CN", [2026])

    days = [date(2026, 1, 1) + timedelta(days=n) for n in range(365)]
    differing = [
        day
        for day in days
        if seeded.elapsed(_local(day), _local(day + timedelta(days=1)))
        != notice.elapsed(_local(day), _local(day + timedelta(days=1)))
    ]
    assert differing == []


def test_a_working_day_moved_into_december_for_the_next_new_year_is_seeded():
    opened = [o.date for o in overrides_from_holidays("CN", [2001], workday_intervals=CN_DAY) if o.intervals]

    assert opened[-2:] == [date(2001, 12, 29), date(2001, 12, 30)]  # for 2002-01-02 and 01-03


def test_a_subdivision_adds_its_own_holidays_and_opens_no_weekend():
    new_york = overrides_from_holidays("US", [2026], "NY")

    assert DateOverride(date(2026, 2, 12), (), "Lincoln's Birthday") in new_york
    assert DateOverride(date(2026, 7, 3), (), "Independence Day (observed)") in new_york
    assert all(not o.intervals for o in new_york)
    assert date(2026, 2, 12) not in {o.date for o in overrides_from_holidays("US", [2026])}


def test_the_calendars_own_override_wins_over_the_table():
    working_national_day = DateOverride(date(2026, 10, 1), hours("10:00-16:00"), "值班")
    calendar = BusinessCalendar("Asia/Shanghai", weekdays(CN_DAY), (working_national_day,))

    seeded = with_public_holidays(calendar, "CN", [2026])

    assert [o for o in seeded.overrides if o.date == date(2026, 10, 1)] == [working_national_day]
    assert not seeded.is_open(datetime(2026, 10, 2, 10, tzinfo=SHANGHAI))


def test_seeded_dates_outside_the_calendars_range_are_refused():
    calendar = BusinessCalendar(
        "Asia/Shanghai", weekdays(CN_DAY), valid_from=date(2026, 1, 1), valid_to=date(2026, 6, 30)
    )

    with pytest.raises(InvalidInput) as refused:
        with_public_holidays(calendar, "CN", [2026])

    assert refused.value.errors and all(error.pointer.startswith("/overrides/") for error in refused.value.errors)


def test_unknown_countries_subdivisions_and_missing_years_are_refused_by_field():
    assert _refused_at("XX", [2026]) == ["/country"]
    assert _refused_at("US", [2026], "ZZ") == ["/subdivision"]
    assert _refused_at("CN", []) == ["/years"]


def test_china_needs_the_hours_of_its_weekend_working_days():
    assert _refused_at("CN", [2026]) == ["/workday_intervals"]
    weekend_only = BusinessCalendar("Asia/Shanghai", week(saturday=CN_DAY))
    with pytest.raises(InvalidInput) as refused:
        with_public_holidays(weekend_only, "CN", [2026])
    assert [error.pointer for error in refused.value.errors] == ["/workday_intervals"]
