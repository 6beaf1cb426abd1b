"""Business calendars over HTTP: upserts by key with ETags, staff reads, public holidays and ICS closures seeded in,
previews that say what the SLA engine computes (across Spring Festival and a US clock change), and every bad input
a 4xx problem naming its field that leaves nothing written."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import holidays
import httpx
import pytest
from fastapi import FastAPI
from standardwebhooks import Webhook

from app.domain.principal import Role
from bench.receiver import Receiver
from tests.conftest import client_for
from tests.problems import problem_fields

BASE = "/v1/business-calendars"
MORNING = {"start": "09:00", "end": "12:00"}
AFTERNOON = {"start": "13:30", "end": "18:00"}
CN_DAY = [MORNING, AFTERNOON]  # 3 h + 4.5 h = 27 000 s a day
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
ICS_HEADERS = {"Content-Type": "text/calendar; charset=utf-8"}


def calendar_body(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "上海客服中心",
        "time_zone": "Asia/Shanghai",
        "weekly": dict.fromkeys(WEEKDAYS, CN_DAY),
        **overrides,
    }


def ics(*events: str) -> str:
    body = "".join(f"BEGIN:VEVENT\r\n{event.strip()}\r\nEND:VEVENT\r\n" for event in events)
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//holidays//EN\r\n{body}END:VCALENDAR\r\n"


async def _put(client: httpx.AsyncClient, headers: dict[str, str], key: str, body: dict[str, Any]) -> httpx.Response:
    response = await client.put(f"{BASE}/{key}", json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    return response


async def _absent(client: httpx.AsyncClient, headers: dict[str, str], key: str) -> None:
    response = await client.get(f"{BASE}/{key}", headers=headers)
    assert (response.status_code, response.json()["code"]) == (404, "business_calendar_not_found")


# Create, replace, read, list


async def test_a_manager_creates_then_replaces_a_calendar_and_staff_read_it(client, auth):
    manager = auth(Role.MANAGER)
    created = await client.put(
        f"{BASE}/cn-office",
        json=calendar_body(
            weekly={
                **{day: [AFTERNOON, MORNING] for day in WEEKDAYS},
                "saturday": [{"start": "10:00", "end": "14:00"}],
            },
            overrides=[
                {"date": "2026-10-01", "name": "国庆节"},
                {"date": "2026-09-27", "intervals": [MORNING], "name": "调休上班"},
            ],
            valid_from="2026-01-01",
            valid_to="2026-12-31",
        ),
        headers=manager,
    )
    replaced = await client.put(f"{BASE}/cn-office", json=calendar_body(name="上海"), headers=manager)
    read = await client.get(f"{BASE}/cn-office", headers=auth(Role.AGENT))

    assert created.status_code == 201, created.text
    assert created.headers["etag"] == '"1"'
    calendar = created.json()
    assert calendar["weekly"]["monday"] == CN_DAY  # kept in time order
    assert calendar["weekly"]["sunday"] == []
    assert [o["date"] for o in calendar["overrides"]] == ["2026-09-27", "2026-10-01"]
    assert calendar["overrides"][1] == {"date": "2026-10-01", "intervals": [], "name": "国庆节"}
    assert calendar["weekly_business_seconds"] == 5 * 27_000 + 4 * 3600
    assert (calendar["valid_from"], calendar["valid_to"]) == ("2026-01-01", "2026-12-31")
    assert (replaced.status_code, replaced.headers["etag"], replaced.json()["version"]) == (200, '"2"', 2)
    assert replaced.json()["overrides"] == [] and replaced.json()["valid_to"] is None
    assert read.status_code == 200 and read.headers["etag"] == '"2"'
    assert read.json() == replaced.json()


async def test_an_identical_upsert_in_another_order_keeps_the_version(client, auth):
    admin = auth(Role.ADMIN)
    overrides = [{"date": "2026-10-02", "name": "国庆节"}, {"date": "2026-10-01", "name": "国庆节"}]
    await _put(client, admin, "cn", calendar_body(overrides=overrides))

    again = await client.put(
        f"{BASE}/cn",
        json=calendar_body(overrides=overrides[::-1], weekly=dict.fromkeys(WEEKDAYS, CN_DAY[::-1])),
        headers=admin,
    )

    assert (again.status_code, again.json()["version"], again.headers["etag"]) == (200, 1, '"1"')


async def test_calendars_page_through_newest_first(client, auth):
    manager = auth(Role.MANAGER)
    for n in range(5):
        await _put(client, manager, f"cal-{n}", calendar_body())

    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = await client.get(BASE, params=params, headers=auth(Role.REVIEWER))
        assert page.status_code == 200, page.text
        seen += [c["key"] for c in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break

    assert seen == [f"cal-{n}" for n in reversed(range(5))]
    assert problem_fields(await client.get(BASE, params={"limit": 0}, headers=manager), 422, "validation_failed") == {
        "limit"
    }


# ETags and If-Match


async def test_a_stale_if_match_is_refused_and_changes_nothing(client, auth):
    manager = auth(Role.MANAGER)
    await _put(client, manager, "cn", calendar_body())
    current = await client.put(f"{BASE}/cn", json=calendar_body(name="B"), headers={**manager, "If-Match": '"1"'})

    stale = await client.put(f"{BASE}/cn", json=calendar_body(name="C"), headers={**manager, "If-Match": '"1"'})
    stale_seed = await client.post(
        f"{BASE}/cn/holidays", json={"country": "CN", "years": [2026]}, headers={**manager, "If-Match": '"1"'}
    )
    stale_import = await client.post(
        f"{BASE}/cn/ics",
        content=ics("UID:x\r\nDTSTART;VALUE=DATE:20261001\r\nSUMMARY:国庆节"),
        headers={**manager, **ICS_HEADERS, "If-Match": '"1"'},
    )
    missing = await client.put(f"{BASE}/nope", json=calendar_body(), headers={**manager, "If-Match": '"1"'})
    read = await client.get(f"{BASE}/cn", headers=manager)

    assert (current.status_code, current.headers["etag"]) == (200, '"2"')
    problem_fields(stale, 412, "etag_mismatch")
    assert stale.json()["current_etag"] == '"2"'
    problem_fields(stale_seed, 412, "etag_mismatch")
    problem_fields(stale_import, 412, "etag_mismatch")
    problem_fields(missing, 412, "etag_mismatch")
    assert (read.json()["name"], read.json()["version"], read.json()["overrides"]) == ("B", 2, [])
    await _absent(client, manager, "nope")


async def test_changes_need_if_match_where_the_service_requires_it(app_with, auth):
    async with client_for(app_with(require_if_match=True)) as client:
        manager = auth(Role.MANAGER)
        created = await client.put(f"{BASE}/cn", json=calendar_body(), headers=manager)
        refused = await client.put(f"{BASE}/cn", json=calendar_body(name="B"), headers=manager)
        refused_seed = await client.post(
            f"{BASE}/cn/holidays", json={"country": "CN", "years": [2026]}, headers=manager
        )
        seeded = await client.post(
            f"{BASE}/cn/holidays", json={"country": "CN", "years": [2026]}, headers={**manager, "If-Match": '"1"'}
        )

    assert created.status_code == 201
    problem_fields(refused, 428, "if_match_required")
    problem_fields(refused_seed, 428, "if_match_required")
    assert (seeded.status_code, seeded.headers["etag"]) == (200, '"2"')


# Permissions


async def test_staff_read_calendars_customers_do_not_and_only_managers_and_admins_change_them(client, auth):
    await _put(client, auth(Role.ADMIN), "cn", calendar_body())
    preview = f"{BASE}/cn/preview?from=2026-02-13T17:00:00%2B08:00&seconds=60"

    for role in (Role.AGENT, Role.REVIEWER, Role.MANAGER, Role.ADMIN):
        for path in (f"{BASE}/cn", BASE, preview):
            assert (await client.get(path, headers=auth(role))).status_code == 200, (role, path)
    for path in (f"{BASE}/cn", BASE, preview):
        problem_fields(await client.get(path, headers=auth(Role.CUSTOMER)), 403, "role_not_allowed")
    for role in (Role.AGENT, Role.REVIEWER, Role.INTEGRATION, Role.CUSTOMER):
        headers = auth(role)
        problem_fields(
            await client.put(f"{BASE}/cn", json=calendar_body(name="X"), headers=headers), 403, "role_not_allowed"
        )
        seed = await client.post(f"{BASE}/cn/holidays", json={"country": "CN", "years": [2026]}, headers=headers)
        problem_fields(seed, 403, "role_not_allowed")
        imported = await client.post(f"{BASE}/cn/ics", content=ics(), headers={**headers, **ICS_HEADERS})
        problem_fields(imported, 403, "role_not_allowed")
    read = await client.get(f"{BASE}/cn", headers=auth(Role.AGENT))
    assert (read.json()["version"], read.json()["overrides"]) == (1, [])


# Public holidays and previews


async def test_seeding_china_2026_opens_the_tiaoxiu_saturday_and_closes_the_holidays(client, auth):
    manager = auth(Role.MANAGER)
    await _put(client, manager, "cn", calendar_body())

    seeded = await client.post(
        f"{BASE}/cn/holidays", json={"country": "CN", "years": [2026]}, headers={**manager, "If-Match": '"1"'}
    )
    again = await client.post(f"{BASE}/cn/holidays", json={"country": "cn", "years": [2026]}, headers=manager)

    assert (seeded.status_code, seeded.headers["etag"]) == (200, '"2"'), seeded.text
    by_date = {o["date"]: o for o in seeded.json()["overrides"]}
    assert by_date["2026-02-14"]["intervals"] == CN_DAY  # Saturday: 调休上班 with the usual weekday hours
    assert by_date["2026-02-16"] == {"date": "2026-02-16", "intervals": [], "name": "农历除夕"}
    assert by_date["2026-10-01"]["intervals"] == [] and by_date["2026-10-01"]["name"] == "国庆节"
    assert (again.status_code, again.json()["version"]) == (200, 2)  # nothing new: the version stays

    async def preview(start: str, seconds: int, **extra: str) -> dict[str, Any]:
        response = await client.get(
            f"{BASE}/cn/preview", params={"from": start, "seconds": seconds, **extra}, headers=auth(Role.AGENT)
        )
        assert response.status_code == 200, response.text
        return response.json()

    # Friday 13 February 17:00: one hour left that day (to 18:00); Saturday the 14th is a working day (调休) opening
    # at 09:00, so the second hour ends at 10:00 on the 14th, 02:00 UTC.
    friday = await preview("2026-02-13T17:00:00+08:00", 7200, to="2026-02-24T10:00:00+08:00")
    assert friday["due_at"] == "2026-02-14T02:00:00Z"
    assert friday["from"] == "2026-02-13T09:00:00Z" and friday["time_zone"] == "Asia/Shanghai"
    assert friday["open_now"] is True and friday["next_open"] == "2026-02-13T09:00:00Z"
    # Fri 17–18 (1 h) + Sat the 14th (7.5 h) + Tue the 24th 09–10 (1 h); the 15th to the 23rd are closed.
    assert friday["elapsed_seconds"] == 3600 + 27_000 + 3600
    # Saturday the 14th 17:00: one hour that day, then closed from Sunday the 15th (weekend, 春节 16–20, weekend,
    # 23rd off in lieu) until Tuesday the 24th 09:00: due at 10:00 on the 24th.
    saturday = await preview("2026-02-14T17:00:00+08:00", 7200)
    assert saturday["due_at"] == "2026-02-24T02:00:00Z"
    holiday = await preview("2026-02-16T10:00:00+08:00", 0)
    assert holiday["open_now"] is False and holiday["next_open"] == "2026-02-24T01:00:00Z"
    assert holiday["due_at"] == "2026-02-16T02:00:00Z" and holiday["elapsed_seconds"] is None
    # Wednesday 30 September 17:30: 30 min that day; 1–7 October are 国庆节 and a Sunday; Thursday the 8th opens at
    # 09:00 and the other 30 min end at 09:30, 01:30 UTC.
    national_day = await preview("2026-09-30T17:30:00+08:00", 3600)
    assert national_day["due_at"] == "2026-10-08T01:30:00Z"


async def test_the_calendars_own_overrides_win_over_seeded_holidays_unless_replaced(client, auth):
    manager = auth(Role.MANAGER)
    own = {"date": "2026-10-01", "intervals": [MORNING], "name": "值班"}
    await _put(client, manager, "kept", calendar_body(overrides=[own]))
    await _put(client, manager, "replaced", calendar_body(overrides=[own]))

    kept = await client.post(f"{BASE}/kept/holidays", json={"country": "CN", "years": [2026]}, headers=manager)
    replaced = await client.post(
        f"{BASE}/replaced/holidays",
        json={"country": "CN", "years": [2026], "replace_existing": True},
        headers=manager,
    )

    assert {o["date"]: o for o in kept.json()["overrides"]}["2026-10-01"] == own
    assert {o["date"]: o for o in replaced.json()["overrides"]}["2026-10-01"]["intervals"] == []


async def test_a_preview_across_the_us_spring_clock_change_counts_real_hours(client, auth):
    manager = auth(Role.MANAGER)
    ny_day = [{"start": "09:00", "end": "17:00"}]
    await _put(
        client, manager, "ny", calendar_body(time_zone="America/New_York", weekly=dict.fromkeys(WEEKDAYS, ny_day))
    )
    await _put(
        client,
        manager,
        "ny-night",
        calendar_body(time_zone="America/New_York", weekly={"sunday": [{"start": "01:00", "end": "04:00"}]}),
    )

    async def preview(key: str, **params: Any) -> dict[str, Any]:
        response = await client.get(f"{BASE}/{key}/preview", params=params, headers=auth(Role.AGENT))
        assert response.status_code == 200, response.text
        return response.json()

    # Friday 6 March 16:00 EST (21:00Z): 1 h to 17:00; clocks spring forward on Sunday the 8th, so Monday opens at
    # 09:00 EDT = 13:00Z and the second hour ends 14:00Z (an engine adding UTC hours would say 15:00Z).
    due = await preview("ny", **{"from": "2026-03-06T16:00:00-05:00", "seconds": 7200})
    assert due["due_at"] == "2026-03-09T14:00:00Z"
    assert due["next_open"] == "2026-03-06T21:00:00Z"
    # A 01:00–04:00 Sunday shift lasts 2 h on the spring-forward night and 4 h on the fall-back night.
    spring = await preview(
        "ny-night", **{"from": "2026-03-08T00:00:00-05:00", "seconds": 0, "to": "2026-03-09T00:00:00-04:00"}
    )
    autumn = await preview(
        "ny-night", **{"from": "2026-11-01T00:00:00-04:00", "seconds": 0, "to": "2026-11-02T00:00:00-05:00"}
    )
    assert (spring["elapsed_seconds"], autumn["elapsed_seconds"]) == (7200, 14_400)


# ICS import


async def test_all_day_ics_events_become_closed_days_named_by_their_summary(client, auth):
    manager = auth(Role.MANAGER)
    await _put(client, manager, "cn", calendar_body(overrides=[{"date": "2026-10-05", "intervals": [MORNING]}]))
    file = ics(
        "UID:national-day\r\nDTSTART;VALUE=DATE:20261001\r\nDTEND;VALUE=DATE:20261008\r\nSUMMARY:国庆节",
        "UID:new-year\r\nDTSTART;VALUE=DATE:20260101\r\nSUMMARY:New Year's\r\n  Day",  # no DTEND: one day; folded
        "UID:dropped\r\nSTATUS:CANCELLED\r\nDTSTART;VALUE=DATE:20260301\r\nSUMMARY:Cancelled",
    )

    imported = await client.post(f"{BASE}/cn/ics", content=file.encode(), headers={**manager, **ICS_HEADERS})

    assert (imported.status_code, imported.headers["etag"]) == (200, '"2"'), imported.text
    overrides = {o["date"]: o for o in imported.json()["overrides"]}
    assert sorted(overrides) == ["2026-01-01", *(f"2026-10-0{day}" for day in range(1, 8))]
    assert overrides["2026-01-01"] == {"date": "2026-01-01", "intervals": [], "name": "New Year's Day"}
    assert overrides["2026-10-07"]["name"] == "国庆节"
    assert overrides["2026-10-05"]["intervals"] == [MORNING]  # the calendar's own override wins
    replaced = await client.post(
        f"{BASE}/cn/ics?replace_existing=true", content=file.encode(), headers={**manager, **ICS_HEADERS}
    )
    assert {o["date"]: o for o in replaced.json()["overrides"]}["2026-10-05"]["intervals"] == []


async def test_timed_and_recurring_ics_events_are_refused_by_line_and_uid_and_nothing_is_imported(client, auth):
    manager = auth(Role.MANAGER)
    await _put(client, manager, "cn", calendar_body())
    file = ics(
        "UID:fine\r\nDTSTART;VALUE=DATE:20261001\r\nSUMMARY:国庆节",
        "UID:standup\r\nDTSTART:20261009T090000Z\r\nDTEND:20261009T093000Z\r\nSUMMARY:Stand-up",
        "UID:xmas\r\nDTSTART;VALUE=DATE:20261225\r\nRRULE:FREQ=YEARLY\r\nSUMMARY:Christmas",
        "UID:backwards\r\nDTSTART;VALUE=DATE:20261010\r\nDTEND;VALUE=DATE:20261009",
    )

    response = await client.post(f"{BASE}/cn/ics", content=file, headers={**manager, **ICS_HEADERS})

    assert problem_fields(response, 422, "invalid_calendar") == {"#"}
    details = [e["detail"] for e in response.json()["errors"]]
    _fine, standup, xmas, backwards = (n for n, line in enumerate(file.splitlines(), 1) if line == "BEGIN:VEVENT")
    assert details == [
        f"VEVENT line {standup}, UID standup: is a timed event (DTSTART 20261009T090000Z): only all-day events "
        "(DTSTART;VALUE=DATE) become closed days",
        f"VEVENT line {xmas}, UID xmas: is a recurring event (RRULE/RDATE): list each closed day as an event of "
        "its own",
        f"VEVENT line {backwards}, UID backwards: it ends (DTEND is exclusive) on or before the day it starts",
    ]
    read = await client.get(f"{BASE}/cn", headers=manager)
    assert (read.json()["version"], read.json()["overrides"]) == (1, [])


@pytest.mark.parametrize(
    ("content_type", "code"),
    [
        (None, "unsupported_media_type"),
        ("application/json", "unsupported_media_type"),
        ("text/plain", "unsupported_media_type"),
        ("text/calendar; charset=iso-8859-1", "unsupported_charset"),
    ],
)
async def test_an_ics_import_in_another_content_type_is_a_415_naming_the_header(client, auth, content_type, code):
    manager = auth(Role.MANAGER)
    await _put(client, manager, "cn", calendar_body())
    headers = {**manager, **({"Content-Type": content_type} if content_type else {})}

    response = await client.post(f"{BASE}/cn/ics", content=ics("UID:x\r\nDTSTART;VALUE=DATE:20261001"), headers=headers)

    assert problem_fields(response, 415, code) == {"Content-Type"}
    assert (await client.get(f"{BASE}/cn", headers=manager)).json()["version"] == 1


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not a calendar",
        b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
        ics("UID:x\r\nDTSTART;VALUE=DATE:20261301").encode(),
        ics("UID:x\r\nDTSTART;VALUE=DATE:21010101").encode(),
        ics("UID:x\r\nDTSTART;VALUE=DATE:20261001\r\nSUMMARY:Fête").encode("latin-1"),
    ],
    ids=["empty", "text", "no events", "bad date", "after 2100", "latin-1"],
)
async def test_an_unreadable_ics_file_is_a_422_and_imports_nothing(client, auth, content):
    manager = auth(Role.MANAGER)
    await _put(client, manager, "cn", calendar_body())

    response = await client.post(f"{BASE}/cn/ics", content=content, headers={**manager, **ICS_HEADERS})

    assert problem_fields(response, 422, "invalid_calendar") == {"#"}
    assert (await client.get(f"{BASE}/cn", headers=manager)).json()["version"] == 1


async def test_ics_dates_outside_the_calendars_range_are_refused_by_event(client, auth):
    manager = auth(Role.MANAGER)
    await _put(client, manager, "cn", calendar_body(valid_from="2026-01-01", valid_to="2026-12-31"))

    response = await client.post(
        f"{BASE}/cn/ics",
        content=ics("UID:nye\r\nDTSTART;VALUE=DATE:20261231\r\nDTEND;VALUE=DATE:20270102\r\nSUMMARY:New Year"),
        headers={**manager, **ICS_HEADERS},
    )

    assert problem_fields(response, 422, "invalid_calendar") == {"#"}
    assert response.json()["errors"] == [
        {"pointer": "#", "detail": "VEVENT line 4, UID nye: 2027-01-01 is after the calendar's valid_to 2026-12-31"}
    ]
    assert (await client.get(f"{BASE}/cn", headers=manager)).json()["overrides"] == []


# Bad calendars: each a 4xx naming the field, and nothing written


def _day(*intervals: dict[str, Any]) -> dict[str, Any]:
    return {"monday": list(intervals)}


BAD_CALENDARS = {
    "unknown time zone": ({"time_zone": "Asia/Beijing"}, "invalid_calendar", "#/time_zone"),
    "path as time zone": ({"time_zone": "../../etc/passwd"}, "validation_failed", "#/time_zone"),
    "25:00": ({"weekly": _day({"start": "09:00", "end": "25:00"})}, "validation_failed", "#/weekly/monday/0/end"),
    "9am": ({"weekly": _day({"start": "9am", "end": "12:00"})}, "validation_failed", "#/weekly/monday/0/start"),
    "24:00 start": (
        {"weekly": _day({"start": "24:00", "end": "24:00"})},
        "invalid_calendar",
        "#/weekly/monday/0/start",
    ),
    "inverted": (
        {"weekly": _day(MORNING, {"start": "18:00", "end": "13:30"})},
        "invalid_calendar",
        "#/weekly/monday/1/end",
    ),
    "overlapping": (
        {"weekly": _day(MORNING, {"start": "11:00", "end": "14:00"})},
        "invalid_calendar",
        "#/weekly/monday/1",
    ),
    "number for a time": (
        {"weekly": _day({"start": 900, "end": "12:00"})},
        "validation_failed",
        "#/weekly/monday/0/start",
    ),
    "object for a day": ({"weekly": {"monday": {"start": "09:00"}}}, "validation_failed", "#/weekly/monday"),
    "unknown field": ({"colour": "blue"}, "validation_failed", "#/colour"),
    "unknown weekday": ({"weekly": {"funday": [MORNING]}}, "validation_failed", "#/weekly/funday"),
    "unknown interval field": (
        {"weekly": _day({**MORNING, "note": "x"})},
        "validation_failed",
        "#/weekly/monday/0/note",
    ),
    "no working time": ({"weekly": {}}, "invalid_calendar", "#/weekly"),
    "override before valid_from": (
        {"valid_from": "2026-01-01", "overrides": [{"date": "2025-12-31"}]},
        "invalid_calendar",
        "#/overrides/0/date",
    ),
    "override after valid_to": (
        {"valid_to": "2026-12-31", "overrides": [{"date": "2027-01-01"}]},
        "invalid_calendar",
        "#/overrides/0/date",
    ),
    "valid_to before valid_from": (
        {"valid_from": "2026-06-01", "valid_to": "2026-01-01"},
        "invalid_calendar",
        "#/valid_to",
    ),
    "duplicate dates": (
        {"overrides": [{"date": "2026-10-01"}, {"date": "2026-10-01", "intervals": [MORNING]}]},
        "invalid_calendar",
        "#/overrides/1/date",
    ),
    "inverted override interval": (
        {"overrides": [{"date": "2026-10-01", "intervals": [{"start": "12:00", "end": "09:00"}]}]},
        "invalid_calendar",
        "#/overrides/0/intervals/0/end",
    ),
    "number for a date": ({"overrides": [{"date": 20261001}]}, "validation_failed", "#/overrides/0/date"),
    "date-time for a date": (
        {"overrides": [{"date": "2026-10-01T00:00:00"}]},
        "validation_failed",
        "#/overrides/0/date",
    ),
    "year 1 date": ({"valid_from": "0001-01-01"}, "validation_failed", "#/valid_from"),
    "year 9999 date": ({"overrides": [{"date": "9999-12-31"}]}, "validation_failed", "#/overrides/0/date"),
    "blank name": ({"name": "  "}, "validation_failed", "#/name"),
    "line break in a name": ({"name": "a\nb"}, "validation_failed", "#/name"),
}


@pytest.mark.parametrize(("fields", "code", "pointer"), BAD_CALENDARS.values(), ids=BAD_CALENDARS.keys())
async def test_a_bad_calendar_is_a_422_naming_the_field_and_nothing_is_written(client, auth, fields, code, pointer):
    manager = auth(Role.MANAGER)

    response = await client.put(f"{BASE}/bad", json=calendar_body(**fields), headers=manager)

    assert pointer in problem_fields(response, 422, code)
    await _absent(client, manager, "bad")


async def test_a_refused_replacement_keeps_the_calendar_as_it_was(client, auth):
    manager = auth(Role.MANAGER)
    created = (await _put(client, manager, "cn", calendar_body())).json()

    refused = await client.put(f"{BASE}/cn", json=calendar_body(time_zone="Mars/Olympus_Mons"), headers=manager)

    assert problem_fields(refused, 422, "invalid_calendar") == {"#/time_zone"}
    assert (await client.get(f"{BASE}/cn", headers=manager)).json() == created


BAD_SEEDS = {
    "unknown country": ({"country": "XX", "years": [2026]}, "invalid_calendar", "#/country"),
    "country name": ({"country": "China", "years": [2026]}, "validation_failed", "#/country"),
    "unknown subdivision": (
        {"country": "US", "years": [2026], "subdivision": "ZZ"},
        "invalid_calendar",
        "#/subdivision",
    ),
    "no years": ({"country": "CN", "years": []}, "validation_failed", "#/years"),
    "year after 2100": ({"country": "CN", "years": [2026, 2101]}, "validation_failed", "#/years/1"),
    "year before 1970": ({"country": "CN", "years": [1900]}, "validation_failed", "#/years/0"),
    "string for a year": ({"country": "CN", "years": ["2026"]}, "validation_failed", "#/years/0"),
    "unknown field": ({"country": "CN", "years": [2026], "region": "east"}, "validation_failed", "#/region"),
}


@pytest.mark.parametrize(("body", "code", "pointer"), BAD_SEEDS.values(), ids=BAD_SEEDS.keys())
async def test_a_bad_holiday_seeding_is_a_422_naming_the_field_and_changes_nothing(client, auth, body, code, pointer):
    manager = auth(Role.MANAGER)
    await _put(client, manager, "cn", calendar_body())

    response = await client.post(f"{BASE}/cn/holidays", json=body, headers=manager)

    assert pointer in problem_fields(response, 422, code)
    read = await client.get(f"{BASE}/cn", headers=manager)
    assert (read.json()["version"], read.json()["overrides"]) == (1, [])


async def test_seeding_years_the_holiday_table_or_the_calendar_do_not_cover_is_refused_by_year(client, auth):
    manager = auth(Role.MANAGER)
    await _put(client, manager, "cn", calendar_body(valid_from="2026-01-01", valid_to="2026-12-31"))
    await _put(client, manager, "weekend", calendar_body(weekly={"saturday": CN_DAY}))
    before_armenias_table = holidays.country_holidays("AM").start_year - 1

    not_in_table = await client.post(
        f"{BASE}/cn/holidays", json={"country": "AM", "years": [2026, before_armenias_table]}, headers=manager
    )
    outside_range = await client.post(
        f"{BASE}/cn/holidays", json={"country": "CN", "years": [2026, 2027]}, headers=manager
    )
    no_weekday_hours = await client.post(
        f"{BASE}/weekend/holidays", json={"country": "CN", "years": [2026]}, headers=manager
    )
    unknown = await client.post(f"{BASE}/nope/holidays", json={"country": "CN", "years": [2026]}, headers=manager)

    assert problem_fields(not_in_table, 422, "invalid_calendar") == {"#/years/1"}
    assert problem_fields(outside_range, 422, "invalid_calendar") == {"#/years/1"}
    assert problem_fields(no_weekday_hours, 422, "invalid_calendar") == {"#/country"}
    problem_fields(unknown, 404, "business_calendar_not_found")
    for key in ("cn", "weekend"):
        read = await client.get(f"{BASE}/{key}", headers=manager)
        assert (read.json()["version"], read.json()["overrides"]) == (1, [])


BAD_PREVIEWS = {
    "naive from": ({"from": "2026-02-13T17:00:00", "seconds": "60"}, "from"),
    "date for from": ({"from": "2026-02-13", "seconds": "60"}, "from"),
    "epoch from": ({"from": "1771000000", "seconds": "60"}, "from"),
    "year 1 from": ({"from": "0001-01-01T00:00:00Z", "seconds": "60"}, "from"),
    "year 9999 from": ({"from": "9999-12-31T00:00:00Z", "seconds": "60"}, "from"),
    "from past 9999 in UTC": ({"from": "9999-12-31T23:59:59-23:59", "seconds": "60"}, "from"),
    "negative seconds": ({"from": "2026-02-13T17:00:00Z", "seconds": "-1"}, "seconds"),
    "huge seconds": ({"from": "2026-02-13T17:00:00Z", "seconds": str(10**20)}, "seconds"),
    "more than ten years": ({"from": "2026-02-13T17:00:00Z", "seconds": str(10 * 365 * 86400 + 1)}, "seconds"),
    "word for seconds": ({"from": "2026-02-13T17:00:00Z", "seconds": "ten"}, "seconds"),
    "fraction of seconds": ({"from": "2026-02-13T17:00:00Z", "seconds": "1.5"}, "seconds"),
    "no seconds": ({"from": "2026-02-13T17:00:00Z"}, "seconds"),
    "naive to": ({"from": "2026-02-13T17:00:00Z", "seconds": "0", "to": "2026-02-14T17:00:00"}, "to"),
}


@pytest.mark.parametrize(("params", "name"), BAD_PREVIEWS.values(), ids=BAD_PREVIEWS.keys())
async def test_a_bad_preview_is_a_422_naming_the_parameter(client, auth, params, name):
    await _put(client, auth(Role.MANAGER), "cn", calendar_body())

    response = await client.get(f"{BASE}/cn/preview", params=params, headers=auth(Role.AGENT))

    assert problem_fields(response, 422, "validation_failed") == {name}


async def test_a_preview_past_the_calendars_working_time_is_a_422_no_business_time(client, auth):
    manager = auth(Role.MANAGER)
    # No weekly hours: only the one open date, 09:00–10:00 on 1 May 2026.
    await _put(
        client, manager, "one-day", calendar_body(weekly={}, overrides=[{"date": "2026-05-01", "intervals": [MORNING]}])
    )
    await _put(client, manager, "thin", calendar_body(weekly={"monday": [{"start": "09:00", "end": "09:00:01"}]}))

    async def preview(key: str, start: str, seconds: int) -> httpx.Response:
        params = {"from": start, "seconds": seconds}
        return await client.get(f"{BASE}/{key}/preview", params=params, headers=auth(Role.AGENT))

    fits = await preview("one-day", "2026-04-01T00:00:00Z", 3 * 3600)
    runs_out = await preview("one-day", "2026-04-01T00:00:00Z", 3 * 3600 + 1)
    after = await preview("one-day", "2026-05-02T00:00:00Z", 0)
    past_2100 = await preview("thin", "2026-04-01T00:00:00Z", 10 * 365 * 86400)
    missing = await preview("nope", "2026-04-01T00:00:00Z", 0)

    assert fits.status_code == 200 and fits.json()["due_at"] == "2026-05-01T04:00:00Z"
    assert problem_fields(runs_out, 422, "no_business_time") == {"seconds"}
    assert problem_fields(after, 422, "no_business_time") == {"from"}
    assert problem_fields(past_2100, 422, "no_business_time") == {"seconds"}
    problem_fields(missing, 404, "business_calendar_not_found")


# Events


@pytest.fixture
async def hooks(app_with) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An app whose webhooks may reach 127.0.0.1, on the test's database."""
    app = app_with(webhook_allowed_hosts="127.0.0.1")
    async with client_for(app) as http:
        yield app, http


