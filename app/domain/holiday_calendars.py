"""Date overrides seeded from the `holidays` package's public-holiday tables: each public holiday a closed date and,
where a country moves working days onto weekends (China's 调休), those weekend days open. The tables are the
package's, refreshed by upgrading it; a calendar keeps the dates it was seeded with."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace

import holidays

from app.domain.business_time import BusinessCalendar, DateOverride, Interval
from app.domain.errors import FieldError, InvalidInput

WEEKEND_WORKING_DAY = "weekend working day"
"""The name of an opened weekend date (调休上班); the tables name holidays only."""


def overrides_from_holidays(
    country: str,
    years: Iterable[int],
    subdivision: str | None = None,
    *,
    workday_intervals: Sequence[Interval] = (),
) -> tuple[DateOverride, ...]:
    """`country`'s public holidays in `years` as closed dates, named in the country's own language (春节), and the
    weekend days it declares working days (Saturday 2026-02-14 in China) as dates open with `workday_intervals`,
    in date order. Raises InvalidInput naming `/country`, `/subdivision`, `/years` or `/workday_intervals`."""
    code = country.strip().upper()
    wanted = set(years)
    if code not in holidays.list_supported_countries():
        raise _refused("/country", f"{country!r} is not a country the holiday tables know (ISO 3166-1, e.g. CN, US)")
    if not wanted:
        raise _refused("/years", "name at least one year")
    try:
        language = holidays.country_holidays(code).default_language
        table = holidays.country_holidays(code, subdiv=subdivision, years=sorted(wanted), language=language)
    except NotImplementedError as error:  # how the package refuses an unknown subdivision
        raise _refused(
            "/subdivision", f"{subdivision!r} is not a subdivision of {code} in the holiday tables"
        ) from error
    closed = {day: name for day, name in table.items() if day.year in wanted}
    working = sorted(day for day in table.weekend_workdays if day.year in wanted and day not in closed)
    if working and not workday_intervals:
        listed = ", ".join(str(day) for day in working)
        raise _refused("/workday_intervals", f"{code} moves working days onto weekends ({listed}): give their hours")
    overrides = [DateOverride(day, (), name) for day, name in closed.items()]
    overrides += [DateOverride(day, tuple(workday_intervals), WEEKEND_WORKING_DAY) for day in working]
    return tuple(sorted(overrides, key=lambda override: override.date))


def with_public_holidays(
    calendar: BusinessCalendar, country: str, years: Iterable[int], subdivision: str | None = None
) -> BusinessCalendar:
    """`calendar` with `country`'s public holidays closed and its weekend working days open with the calendar's
    usual Monday–Friday hours (the most common of them); the calendar's own override of a date wins over the table's.
    The result is validated like any calendar: seeded dates outside `valid_from`/`valid_to` are refused."""
    seeded = overrides_from_holidays(country, years, subdivision, workday_intervals=usual_weekday_hours(calendar))
    own = {override.date for override in calendar.overrides}
    merged = sorted((*calendar.overrides, *(o for o in seeded if o.date not in own)), key=lambda o: o.date)
    return replace(calendar, overrides=tuple(merged))


def usual_weekday_hours(calendar: BusinessCalendar) -> tuple[Interval, ...]:
    """The calendar's most common Monday–Friday hours (none when it has none): the hours of a 调休 working day."""
    usual = Counter(day for day in calendar.weekly[:5] if day).most_common(1)
    return usual[0][0] if usual else ()


def table_years(country: str) -> range | None:
    """The years the package's table for `country` covers (a year outside it has no holidays at all, silently), or
    None when the tables do not know the country."""
    code = country.strip().upper()
    if code not in holidays.list_supported_countries():
        return None
    table = holidays.country_holidays(code)
    return range(table.start_year, table.end_year + 1)


def _refused(pointer: str, detail: str) -> InvalidInput:
    return InvalidInput(
        f"Public holidays cannot be seeded: {detail}", code="invalid_calendar", errors=[FieldError(pointer, detail)]
    )
