"""The engine against tests/golden/business_time_cases.json, whose answers a brute-force oracle worked out minute by
minute (tests/golden/make_business_time_cases.py), over the calendars the file itself defines."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest

from app.domain.business_time import BusinessCalendar, DateOverride, Interval, week
from app.domain.clock import rfc3339

GOLDEN = json.loads((Path(__file__).parents[1] / "golden" / "business_time_cases.json").read_text(encoding="utf-8"))


def _intervals(pairs: list[list[str]]) -> tuple[Interval, ...]:
    return tuple(Interval.parse(start, end) for start, end in pairs)


def _calendar(spec: dict) -> BusinessCalendar:
    bound = {key: date.fromisoformat(spec[key]) for key in ("valid_from", "valid_to") if key in spec}
    return BusinessCalendar(
        spec["time_zone"],
        week(**{day: _intervals(pairs) for day, pairs in spec["weekly"].items()}),
        tuple(
            DateOverride(date.fromisoformat(o["date"]), _intervals(o["intervals"]), o["name"])
            for o in spec["overrides"]
        ),
        **bound,
    )


CALENDARS = {name: _calendar(spec) for name, spec in GOLDEN["calendars"].items()}


def _label(case: dict) -> str:
    return f"{case['calendar']} {case['start']} {case.get('seconds', case.get('end'))}"


def test_the_golden_file_covers_every_calendar_with_enough_cases():
    assert len(GOLDEN["add_cases"]) >= 200
    assert {case["calendar"] for case in GOLDEN["add_cases"]} == set(CALENDARS)


@pytest.mark.parametrize("case", GOLDEN["add_cases"], ids=_label)
def test_add_and_elapsed_back_match_the_oracle(case):
    calendar = CALENDARS[case["calendar"]]
    start = datetime.fromisoformat(case["start"])

    due = calendar.add(start, case["seconds"])

    assert rfc3339(due) == case["due"], case.get("note")
    assert calendar.elapsed(start, due) == case["elapsed_back"]


@pytest.mark.parametrize("case", GOLDEN["elapsed_cases"], ids=_label)
def test_elapsed_matches_the_oracle(case):
    calendar = CALENDARS[case["calendar"]]

    assert (
        calendar.elapsed(datetime.fromisoformat(case["start"]), datetime.fromisoformat(case["end"])) == case["elapsed"]
    ), case.get("note")