async def test_calendar_changes_are_announced_with_the_calendar_as_get_shows_it(hooks, auth):
    app, http = hooks
    admin, manager = auth(Role.ADMIN), auth(Role.MANAGER)
    async with Receiver() as receiver:
        subscribed = await http.post(
            "/v1/webhook-endpoints", json={"url": receiver.url, "event_types": ["business_calendar.*"]}, headers=admin
        )
        assert subscribed.status_code == 201, subscribed.text
        endpoint = subscribed.json()
        await _put(http, manager, "cn", calendar_body())
        created = (await http.get(f"{BASE}/cn", headers=manager)).json()
        await _put(http, manager, "cn", calendar_body())  # the same again: nothing to announce
        refused = await http.put(f"{BASE}/cn", json=calendar_body(time_zone="Nowhere"), headers=manager)
        await http.post(f"{BASE}/cn/holidays", json={"country": "CN", "years": [2026]}, headers=manager)
        seeded = (await http.get(f"{BASE}/cn", headers=manager)).json()

        await app.state.services.webhooks.dispatch()
        bodies = sorted(
            (Webhook(endpoint["secret"]).verify(r.body.decode(), r.headers) for r in receiver.received),
            key=lambda body: body["sequence"],
        )

    assert refused.status_code == 422
    assert [b["type"] for b in bodies] == ["business_calendar.created", "business_calendar.updated"]
    assert [b["data"] for b in bodies] == [
        {"key": "cn", "version": 1, "change": "created", "business_calendar": created},
        {"key": "cn", "version": 2, "change": "updated", "business_calendar": seeded},
    ]
