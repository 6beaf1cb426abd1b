"""Writes tests/golden/business_time_cases.json: business-time cases whose answers come from a brute-force oracle that
shares no code with app/domain/business_time.py. Run `.venv/bin/python tests/golden/make_business_time_cases.py`
after changing a calendar or the case mix; the golden test compares the engine with the file.

The oracle follows the rule the engine documents, literally and slowly:
- a wall-clock time t on date d begins at the first instant at which the zone's clocks show d t or later, found by
  walking UTC minutes forward from well before it (so a time in a spring-forward gap is the moment of the jump, a
  repeated time its first occurrence);
- a UTC minute is business time when it lies in one of those spans of its local date or of the dates beside it;
- a duration is spent, and elapsed time counted, one minute after another.
Every offset of these zones, every interval end and every clock change is a whole minute, so business time is
constant within each UTC minute and minute steps are exact; partial minutes at either end count their seconds.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from cn_2026 import CLOSED, WORKED  # run as a script: its own folder is on the path

OUT = Path(__file__).with_name("business_time_cases.json")
ABOUT = "Written by tests/golden/make_business_time_cases.py from a brute-force oracle: regenerate it, never edit it."
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
CN_DAY = [["09:00", "12:00"], ["13:30", "18:00"]]
NY_DAY = [["09:00", "17:00"]]
SPLIT_DAY = [["06:00", "10:00"], ["16:00", "20:00"]]
ALL_DAY = [["00:00", "24:00"]]


def _closed(day: str, name: str) -> dict:
    return {"date": day, "intervals": [], "name": name}


def _cn_2026_overrides() -> list[dict]:
    """国务院办公厅关于2026年部分节假日安排的通知, as published: weekday closures and the 调休 weekend working days
    (weekend days inside a break are listed too where the notice counts them, e.g. all nine days of 春节)."""
    closed = [_closed(day, name) for name, days in CLOSED.items() for day in days]
    opened = [{"date": day, "intervals": CN_DAY, "name": "调休上班"} for day in WORKED]
    return sorted(closed + opened, key=lambda override: override["date"])


CALENDARS: dict[str, dict] = {
    "cn_office": {
        "time_zone": "Asia/Shanghai",
        "weekly": dict.fromkeys(WEEKDAYS[:5], CN_DAY),
        "overrides": _cn_2026_overrides(),
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
    },
    "us_new_york": {
        "time_zone": "America/New_York",
        "weekly": dict.fromkeys(WEEKDAYS[:5], NY_DAY),
        "overrides": [_closed("2026-07-03", "Independence Day (observed)"), _closed("2026-11-26", "Thanksgiving")],
    },
    # Split weekday shifts, and a Saturday-night shift that runs on into Sunday across both 2026 clock changes
    # (Mar 29 02:00 → 03:00, Oct 25 03:00 → 02:00): its 02:30 falls in the gap, then in the repeated hour.
    "berlin_split_shift": {
        "time_zone": "Europe/Berlin",
        "weekly": {
            **dict.fromkeys(WEEKDAYS[:5], SPLIT_DAY),
            "saturday": [["22:00", "24:00"]],
            "sunday": [["00:00", "02:30"], ["03:30", "06:00"]],
        },
        "overrides": [],
    },
    "ny_24x7": {"time_zone": "America/New_York", "weekly": dict.fromkeys(WEEKDAYS, ALL_DAY), "overrides": []},
}

# Spot checks worked out by hand; the oracle must agree with every one before the file is written.
HAND_ADD = [
    # Fri 17:00 leaves 1 h; Saturday 02-14 is a 调休 working day: 09:00-10:00 +08:00 = 01:00-02:00Z.
    ("cn_office", "2026-02-13T17:00:00+08:00", 7200, "2026-02-14T02:00:00Z", "调休 Saturday 02-14 works"),
    # 1 h on Sat 02-14, then 春节 02-15..02-23 is closed: Tue 02-24 09:00-10:00 +08:00.
    ("cn_office", "2026-02-14T17:00:00+08:00", 7200, "2026-02-24T02:00:00Z", "Spring Festival closed 02-15..23"),
    # 11:30-12:00, lunch until 13:30, then 13:30-14:00 +08:00 = 06:00Z.
    ("cn_office", "2026-03-02T11:30:00+08:00", 3600, "2026-03-02T06:00:00Z", "lunch break is skipped"),
    # 17:30-18:00 Fri, then Saturday 02-28 (调休) 09:00-09:30 +08:00 = 01:30Z.
    ("cn_office", "2026-02-27T17:30:00+08:00", 3600, "2026-02-28T01:30:00Z", "调休 Saturday 02-28 works"),
    # Wed 17:00-18:00, 国庆 10-01..07 closed, Thu 10-08 09:00-12:00 and 13:30-17:30 +08:00 = 09:30Z.
    ("cn_office", "2026-09-30T17:00:00+08:00", 28800, "2026-10-08T09:30:00Z", "National Day week closed"),
    # Fri 16:00-17:00 EST, Mon 03-09 09:00-10:00 EDT (-04:00) = 14:00Z: the weekend lost an hour, the workday not.
    ("us_new_york", "2026-03-06T16:00:00-05:00", 7200, "2026-03-09T14:00:00Z", "across the March change"),
    # Fri 16:30-17:00 EDT, Mon 11-02 09:00-09:30 EST (-05:00) = 14:30Z.
    ("us_new_york", "2026-10-30T16:30:00-04:00", 3600, "2026-11-02T14:30:00Z", "across the November change"),
    # Thu 16:00-17:00 EDT, Fri 07-03 closed, Mon 07-06 09:00-10:00 EDT = 14:00Z.
    ("us_new_york", "2026-07-02T16:00:00-04:00", 7200, "2026-07-06T14:00:00Z", "observed holiday closed"),
    # Sat 22-24 CET (21-23Z, 2 h); Sun 00:00 CET (23Z) to 02:30, which the jump skips: 03:00 CEST = 01Z (2 h);
    # 03:30 CEST = 01:30Z, 1 h more: 02:30Z.
    ("berlin_split_shift", "2026-03-28T22:00:00+01:00", 18000, "2026-03-29T02:30:00Z", "end in the gap"),
    # Sat 22-24 CEST (20-22Z, 2 h); Sun 00:00 CEST (22Z) to the first 02:30 CEST (00:30Z, 2.5 h);
    # 03:30 CET = 02:30Z, half an hour more: 03:00Z.
    ("berlin_split_shift", "2026-10-24T22:00:00+02:00", 18000, "2026-10-25T03:00:00Z", "end in the repeat"),
    # 09:00 is between shifts: 09-10 (1 h), 16:00-18:00 CEST = 16:00Z.
    ("berlin_split_shift", "2026-05-12T09:00:00+02:00", 10800, "2026-05-12T16:00:00Z", "split shift"),
    # Calendar time: 24 h after midnight of the 23-hour day is 01:00 EDT the next day.
    ("ny_24x7", "2026-03-08T00:00:00-05:00", 86400, "2026-03-09T05:00:00Z", "calendar time is real time"),
    # Zero seconds is the start itself, closed or not.
    ("cn_office", "2026-02-15T10:00:00+08:00", 0, "2026-02-15T02:00:00Z", "zero seconds"),
]
HAND_ELAPSED = [
    # The fall-back day has 25 hours.
    ("ny_24x7", "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00", 90000, "25-hour day"),
    # Sunday 03-29: 00:00-02:30 becomes 23Z-01Z (2 h) and 03:30-06:00 stays 2.5 h.
    ("berlin_split_shift", "2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 16200, "gap day"),
    # Sunday 10-25: 22Z-00:30Z (2.5 h) and 03:30-06:00 CET (2.5 h).
    ("berlin_split_shift", "2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00", 18000, "repeat day"),
    # A whole Spring Festival week plus the 调休 Saturdays on either side: 02-14 (7.5 h), 02-24..27 (4 × 7.5 h),
    # 02-28 (7.5 h).
    ("cn_office", "2026-02-14T00:00:00+08:00", "2026-03-01T00:00:00+08:00", 6 * 27000, "Spring Festival fortnight"),
]


def _seconds(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 3600 + int(minutes) * 60


def _instant(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def _rfc3339_utc(instant: int) -> str:
    return datetime.fromtimestamp(instant, UTC).isoformat().replace("+00:00", "Z")


def _wall(zone: ZoneInfo, instant: int) -> datetime:
    return datetime.fromtimestamp(instant, zone).replace(tzinfo=None)


@cache
def _intervals(name: str, day: date) -> tuple[tuple[int, int], ...]:
    calendar = CALENDARS[name]
    by_date = {override["date"]: override["intervals"] for override in calendar["overrides"]}
    chosen = by_date.get(day.isoformat(), calendar["weekly"].get(WEEKDAYS[day.weekday()], []))
    return tuple((_seconds(start), _seconds(end)) for start, end in chosen)


@cache
def _first_showing(zone_key: str, local: datetime) -> int:
    """The first instant (whole minute) at which the clocks of the zone show `local` or later."""
    zone = ZoneInfo(zone_key)
    instant = int(local.replace(tzinfo=UTC).timestamp()) - 15 * 3600  # no zone is 15 h ahead: clocks show less
    while _wall(zone, instant) < local:
        instant += 60
    return instant


@cache
def _spans(name: str, day: date) -> tuple[tuple[int, int], ...]:
    zone_key = CALENDARS[name]["time_zone"]
    midnight = datetime(day.year, day.month, day.day)
    return tuple(
        (
            _first_showing(zone_key, midnight + timedelta(seconds=start)),
            _first_showing(zone_key, midnight + timedelta(seconds=end)),
        )
        for start, end in _intervals(name, day)
    )


@cache
def _business_minute(name: str, minute: int) -> bool:
    instant = minute * 60
    local_day = _wall(ZoneInfo(CALENDARS[name]["time_zone"]), instant).date()
    days = (local_day - timedelta(days=1), local_day, local_day + timedelta(days=1))
    return any(start <= instant < end for day in days for start, end in _spans(name, day))


def oracle_add(name: str, start: int, seconds: int) -> int:
    if seconds == 0:
        return start
    remaining, position = seconds, start
    while True:
        minute_end = (position // 60 + 1) * 60
        if _business_minute(name, position // 60):
            if remaining <= minute_end - position:
                return position + remaining
            remaining -= minute_end - position
        position = minute_end


def oracle_elapsed(name: str, start: int, end: int) -> int:
    total, position = 0, start
    while position < end:
        step_end = min((position // 60 + 1) * 60, end)
        if _business_minute(name, position // 60):
            total += step_end - position
        position = step_end
    return total


# Dates worth starting near, per calendar: clock changes, holidays and 调休 days, plus the year's ordinary days.
FOCUS = {
    "cn_office": ["2026-01-01", "2026-01-04", "2026-02-13", "2026-02-14", "2026-02-22", "2026-02-27", "2026-04-03",
                  "2026-04-30", "2026-05-09", "2026-06-18", "2026-09-20", "2026-09-30", "2026-10-09"],
    "us_new_york": ["2026-03-06", "2026-03-07", "2026-03-08", "2026-03-09", "2026-07-02", "2026-10-30",
                    "2026-10-31", "2026-11-01", "2026-11-02", "2026-11-25"],
    "berlin_split_shift": ["2026-03-27", "2026-03-28", "2026-03-29", "2026-10-23", "2026-10-24", "2026-10-25"],
    "ny_24x7": ["2026-03-07", "2026-03-08", "2026-10-31", "2026-11-01"],
}  # fmt: skip


def _random_start(rng: random.Random, name: str) -> int:
    zone = ZoneInfo(CALENDARS[name]["time_zone"])
    if rng.random() < 0.7:
        day = date.fromisoformat(rng.choice(FOCUS[name]))
    else:
        day = date(2026, 1, 5) + timedelta(days=rng.randrange(340))
    local = datetime(day.year, day.month, day.day) + timedelta(minutes=rng.randrange(0, 48 * 60, rng.choice((1, 30))))
    instant = int(local.replace(tzinfo=zone).timestamp())
    return instant + (rng.randrange(60) if rng.random() < 0.25 else 0)


def _random_seconds(rng: random.Random) -> int:
    kind = rng.random()
    if kind < 0.08:
        return 0
    if kind < 0.45:
        return rng.randrange(1, 6 * 3600)
    if kind < 0.7:
        return rng.randrange(1, 17) * 1800
    if kind < 0.95:
        return rng.randrange(8 * 3600, 60 * 3600)
    return rng.randrange(150, 400) * 3600


def _local_text(name: str, instant: int) -> str:
    return datetime.fromtimestamp(instant, ZoneInfo(CALENDARS[name]["time_zone"])).isoformat()


def _add_case(name: str, start: int, seconds: int, note: str | None = None) -> dict:
    due = oracle_add(name, start, seconds)
    back = oracle_elapsed(name, start, due)
    if back != seconds:
        raise SystemExit(f"oracle disagrees with itself: {name} {start} {seconds}")
    case = {"calendar": name, "start": _local_text(name, start), "seconds": seconds, "due": _rfc3339_utc(due)}
    return case | {"elapsed_back": back} | ({"note": note} if note else {})


def main() -> None:
    for name, start, seconds, due, note in HAND_ADD:
        if _rfc3339_utc(oracle_add(name, _instant(start), seconds)) != due:
            raise SystemExit(f"hand check failed: {note}")
    for name, start, end, elapsed, note in HAND_ELAPSED:
        if oracle_elapsed(name, _instant(start), _instant(end)) != elapsed:
            raise SystemExit(f"hand check failed: {note}")

    rng = random.Random(20260214)
    add_cases = [_add_case(name, _instant(start), seconds, note) for name, start, seconds, _, note in HAND_ADD]
    for name in CALENDARS:
        for _ in range(60):
            add_cases.append(_add_case(name, _random_start(rng, name), _random_seconds(rng)))
    elapsed_cases = [
        {"calendar": name, "start": start, "end": end, "elapsed": elapsed, "note": note}
        for name, start, end, elapsed, note in HAND_ELAPSED
    ]
    for name in CALENDARS:
        for _ in range(15):
            start = _random_start(rng, name)
            end = start + rng.randrange(-3 * 3600, 20 * 86400)
            elapsed = oracle_elapsed(name, start, end)
            elapsed_cases.append(
                {"calendar": name, "start": _local_text(name, start), "end": _local_text(name, end), "elapsed": elapsed}
            )

    lines = ["{", f'"about": {json.dumps(ABOUT)},', '"calendars": {']
    lines.append(
        ",\n".join(
            json.dumps(k, ensure_ascii=False) + ": " + json.dumps(v, ensure_ascii=False) for k, v in CALENDARS.items()
        )
    )
    lines += ["},", '"add_cases": [', ",\n".join(json.dumps(c, ensure_ascii=False) for c in add_cases), "],"]
    lines += ['"elapsed_cases": [', ",\n".join(json.dumps(c, ensure_ascii=False) for c in elapsed_cases), "]", "}"]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{OUT.name}: {len(add_cases)} add cases, {len(elapsed_cases)} elapsed cases")


if __name__ == "__main__":
    main()
