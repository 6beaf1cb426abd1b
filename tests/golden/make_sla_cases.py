"""Writes tests/golden/sla_service_cases.json: whole-service SLA cases (a ticket under a business calendar and a
policy, the steps taken on it, the `sla` block staff read at an instant) whose answers come from a deliberately naive
oracle that shares no code with app/. Run `.venv/bin/python tests/golden/make_sla_cases.py` after changing a
calendar, a policy or the case mix; tests/api/test_sla_golden.py plays every case over HTTP and compares.

Time, as make_business_time_cases.py counts it: a wall-clock time t on date d begins at the first UTC minute at which
the zone's clocks show d t or later, found by walking minutes; a UTC minute is working time when it lies in a working
interval of its local date or of a date beside it; time is counted, and a deadline found, one minute after another
(partial minutes by their seconds). Calendar time (自然时间) counts every second. Every offset, interval end and clock
change here is a whole minute, so the minute steps are exact.

Clocks, as the service documents them (app/domain/sla.py, sla_policies.py, sla_clock.py):
- first_reply and resolution start when the ticket is created; `state:<s>` runs for each visit to a non-final status;
- a public staff reply (a public comment, request_info, resolve) fulfils first_reply, next_reply and periodic_update,
  and starts periodic_update again while the ticket is worked (neither resolved nor final);
- a customer message (customer_reply, urge, a public comment by the customer or by an integration relaying them)
  starts next_reply, unless first_reply is still owed or the ticket is final;
- entering pending_follow_up or completed fulfils resolution and cancels periodic_update; going back to work from a
  resolved or final status starts a new resolution cycle with the whole target (and first_reply again when it was
  cancelled unanswered); entering a final status cancels every clock still running;
- a clock stands still in the statuses its policy names (by default resolution and periodic_update while
  waiting_on_customer), as of each change;
- the target is the matched policy's for the ticket's priority, read afresh at each change that touches the clocks
  (an action, a public comment, a priority edit, which also matches the policies again) and applied to the whole open
  cycle from its start: time spent stays spent. An internal note or an edit of a field no policy matches on is
  neither a reply nor a re-match. Whether it re-reads an edited policy is a rule the service is changing, so no case
  takes one while a policy edit waits for the ticket's next change (the oracle refuses such a case).
At the read: consumed = the counted time of the cycle's running spans; the deadline = where consumed reaches the
target (due_at while running); breached = consumed ≥ target while open, or ended after the deadline; failed_by =
consumed − target once breached; warn_at = where consumed reaches the warning point, once reached or while running.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cn_2026 import CLOSED, WORKED  # run as a script: its own folder is on the path

OUT = Path(__file__).with_name("sla_service_cases.json")
ABOUT = (
    "Written by tests/golden/make_sla_cases.py from a naive minute-stepping oracle; the cases with `why` were also "
    "worked out by hand. Regenerate it, never edit it."
)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
HOUR, DAY = 3600, 86_400
SHANGHAI, NEW_YORK = "Asia/Shanghai", "America/New_York"
FINAL = frozenset({"completed", "closed", "cancelled"})
RESOLVED = frozenset({"pending_follow_up", "completed"})
WORKING = ("assigned", "in_progress", "waiting_on_customer")
OPEN = ("new", *WORKING, "pending_follow_up")
CUSTOMER_SIDE = frozenset({"customer", "bot"})


def _hours(*ranges: str) -> list[dict[str, str]]:
    return [dict(zip(("start", "end"), text.split("-"), strict=True)) for text in ranges]


def _closed(day: str, name: str) -> dict[str, Any]:
    return {"date": day, "intervals": [], "name": name}


CN_DAY = _hours("09:00-12:00", "13:30-18:00")  # 7.5 h, lunch 12:00-13:30
US_DAY = _hours("09:00-12:00", "13:00-17:00")  # 7 h, lunch 12:00-13:00
NIGHT = _hours("00:00-04:00", "20:00-24:00")  # a night line across midnight, and across 02:00 when clocks change
SPLIT = _hours("07:00-11:00", "17:00-21:00")  # two shifts, 8 h


def _cn_2026() -> list[dict[str, Any]]:
    """国务院办公厅关于2026年部分节假日安排的通知: the closed days and the 调休 weekend working days."""
    closed = [_closed(day, name) for name, days in CLOSED.items() for day in days]
    opened = [{"date": day, "intervals": CN_DAY, "name": "调休上班"} for day in WORKED]
    return sorted(closed + opened, key=lambda override: override["date"])


CALENDARS: dict[str, dict[str, Any]] = {
    "cn-office": {
        "name": "上海客服中心",
        "time_zone": SHANGHAI,
        "weekly": dict.fromkeys(WEEKDAYS[:5], CN_DAY),
        "overrides": _cn_2026(),
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
    },
    "us-ny": {
        "name": "New York service desk",
        "time_zone": NEW_YORK,
        "weekly": dict.fromkeys(WEEKDAYS[:5], US_DAY),
        "overrides": [
            _closed("2026-05-25", "Memorial Day"),
            _closed("2026-07-03", "Independence Day (observed)"),
            _closed("2026-09-07", "Labor Day"),
            _closed("2026-11-26", "Thanksgiving"),
        ],
    },
    "ny-overnight": {"name": "New York night line", "time_zone": NEW_YORK, "weekly": dict.fromkeys(WEEKDAYS, NIGHT)},
    "cn-split": {
        "name": "深圳两班倒",
        "time_zone": SHANGHAI,
        "weekly": dict.fromkeys(WEEKDAYS[:6], SPLIT),
        "overrides": [_closed(f"2026-02-{day}", "春节") for day in (16, 17, 18)],
    },
}


def _business(hours: float, calendar: str) -> dict[str, Any]:
    return {"seconds": int(hours * HOUR), "business": True, "calendar": calendar}


def _calendar_time(hours: float) -> dict[str, Any]:
    return {"seconds": int(hours * HOUR), "business": False}


def _on(calendar: str) -> Callable[[float], dict[str, Any]]:
    return lambda hours: _business(hours, calendar)


cn, us, night, split = _on("cn-office"), _on("us-ny"), _on("ny-overnight"), _on("cn-split")
clock_time = _calendar_time

# Policy templates: each plan's policies are created for it with a condition on the ticket's category besides their
# own, so that the plans never see each other's tickets.
POLICIES: dict[str, dict[str, Any]] = {
    "cn-std": {
        "targets": {
            "first_reply": {"low": cn(4), "normal": cn(2), "high": cn(1)},
            "resolution": {"low": cn(24), "normal": cn(16), "high": cn(8)},
        },
        "warning": None,
    },
    "cn-urgent": {
        "conditions": {"priority": ["urgent"]},
        "targets": {"first_reply": {"urgent": cn(0.5)}, "resolution": {"urgent": clock_time(4)}},
        "warning": {"minutes": 10},
    },
    "cn-full": {
        "targets": {
            "first_reply": {"normal": cn(2)},
            "next_reply": {"normal": cn(3)},
            "periodic_update": {"normal": cn(6)},
            "resolution": {"normal": cn(24)},
            "state:new": {"normal": cn(1)},
            "state:waiting_on_customer": {"normal": clock_time(48)},
        },
        "warning": {"share": 0.75},
    },
    "cn-nopause": {
        "targets": {
            "first_reply": {"normal": cn(2), "high": cn(1)},
            "periodic_update": {"normal": cn(4), "high": cn(2)},
            "resolution": {"normal": cn(16), "high": cn(8)},
        },
        "pauses": {"resolution": []},
        "warning": None,
    },
    "cn-workonly": {
        "targets": {
            "first_reply": {"normal": cn(2)},
            "resolution": {"normal": cn(8)},
            "state:in_progress": {"normal": cn(6)},
        },
        "pauses": {"resolution": ["new", "assigned", "waiting_on_customer"]},
        "warning": {"share": 0.5},
    },
    "cn-calendar": {
        "targets": {
            "first_reply": {"normal": clock_time(4), "high": clock_time(2)},
            "periodic_update": {"normal": clock_time(24)},
            "resolution": {"normal": clock_time(48), "high": clock_time(24)},
        },
        "warning": {"minutes": 60},
    },
    "cn-fast": {
        "targets": {
            "first_reply": {"normal": cn(1), "high": cn(0.5)},
            "next_reply": {"normal": cn(1)},
            "resolution": {"normal": cn(8), "high": cn(4)},
        },
        "warning": None,
    },
    "cn-slow": {
        "targets": {"first_reply": {"normal": cn(4), "high": cn(2)}, "resolution": {"normal": cn(40), "high": cn(16)}},
        "warning": {"share": 0.5},
    },
    "us-std": {
        "targets": {
            "first_reply": {"low": us(8), "normal": us(4), "high": us(2)},
            "next_reply": {"normal": us(4), "high": us(2)},
            "resolution": {"low": us(40), "normal": us(24), "high": us(16)},
        },
        "warning": {"minutes": 30},
    },
    "us-urgent": {
        "conditions": {"priority": ["urgent"]},
        "targets": {"first_reply": {"urgent": clock_time(1)}, "resolution": {"urgent": us(8)}},
        "warning": None,
    },
    "us-fast": {
        "targets": {
            "first_reply": {"normal": us(2), "high": us(1)},
            "next_reply": {"normal": us(2)},
            "resolution": {"normal": us(8), "high": us(4)},
        },
        "warning": {"minutes": 30},
    },
    "night-std": {
        "targets": {
            "first_reply": {"normal": night(2), "high": night(1)},
            "periodic_update": {"normal": night(3)},
            "resolution": {"normal": night(10), "high": night(6)},
        },
        "warning": {"share": 0.5},
    },
    "night-fast": {
        "targets": {"first_reply": {"normal": night(1)}, "resolution": {"normal": night(5)}},
        "warning": None,
    },
    "split-std": {
        "targets": {
            "first_reply": {"normal": split(3)},
            "next_reply": {"normal": split(2)},
            "resolution": {"normal": split(12)},
            "state:in_progress": {"normal": split(8)},
        },
        "warning": None,
    },
    "split-fast": {
        "targets": {
            "first_reply": {"normal": split(1)},
            "next_reply": {"normal": split(1)},
            "resolution": {"normal": split(6)},
        },
        "warning": {"minutes": 15},
    },
    "global": {
        "targets": {
            "first_reply": {"normal": us(2), "high": us(1)},
            "resolution": {"normal": cn(16), "high": cn(8)},
        },
        "warning": None,
    },
}

PLANS: dict[str, list[str]] = {
    "cn-std": ["cn-std"],
    "cn-tiered": ["cn-urgent", "cn-std"],
    "cn-full": ["cn-full"],
    "cn-nopause": ["cn-nopause"],
    "cn-workonly": ["cn-workonly"],
    "cn-calendar": ["cn-calendar"],
    "us-std": ["us-std"],
    "us-tiered": ["us-urgent", "us-std"],
    "night-std": ["night-std"],
    "split-std": ["split-std"],
    "global": ["global"],
}
"""The policies a ticket is matched against, in the order they are tried."""
EDITS = {
    "cn-std": ["cn-fast", "cn-slow", "cn-nopause", "cn-calendar"],
    "cn-full": ["cn-fast"],
    "us-std": ["us-fast"],
    "night-std": ["night-fast"],
    "split-std": ["split-fast"],
}
"""What a single-policy plan's policy may be edited into mid-flight (targets, pauses and warning replaced)."""
HOME = dict.fromkeys(PLANS, SHANGHAI) | {"us-std": NEW_YORK, "us-tiered": NEW_YORK, "night-std": NEW_YORK}
PRIORITIES = {
    "cn-std": ["low", "normal", "high"],
    "cn-tiered": ["normal", "high", "urgent"],
    "cn-nopause": ["normal", "high"],
    "cn-calendar": ["normal", "high"],
    "us-std": ["low", "normal", "high"],
    "us-tiered": ["normal", "high", "urgent"],
    "night-std": ["normal", "high"],
    "global": ["normal", "high"],
}
"""The priorities each plan measures from creation (the rest measure `normal` only)."""


# The time oracle


def _instant(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def _utc(instant: int | None) -> str | None:
    return None if instant is None else datetime.fromtimestamp(instant, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _local(instant: int, zone_key: str) -> str:
    return datetime.fromtimestamp(instant, ZoneInfo(zone_key)).isoformat()


def _wall(zone: ZoneInfo, instant: int) -> datetime:
    return datetime.fromtimestamp(instant, zone).replace(tzinfo=None)


@cache
def _first_showing(zone_key: str, local: datetime) -> int:
    """The first UTC minute at which the zone's clocks show `local` or later."""
    zone = ZoneInfo(zone_key)
    instant = int(local.replace(tzinfo=UTC).timestamp()) - 15 * HOUR  # no zone here is 15 h ahead: clocks show less
    while _wall(zone, instant) < local:
        instant += 60
    return instant


def _clock_seconds(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * HOUR + int(minutes) * 60


@cache
def _working_spans(calendar: str, day: date) -> tuple[tuple[int, int], ...]:
    spec = CALENDARS[calendar]
    dated = {override["date"]: override["intervals"] for override in spec.get("overrides", [])}
    intervals = dated.get(day.isoformat(), spec["weekly"].get(WEEKDAYS[day.weekday()], []))
    midnight = datetime(day.year, day.month, day.day)
    showing = [
        (
            midnight + timedelta(seconds=_clock_seconds(i["start"])),
            midnight + timedelta(seconds=_clock_seconds(i["end"])),
        )
        for i in intervals
    ]
    return tuple((_first_showing(spec["time_zone"], a), _first_showing(spec["time_zone"], b)) for a, b in showing)


@cache
def _working_minute(calendar: str, minute: int) -> bool:
    instant = minute * 60
    local_day = _wall(ZoneInfo(CALENDARS[calendar]["time_zone"]), instant).date()
    days = (local_day - timedelta(days=1), local_day, local_day + timedelta(days=1))
    return any(start <= instant < end for day in days for start, end in _working_spans(calendar, day))


def _counts(calendar: str | None, instant: int) -> bool:
    return calendar is None or _working_minute(calendar, instant // 60)


def counted(calendar: str | None, start: int, end: int) -> int:
    """The seconds of [start, end) the calendar counts (None: calendar time, every second)."""
    total, at = 0, start
    while at < end:
        step = min((at // 60 + 1) * 60, end)
        if _counts(calendar, at):
            total += step - at
        at = step
    return total


def reach(calendar: str | None, runs: list[list[int | None]], amount: int) -> int | None:
    """The instant at which the runs, in order, have counted `amount`, a run still going (end None) going on for ever;
    None when the finished runs fall short."""
    if amount <= 0:
        raise ValueError("the oracle reaches positive amounts only")
    left = amount
    for start, end in runs:
        assert start is not None
        at = start
        while end is None or at < end:
            step = (at // 60 + 1) * 60 if end is None else min((at // 60 + 1) * 60, end)
            if _counts(calendar, at):
                if left <= step - at:
                    return at + left
                left -= step - at
            at = step
    return None


# The ticket oracle


@dataclass
class Cycle:
    runs: list[list[int | None]]  # [start, end]; end None while running
    target: dict[str, Any] | None
    warning: dict[str, Any] | None
    ended: str | None = None  # fulfilled / cancelled
    ended_at: int | None = None


@dataclass
class Clock:
    cycles: list[Cycle] = field(default_factory=list)
    in_force: tuple[Any, Any, Any] = (None, None, None)  # target, warning, policy: as last applied to the metric

    @property
    def active(self) -> bool:
        return bool(self.cycles) and self.cycles[-1].ended is None


DEFAULT_PAUSES = {"resolution": {"waiting_on_customer"}, "periodic_update": {"waiting_on_customer"}}


class Ticket:
    """One ticket as the oracle sees it: its status, and every metric's cycles with their running spans."""

    def __init__(self, policies: list[dict[str, Any]], priority: str, at: int) -> None:
        self.policies = policies  # {"name", "conditions", "targets", "pauses", "warning"}, mutable by edits
        self.status, self.priority = "new", priority
        self.assignee: str | None = None
        self.finished_at: int | None = None
        self.last_urged_at: int | None = None
        self.escalation = 0
        self.urges = 0
        self.clocks: dict[str, Clock] = {}
        self.policy: str | None = None  # the policy last applied to a metric
        self.edit_waiting = False  # a policy was edited since the last change that read it
        self._change(at, created=True)

    # what each step does

    def apply(self, step: dict[str, Any], at: int) -> None:
        do, by = step["do"], step.get("by")
        if self.edit_waiting and (do == "note" or (do == "patch" and "priority" not in step)):
            raise ValueError(f"{do} while a policy edit waits: whether it re-targets the clocks is not settled")
        if do == "note":
            return
        if do == "edit_policy":
            policy = self._named(step["policy"])
            source = POLICIES[step["to"]]
            policy.update(targets=source["targets"], pauses=source.get("pauses", {}), warning=source.get("warning"))
            self.edit_waiting = True
            return
        if do == "patch":
            if self.status in FINAL:
                raise ValueError("a finished ticket cannot be edited")
            if "priority" in step and step["priority"] != self.priority:
                self.priority = step["priority"]
                self._change(at, rematch=True)
            return
        if do == "reply":
            self._change(at, agent_replied=True)
            return
        if do == "customer_comment":
            self._change(at, customer_messaged=True)
            return
        before = self.status
        self.status = self._moved(do, step, at)
        self._change(
            at,
            moved_from=before if self.status != before else None,
            agent_replied=by not in CUSTOMER_SIDE and do in ("request_info", "resolve"),
            customer_messaged=do in ("customer_reply", "urge"),
        )

    def _moved(self, do: str, step: dict[str, Any], at: int) -> str:
        """The status after a workflow action, refusing what the workflow refuses."""
        status = self.status
        allowed = {
            "claim": ("new",),
            "assign": ("new", "assigned"),
            "start": ("assigned",),
            "request_info": ("in_progress",),
            "customer_reply": ("waiting_on_customer",),
            "resolve": ("in_progress",),
            "follow_up": ("pending_follow_up",),
            "complete": ("pending_follow_up",),
            "close": (*OPEN, "completed"),
            "reopen": ("completed", "closed"),
            "cancel": ("new", "assigned"),
            "transfer": WORKING,
            "escalate": OPEN,
            "urge": ("new", *WORKING),
        }[do]
        if status not in allowed:
            raise ValueError(f"{do} is not possible in {status}")
        if do in ("claim", "assign", "transfer"):
            self.assignee = {"claim": step["by"], "assign": "agent-1", "transfer": "agent-2"}[do]
        if do == "urge":
            if self.last_urged_at is not None and at - self.last_urged_at < 600:
                raise ValueError("urged again within ten minutes")
            self.last_urged_at, self.urges = at, self.urges + 1
            self.escalation += self.urges % 3 == 0
        if do == "escalate":
            if self.escalation >= 3:
                raise ValueError("already at the highest escalation level")
            self.escalation += 1
        if do == "reopen" and (self.finished_at is None or at - self.finished_at > 7 * DAY):
            raise ValueError("reopened after the seven days' window")
        dest = {
            "claim": "assigned",
            "assign": "assigned",
            "start": "in_progress",
            "request_info": "waiting_on_customer",
            "customer_reply": "in_progress",
            "resolve": "pending_follow_up",
            "follow_up": "in_progress" if step.get("outcome") == "unsatisfied" else "completed",
            "complete": "completed",
            "close": "closed",
            "reopen": "assigned" if self.assignee else "new",
            "cancel": "cancelled",
            "transfer": "assigned",
        }.get(do, status)
        if dest in FINAL and status not in FINAL:
            self.finished_at = at
        if do == "reopen":
            self.finished_at = None
        return dest

    # the clocks

    def _named(self, name: str) -> dict[str, Any]:
        return next(policy for policy in self.policies if policy["name"] == name)

    def _match(self) -> dict[str, Any]:
        for policy in self.policies:
            wanted = policy.get("conditions", {}).get("priority")
            if wanted is None or self.priority in wanted:
                return policy
        raise ValueError("a plan ends with a policy that has no condition but the category")

    def _change(
        self,
        at: int,
        *,
        created: bool = False,
        moved_from: str | None = None,
        agent_replied: bool = False,
        customer_messaged: bool = False,
        rematch: bool = False,
    ) -> None:
        policy = self._match() if created or rematch or self.policy is None else self._named(self.policy)
        self.edit_waiting = False
        for metric in [m for m, clock in self.clocks.items() if clock.active]:
            self._retarget(metric, policy)
        status = self.status
        if created:
            for metric in ("first_reply", "resolution", f"state:{status}"):
                self._start(metric, policy, at)
        elif moved_from is not None:
            self._end(f"state:{moved_from}", "fulfilled", at)
            if status in RESOLVED:
                self._end("resolution", "fulfilled", at)
                self._end("periodic_update", "cancelled", at)
            elif status not in FINAL and (moved_from in RESOLVED or moved_from in FINAL):
                self._start("resolution", policy, at)
                first = self.clocks.get("first_reply")
                never_answered = first is not None and all(c.ended != "fulfilled" for c in first.cycles)
                if first is not None and first.cycles[-1].ended == "cancelled" and never_answered:
                    self._start("first_reply", policy, at)
            if status in FINAL:
                for metric in list(self.clocks):
                    self._end(metric, "cancelled", at)
            else:
                self._start(f"state:{status}", policy, at)
        if agent_replied:
            for metric in ("first_reply", "next_reply", "periodic_update"):
                self._end(metric, "fulfilled", at)
            if status not in FINAL and status not in RESOLVED:
                self._start("periodic_update", policy, at)
        first_owed = "first_reply" in self.clocks and self.clocks["first_reply"].active
        if customer_messaged and status not in FINAL and not first_owed:
            self._start("next_reply", policy, at)
        for metric, clock in self.clocks.items():
            if not clock.active:
                continue
            pauses = policy.get("pauses", {})
            stops = status in (pauses[metric] if metric in pauses else DEFAULT_PAUSES.get(metric, ()))
            last = clock.cycles[-1].runs[-1]
            if stops and last[1] is None:
                last[1] = at
            elif not stops and last[1] is not None:
                clock.cycles[-1].runs.append([at, None])

    def _retarget(self, metric: str, policy: dict[str, Any]) -> None:
        clock = self.clocks.setdefault(metric, Clock())
        target = policy["targets"].get(metric, {}).get(self.priority)
        wanted = (target, policy.get("warning"), policy["name"])
        if target is None and clock.in_force[0] is None:
            return
        if wanted != clock.in_force:
            clock.in_force = wanted
            self.policy = policy["name"]
        if clock.active:
            clock.cycles[-1].target, clock.cycles[-1].warning = clock.in_force[0], clock.in_force[1]

    def _start(self, metric: str, policy: dict[str, Any], at: int) -> None:
        clock = self.clocks.setdefault(metric, Clock())
        if clock.active:
            return
        self._retarget(metric, policy)
        clock.cycles.append(Cycle([[at, None]], clock.in_force[0], clock.in_force[1]))

    def _end(self, metric: str, how: str, at: int) -> None:
        clock = self.clocks.get(metric)
        if clock is None or not clock.active:
            return
        cycle = clock.cycles[-1]
        if cycle.runs[-1][1] is None:
            cycle.runs[-1][1] = at
        cycle.ended, cycle.ended_at = how, at

    # the read

    def sla(self, as_of: int) -> dict[str, Any]:
        """The `sla` block staff read at `as_of`: the policy, each shown metric, and the customer's promise (left out
        when two readings of where it is told disagree)."""
        shown: dict[str, dict[str, Any]] = {}
        for metric, clock in self.clocks.items():
            cycle = clock.cycles[-1] if clock.cycles else None
            if cycle is None or cycle.target is None or cycle.ended == "cancelled":
                continue
            shown[metric] = _metric(cycle, as_of)
        block: dict[str, Any] = {
            "policy": self.policy,
            "none_reason": None if self.policy else "no policy matches",
            "metrics": dict(sorted(shown.items())),
        }
        settled, promise = _promise(shown, as_of)
        if settled:
            block["promise"] = promise
        return block


PROMISES = {"next_reply": "预计 {when} 前回复", "first_reply": "预计 {when} 前回复", "resolution": "预计 {when} 前解决"}
"""What the customer is promised, an answer first; in the order the service chooses."""


def _promise(shown: dict[str, dict[str, Any]], as_of: int) -> tuple[bool, str | None]:
    """The first promise of a clock running on time: its deadline rounded up to the minute, told in its calendar's
    zone (Shanghai for calendar time). Unsettled (False) when the first running business clock is on a calendar of
    another zone, as the promise might be told in either."""
    running = [metric for metric in PROMISES if metric in shown and shown[metric]["due_at"] is not None]
    promised = next((metric for metric in running if not shown[metric]["breached"]), None)
    if promised is None:
        return True, None
    first_with_calendar = next((shown[m]["calendar"] for m in running if shown[m]["calendar"]), None)
    zones = {CALENDARS[c]["time_zone"] if c else SHANGHAI for c in (shown[promised]["calendar"], first_with_calendar)}
    if len(zones) > 1:
        return False, None
    zone = ZoneInfo(zones.pop())
    due = datetime.fromisoformat(shown[promised]["due_at"]).astimezone(zone)
    if due.second:
        due = due.replace(second=0) + timedelta(minutes=1)
    year = f"{due.year}年" if due.year != datetime.fromtimestamp(as_of, zone).year else ""
    return True, PROMISES[promised].format(when=f"{year}{due.month}月{due.day}日 {due:%H:%M}")


def _warning_point(warning: dict[str, Any], target: int) -> int:
    if warning.get("share") is not None:
        point = Fraction(str(warning["share"])) * target
        if point.denominator != 1:
            raise ValueError(f"choose a share that makes a whole second of {target}")
        whole = int(point)
    else:
        whole = target - warning["minutes"] * 60
    if not 0 < whole < target:
        raise ValueError("the warning point must lie inside the target")
    return whole


def _metric(cycle: Cycle, as_of: int) -> dict[str, Any]:
    target = cycle.target
    assert target is not None
    calendar = target["calendar"] if target["business"] else None
    seconds = target["seconds"]
    consumed = sum(counted(calendar, start, as_of if end is None else end) for start, end in cycle.runs)  # type: ignore[arg-type]
    deadline = reach(calendar, cycle.runs, seconds)
    running = cycle.ended is None and cycle.runs[-1][1] is None
    if cycle.ended is None:
        breached = consumed >= seconds
    else:
        breached = deadline is not None and cycle.ended_at is not None and cycle.ended_at > deadline
    warn_at = None
    if cycle.warning is not None:
        point = _warning_point(cycle.warning, seconds)
        if consumed >= point or running:
            warn_at = reach(calendar, cycle.runs, point)
    return {
        "target_seconds": seconds,
        "business": target["business"],
        "calendar": calendar,
        "due_at": _utc(deadline) if running else None,
        "remaining_seconds": seconds - consumed,
        "paused": cycle.ended is None and not running,
        "breached": breached,
        "breached_at": _utc(deadline) if breached else None,
        "failed_by": consumed - seconds if breached and consumed > seconds else 0,
        "fulfilled_at": _utc(cycle.ended_at) if cycle.ended == "fulfilled" else None,
        "warn_at": _utc(warn_at),
    }


# Cases worked out by hand: the oracle must agree with every value given here before the file is written.
HAND: list[dict[str, Any]] = [
    {
        "id": "h01-tiaoxiu-saturday",
        "plan": "cn-std",
        "created_at": "2026-02-13T17:00:00+08:00",
        "steps": [],
        "read_at": "2026-02-13T17:30:00+08:00",
        "hand": {
            "first_reply": {"due_at": "2026-02-14T02:00:00Z", "remaining_seconds": 5400, "breached": False},
            "resolution": {"due_at": "2026-02-24T10:00:00Z", "remaining_seconds": 55800},
            "promise": "预计 2月14日 10:00 前回复",
        },
        "why": "cn-std normal: first_reply 2 h, resolution 16 h on cn-office (09:00-12:00, 13:30-18:00: 7.5 h a day). "
        "Created Fri 02-13 17:00 +08. first_reply: Fri 17:00-18:00 = 1 h; Sat 02-14 is a 调休 working day, "
        "09:00-10:00 = 1 h → 10:00 +08 = 02:00Z. resolution: Fri 1 h + Sat 7.5 h = 8.5 h; 春节 closes 02-15..23; "
        "Tue 02-24 7.5 h → 16 h at 18:00 +08 = 10:00Z. Read at 17:30: 1 800 s spent, 5 400 and 55 800 left.",
    },
    {
        "id": "h02-spring-festival",
        "plan": "cn-std",
        "created_at": "2026-02-14T16:00:00+08:00",
        "steps": [{"at": "2026-02-14T17:30:00+08:00", "do": "reply"}],
        "read_at": "2026-02-20T10:00:00+08:00",
        "hand": {
            "first_reply": {"fulfilled_at": "2026-02-14T09:30:00Z", "remaining_seconds": 1800, "due_at": None},
            "resolution": {"due_at": "2026-02-25T09:00:00Z", "remaining_seconds": 50400, "paused": False},
            "promise": "预计 2月25日 17:00 前解决",
        },
        "why": "Created on the 调休 Saturday 02-14 at 16:00 +08, answered at 17:30: first_reply spent 1.5 h of 2 h. "
        "resolution (16 h): Sat 16:00-18:00 = 2 h; 02-15..23 closed; Tue 02-24 7.5 h (9.5 h); Wed 02-25 09:00-12:00 "
        "(12.5 h), 13:30-17:00 (16 h) → 17:00 +08 = 09:00Z. Read on Fri 02-20 inside the holiday: only the 2 h of "
        "Saturday are spent, 57 600 − 7 200 = 50 400 left.",
    },
    {
        "id": "h03-lunch-break",
        "plan": "cn-std",
        "priority": "high",
        "created_at": "2026-03-02T11:30:00+08:00",
        "steps": [],
        "read_at": "2026-03-02T12:45:00+08:00",
        "hand": {
            "first_reply": {"due_at": "2026-03-02T06:00:00Z", "remaining_seconds": 1800},
            "resolution": {"due_at": "2026-03-03T04:00:00Z", "remaining_seconds": 27000},
        },
        "why": "cn-std high: first_reply 1 h, resolution 8 h. Mon 03-02 11:30-12:00 = 30 min, lunch to 13:30, "
        "13:30-14:00 → 14:00 +08 = 06:00Z. resolution: Mon 0.5 + 4.5 h = 5 h, Tue 09:00-12:00 → 12:00 +08 = 04:00Z. "
        "At 12:45 only 11:30-12:00 counts: 1 800 s spent.",
    },
    {
        "id": "h04-pause-over-national-day",
        "plan": "cn-std",
        "created_at": "2026-09-30T09:00:00+08:00",
        "steps": [
            {"at": "2026-09-30T09:05:00+08:00", "do": "assign"},
            {"at": "2026-09-30T09:10:00+08:00", "do": "start"},
            {"at": "2026-09-30T10:00:00+08:00", "do": "request_info"},
            {"at": "2026-10-08T11:00:00+08:00", "do": "customer_reply"},
        ],
        "read_at": "2026-10-08T14:00:00+08:00",
        "hand": {
            "first_reply": {"fulfilled_at": "2026-09-30T02:00:00Z", "remaining_seconds": 3600},
            "resolution": {"due_at": "2026-10-10T03:00:00Z", "remaining_seconds": 48600, "paused": False},
            "promise": "预计 10月10日 11:00 前解决",
        },
        "why": "request_info at Wed 09-30 10:00 is the first public reply (1 h of 2 h) and pauses resolution after "
        "1 h. The customer answers Thu 10-08 11:00 after 国庆 (10-01..07): 11:00-12:00 + 13:30-14:00 = 1.5 h, so 2.5 h "
        "spent and 13.5 h left. Thu 14:00-18:00 (4 h, 9.5 h left), Fri 10-09 7.5 h (2 h left), Sat 10-10 is 调休: "
        "09:00-11:00 → 11:00 +08 = 03:00Z.",
    },
    {
        "id": "h05-new-york-march-change",
        "plan": "us-std",
        "created_at": "2026-03-06T16:00:00-05:00",
        "steps": [],
        "read_at": "2026-03-06T16:30:00-05:00",
        "hand": {
            "first_reply": {
                "due_at": "2026-03-09T16:00:00Z",
                "warn_at": "2026-03-09T15:30:00Z",
                "remaining_seconds": 12600,
            },
            "resolution": {
                "due_at": "2026-03-12T15:00:00Z",
                "warn_at": "2026-03-12T14:30:00Z",
                "remaining_seconds": 84600,
            },
            "promise": "预计 3月9日 12:00 前回复",
        },
        "why": "us-std normal on us-ny (09:00-12:00, 13:00-17:00: 7 h): first_reply 4 h, resolution 24 h, warned 30 "
        "min before. Fri 03-06 16:00 EST: 1 h; clocks go forward Sun 03-08; Mon 03-09 09:00-12:00 EDT (3 h) → 12:00 "
        "-04:00 = 16:00Z, warning at 11:30 EDT = 15:30Z. resolution: 1 + 7 + 7 + 7 = 22 h by Wed, Thu 03-12 "
        "09:00-11:00 EDT → 15:00Z, warning 10:30 EDT = 14:30Z. The promise is told in New York time.",
    },
    {
        "id": "h06-new-york-november-change",
        "plan": "us-std",
        "created_at": "2026-10-30T15:30:00-04:00",
        "steps": [],
        "read_at": "2026-10-30T16:00:00-04:00",
        "hand": {
            "first_reply": {
                "due_at": "2026-11-02T16:30:00Z",
                "warn_at": "2026-11-02T16:00:00Z",
                "remaining_seconds": 12600,
            },
            "resolution": {"due_at": "2026-11-05T15:30:00Z", "warn_at": "2026-11-05T15:00:00Z"},
            "promise": "预计 11月2日 11:30 前回复",
        },
        "why": "Fri 10-30 15:30-17:00 EDT = 1.5 h; clocks go back Sun 11-01; Mon 11-02 09:00-11:30 EST (2.5 h) → "
        "11:30 -05:00 = 16:30Z, warning 11:00 EST = 16:00Z. resolution: 1.5 + 7 + 7 + 7 = 22.5 h by Wed, Thu 11-05 "
        "09:00-10:30 EST → 15:30Z, warning at 23.5 h = 10:00 EST = 15:00Z.",
    },
    {
        "id": "h07-night-line-spring-forward",
        "plan": "night-std",
        "created_at": "2026-03-07T23:00:00-05:00",
        "steps": [],
        "read_at": "2026-03-08T00:30:00-05:00",
        "hand": {
            "first_reply": {
                "due_at": "2026-03-08T06:00:00Z",
                "warn_at": "2026-03-08T05:00:00Z",
                "remaining_seconds": 1800,
            },
            "resolution": {
                "due_at": "2026-03-09T06:00:00Z",
                "warn_at": "2026-03-09T01:00:00Z",
                "remaining_seconds": 30600,
            },
            "promise": "预计 3月8日 01:00 前回复",
        },
        "why": "ny-overnight works 00:00-04:00 and 20:00-24:00 daily; night-std normal: first_reply 2 h, resolution "
        "10 h, warned at half. Sat 03-07 23:00-24:00 EST (04:00-05:00Z) 1 h, Sun 00:00-01:00 EST → 06:00Z; half (1 h) "
        "at 05:00Z. resolution: Sun 00:00 EST (05:00Z) to 04:00 EDT (08:00Z) is only 3 h (02:00-03:00 never happens): "
        "4 h; Sun 20:00-24:00 EDT (03-09 00:00-04:00Z) 8 h; Mon 00:00-02:00 EDT → 06:00Z; half (5 h) at Sun 21:00 "
        "EDT = 01:00Z. At 00:30 EST 1.5 h are spent.",
    },
    {
        "id": "h08-night-line-fall-back",
        "plan": "night-std",
        "created_at": "2026-10-31T23:00:00-04:00",
        "steps": [],
        "read_at": "2026-11-01T01:30:00-04:00",
        "hand": {
            "first_reply": {
                "due_at": "2026-11-01T05:00:00Z",
                "breached": True,
                "breached_at": "2026-11-01T05:00:00Z",
                "failed_by": 1800,
                "remaining_seconds": -1800,
            },
            "resolution": {
                "due_at": "2026-11-02T05:00:00Z",
                "warn_at": "2026-11-01T08:00:00Z",
                "remaining_seconds": 27000,
            },
            "promise": "预计 11月2日 00:00 前解决",
        },
        "why": "Sat 10-31 23:00-24:00 EDT (03:00-04:00Z) 1 h, Sun 00:00-01:00 EDT → 05:00Z; read at the first 01:30 "
        "EDT (05:30Z): 2.5 h spent, 30 min late. resolution: Sun 00:00 EDT (04:00Z) to 04:00 EST (09:00Z) lasts 5 h "
        "(01:00-02:00 is lived twice): 6 h; Sun 20:00-24:00 EST (11-02 01:00-05:00Z) → 10 h at 05:00Z, which is "
        "midnight in New York; half (5 h) at 08:00Z. first_reply is late, so resolution is what the customer is "
        "promised.",
    },
    {
        "id": "h09-raised-to-urgent",
        "plan": "cn-tiered",
        "created_at": "2026-03-02T09:00:00+08:00",
        "steps": [{"at": "2026-03-02T09:10:00+08:00", "do": "patch", "priority": "urgent"}],
        "read_at": "2026-03-02T09:20:00+08:00",
        "hand": {
            "policy": "cn-urgent",
            "first_reply": {
                "due_at": "2026-03-02T01:30:00Z",
                "warn_at": "2026-03-02T01:20:00Z",
                "remaining_seconds": 600,
            },
            "resolution": {
                "business": False,
                "due_at": "2026-03-02T05:00:00Z",
                "warn_at": "2026-03-02T04:50:00Z",
                "remaining_seconds": 13200,
            },
            "promise": "预计 3月2日 09:30 前回复",
        },
        "why": "The priority edit at 09:10 matches cn-urgent (first_reply 30 business min, resolution 4 calendar h, "
        "warned 10 min before), counted from creation at 09:00 +08: first_reply due 09:30 = 01:30Z, warned at 09:20 "
        "(01:20Z); resolution due 13:00 = 05:00Z, warned 12:50 = 04:50Z. At 09:20, 1 200 s are spent.",
    },
    {
        "id": "h10-raised-to-urgent-too-late",
        "plan": "cn-tiered",
        "created_at": "2026-03-02T09:00:00+08:00",
        "steps": [{"at": "2026-03-02T09:45:00+08:00", "do": "patch", "priority": "urgent"}],
        "read_at": "2026-03-02T09:50:00+08:00",
        "hand": {
            "first_reply": {
                "due_at": "2026-03-02T01:30:00Z",
                "breached": True,
                "breached_at": "2026-03-02T01:30:00Z",
                "failed_by": 1200,
                "remaining_seconds": -1200,
            },
            "resolution": {"due_at": "2026-03-02T05:00:00Z", "remaining_seconds": 11400, "breached": False},
            "promise": "预计 3月2日 13:00 前解决",
        },
        "why": "Raised to urgent at 09:45, the 30 min first_reply target counts from 09:00: its deadline 09:30 "
        "(01:30Z) is already behind; at 09:50 50 min are spent, 20 min (1 200 s) late. resolution (4 calendar h) is "
        "due 13:00 +08 with 14 400 − 3 000 = 11 400 s left, and is what the customer is promised.",
    },
    {
        "id": "h11-edited-policy-waits-for-a-change",
        "plan": "cn-std",
        "own_plan": True,
        "created_at": "2026-03-03T09:00:00+08:00",
        "steps": [
            {"at": "2026-03-03T09:10:00+08:00", "do": "note"},
            {"at": "2026-03-03T09:20:00+08:00", "do": "edit_policy", "policy": "cn-std", "to": "cn-fast"},
        ],
        "read_at": "2026-03-03T09:40:00+08:00",
        "hand": {
            "first_reply": {"target_seconds": 7200, "due_at": "2026-03-03T03:00:00Z", "remaining_seconds": 4800},
            "resolution": {"target_seconds": 57600, "due_at": "2026-03-05T02:00:00Z"},
        },
        "why": "The policy is edited to cn-fast at 09:20, but the ticket has not changed since, so the targets in "
        "force are still those its clocks took (2 h and 16 h; the internal note at 09:10 is no reply): first_reply "
        "due 11:00 +08 = 03:00Z with 40 min spent; resolution Tue 7.5 + Wed 7.5 = 15 h, Thu 03-05 09:00-10:00 → "
        "02:00Z.",
    },
    {
        "id": "h12-edited-policy-retargets-at-the-next-action",
        "plan": "cn-std",
        "own_plan": True,
        "created_at": "2026-03-03T09:00:00+08:00",
        "steps": [
            {"at": "2026-03-03T09:20:00+08:00", "do": "edit_policy", "policy": "cn-std", "to": "cn-fast"},
            {"at": "2026-03-03T09:30:00+08:00", "do": "escalate"},
        ],
        "read_at": "2026-03-03T09:40:00+08:00",
        "hand": {
            "first_reply": {"target_seconds": 3600, "due_at": "2026-03-03T02:00:00Z", "remaining_seconds": 1200},
            "resolution": {"target_seconds": 28800, "due_at": "2026-03-04T01:30:00Z", "remaining_seconds": 26400},
        },
        "why": "The escalation at 09:30 is a change, so cn-fast's targets apply from creation at 09:00: first_reply "
        "1 h → 10:00 +08 = 02:00Z, 40 min spent; resolution 8 h: Tue 7.5 h, Wed 09:00-09:30 → 01:30Z.",
    },
    {
        "id": "h13-answered-at-the-deadline-second",
        "plan": "cn-std",
        "created_at": "2026-03-04T16:00:00+08:00",
        "steps": [{"at": "2026-03-04T18:00:00+08:00", "do": "reply"}],
        "read_at": "2026-03-04T18:05:00+08:00",
        "hand": {
            "first_reply": {
                "fulfilled_at": "2026-03-04T10:00:00Z",
                "breached": False,
                "remaining_seconds": 0,
                "failed_by": 0,
            },
            "resolution": {"due_at": "2026-03-06T09:00:00Z", "remaining_seconds": 50400},
        },
        "why": "Due Wed 16:00 + 2 h = 18:00 +08; a reply at the deadline's own second is on time (0 left, not "
        "breached). resolution: Wed 2 h, Thu 7.5 h (9.5), Fri 09:00-12:00 (12.5), 13:30-17:00 (16) → 09:00Z.",
    },
    {
        "id": "h14-answered-one-second-late",
        "plan": "cn-std",
        "created_at": "2026-03-04T16:00:00+08:00",
        "steps": [{"at": "2026-03-05T09:00:01+08:00", "do": "reply"}],
        "read_at": "2026-03-05T09:10:00+08:00",
        "hand": {
            "first_reply": {
                "fulfilled_at": "2026-03-05T01:00:01Z",
                "breached": True,
                "breached_at": "2026-03-04T10:00:00Z",
                "failed_by": 1,
                "remaining_seconds": -1,
            },
            "resolution": {"due_at": "2026-03-06T09:00:00Z", "remaining_seconds": 49800},
        },
        "why": "Due Wed 18:00 +08 (10:00Z); the reply at Thu 09:00:01 is one business second late (the night does "
        "not count). resolution has 2 h + 10 min spent at the read: 57 600 − 7 800 = 49 800.",
    },
    {
        "id": "h15-late-on-friday-evening",
        "plan": "cn-std",
        "created_at": "2026-03-06T16:00:00+08:00",
        "steps": [],
        "read_at": "2026-03-07T12:00:00+08:00",
        "hand": {
            "first_reply": {
                "due_at": "2026-03-06T10:00:00Z",
                "breached": True,
                "breached_at": "2026-03-06T10:00:00Z",
                "failed_by": 0,
                "remaining_seconds": 0,
            },
            "resolution": {"due_at": "2026-03-10T09:00:00Z", "remaining_seconds": 50400},
            "promise": "预计 3月10日 17:00 前解决",
        },
        "why": "Due Fri 18:00 +08 and unanswered: on Saturday it is breached though no business time passed since "
        "(0 left, failed by 0). resolution: Fri 2 h, Mon 03-09 7.5 h (9.5), Tue 03-10 09:00-12:00 (12.5), "
        "13:30-17:00 (16) → 09:00Z.",
    },
    {
        "id": "h16-reopened-after-completion",
        "plan": "cn-std",
        "created_at": "2026-03-09T09:00:00+08:00",
        "steps": [
            {"at": "2026-03-09T09:05:00+08:00", "do": "assign"},
            {"at": "2026-03-09T09:10:00+08:00", "do": "start"},
            {"at": "2026-03-09T11:00:00+08:00", "do": "resolve"},
            {"at": "2026-03-09T14:00:00+08:00", "do": "complete"},
            {"at": "2026-03-10T10:00:00+08:00", "do": "reopen", "by": "customer"},
        ],
        "read_at": "2026-03-10T11:00:00+08:00",
        "hand": {
            "first_reply": {"fulfilled_at": "2026-03-09T03:00:00Z", "remaining_seconds": 0, "breached": False},
            "resolution": {"due_at": "2026-03-12T03:00:00Z", "remaining_seconds": 54000, "fulfilled_at": None},
            "promise": "预计 3月12日 11:00 前解决",
        },
        "why": "resolve at 11:00 is the public reply (2 h: exactly on time) and resolves. Reopened Tue 03-10 10:00 by "
        "the customer: a new resolution cycle of the whole 16 h: Tue 10:00-12:00 + 13:30-18:00 = 6.5 h, Wed 7.5 h "
        "(14), Thu 09:00-11:00 → 11:00 +08 = 03:00Z; 1 h spent at the read.",
    },
    {
        "id": "h17-closed-unanswered-then-reopened",
        "plan": "cn-std",
        "created_at": "2026-03-09T09:00:00+08:00",
        "steps": [
            {"at": "2026-03-09T09:30:00+08:00", "do": "close"},
            {"at": "2026-03-09T10:00:00+08:00", "do": "reopen"},
        ],
        "read_at": "2026-03-09T11:00:00+08:00",
        "hand": {
            "first_reply": {"due_at": "2026-03-09T04:00:00Z", "remaining_seconds": 3600},
            "resolution": {"due_at": "2026-03-11T03:00:00Z", "remaining_seconds": 54000},
            "promise": "预计 3月9日 12:00 前回复",
        },
        "why": "Closed unanswered at 09:30, both clocks are cancelled; reopened at 10:00 into the pool, the first "
        "reply is owed again from 10:00: due 12:00 +08 = 04:00Z. resolution: Mon 10:00-12:00 + 13:30-18:00 = 6.5 h, "
        "Tue 7.5 h (14), Wed 09:00-11:00 → 03:00Z.",
    },
    {
        "id": "h18-split-shift",
        "plan": "split-std",
        "created_at": "2026-04-14T10:30:00+08:00",
        "steps": [],
        "read_at": "2026-04-14T10:45:00+08:00",
        "hand": {
            "first_reply": {"due_at": "2026-04-14T11:30:00Z", "remaining_seconds": 9900},
            "resolution": {"due_at": "2026-04-15T12:30:00Z", "remaining_seconds": 42300},
            "promise": "预计 4月14日 19:30 前回复",
        },
        "why": "cn-split works 07:00-11:00 and 17:00-21:00 Mon-Sat; split-std: first_reply 3 h, resolution 12 h. Tue "
        "10:30-11:00 (0.5 h), 17:00-19:30 → 19:30 +08 = 11:30Z. resolution: Tue 0.5 + 4 = 4.5 h, Wed 07:00-11:00 "
        "(8.5), 17:00-20:30 (12) → 12:30Z. 15 min spent at the read.",
    },
    {
        "id": "h19-next-reply-and-periodic-update",
        "plan": "cn-full",
        "created_at": "2026-03-12T09:00:00+08:00",
        "steps": [
            {"at": "2026-03-12T09:10:00+08:00", "do": "assign"},
            {"at": "2026-03-12T09:20:00+08:00", "do": "start"},
            {"at": "2026-03-12T10:00:00+08:00", "do": "reply"},
            {"at": "2026-03-12T16:00:00+08:00", "do": "customer_comment"},
        ],
        "read_at": "2026-03-13T09:30:00+08:00",
        "hand": {
            "state:new": {"fulfilled_at": "2026-03-12T01:10:00Z", "remaining_seconds": 3000, "warn_at": None},
            "first_reply": {"fulfilled_at": "2026-03-12T02:00:00Z", "remaining_seconds": 3600, "warn_at": None},
            "periodic_update": {
                "due_at": "2026-03-12T09:30:00Z",
                "breached": True,
                "breached_at": "2026-03-12T09:30:00Z",
                "failed_by": 3600,
                "warn_at": "2026-03-12T08:00:00Z",
            },
            "next_reply": {
                "due_at": "2026-03-13T02:00:00Z",
                "remaining_seconds": 1800,
                "warn_at": "2026-03-13T01:15:00Z",
            },
            "resolution": {
                "due_at": "2026-03-17T02:30:00Z",
                "remaining_seconds": 57600,
                "warn_at": "2026-03-16T04:00:00Z",
            },
            "promise": "预计 3月13日 10:00 前回复",
        },
        "why": "cn-full, warned at three quarters. state:new 09:00-09:10: 600 s of 1 h. first_reply answered at "
        "10:00: 1 h of 2 h, short of its warning (1.5 h). periodic_update from 10:00, 6 h: 10-12 (2), 13:30-17:30 → "
        "09:30Z; at the read Thu 10-12 + 13:30-18 + Fri 09:00-09:30 = 7 h: 1 h late; warning at 4.5 h = 16:00 "
        "(08:00Z). next_reply from the customer's message at 16:00, 3 h: 16-18 (2), Fri 09:00-10:00 → 02:00Z; 2.5 h "
        "spent; warning at 2 h 15 min = Fri 09:15. resolution 24 h: Thu 7.5, Fri 7.5, Mon 7.5 (22.5), Tue 03-17 "
        "09:00-10:30 → 02:30Z; warning at 18 h = Mon 12:00 (04:00Z); 8 h spent.",
    },
    {
        "id": "h20-two-desks-two-zones",
        "plan": "global",
        "created_at": "2026-03-09T21:00:00+08:00",
        "steps": [],
        "read_at": "2026-03-09T22:00:00+08:00",
        "hand": {
            "first_reply": {"calendar": "us-ny", "due_at": "2026-03-09T15:00:00Z", "remaining_seconds": 3600},
            "resolution": {"calendar": "cn-office", "due_at": "2026-03-12T02:00:00Z", "remaining_seconds": 57600},
            "promise": "预计 3月9日 11:00 前回复",
        },
        "why": "first_reply on the New York desk, resolution on the Shanghai one. 21:00 +08 is 09:00 EDT (13:00Z): "
        "first_reply 2 h → 11:00 EDT = 15:00Z, told in New York time. Shanghai is closed until Tue 03-10: 7.5 h, Wed "
        "7.5 h (15), Thu 09:00-10:00 → 02:00Z; nothing spent at the read.",
    },
    {
        "id": "h21-no-pause-while-waiting",
        "plan": "cn-nopause",
        "created_at": "2026-09-30T09:00:00+08:00",
        "steps": [
            {"at": "2026-09-30T09:05:00+08:00", "do": "assign"},
            {"at": "2026-09-30T09:10:00+08:00", "do": "start"},
            {"at": "2026-09-30T10:00:00+08:00", "do": "request_info"},
            {"at": "2026-10-08T11:00:00+08:00", "do": "customer_reply"},
        ],
        "read_at": "2026-10-08T14:00:00+08:00",
        "hand": {
            "resolution": {"due_at": "2026-10-09T02:00:00Z", "remaining_seconds": 18000},
            "periodic_update": {"due_at": "2026-10-08T08:30:00Z", "remaining_seconds": 9000},
            "promise": "预计 10月9日 10:00 前解决",
        },
        "why": "h04 under cn-nopause, whose resolution does not stop while waiting on the customer: Wed 09-30 "
        "09:00-18:00 (7.5 h) + Thu 10-08 09:00-12:00 + 13:30-14:00 = 11 h spent, 5 h left: Thu 14:00-18:00, Fri 10-09 "
        "09:00-10:00 → 02:00Z. periodic_update (4 h) starts with request_info at 10:00 and stands still (the default "
        "pause) until 11:00 on 10-08: 1.5 h spent, due 16:30 +08 = 08:30Z.",
    },
    {
        "id": "h22-read-at-the-deadline-second",
        "plan": "cn-std",
        "created_at": "2026-03-16T09:00:00+08:00",
        "steps": [],
        "read_at": "2026-03-16T11:00:00+08:00",
        "hand": {
            "first_reply": {
                "due_at": "2026-03-16T03:00:00Z",
                "breached": True,
                "breached_at": "2026-03-16T03:00:00Z",
                "failed_by": 0,
                "remaining_seconds": 0,
            },
            "resolution": {"due_at": "2026-03-18T02:00:00Z", "remaining_seconds": 50400},
            "promise": "预计 3月18日 10:00 前解决",
        },
        "why": "Read at 11:00:00 +08, the very second the 2 h first_reply target is used up: a running clock at its "
        "target is breached (0 left, failed by 0). resolution: Mon 7.5 h, Tue 7.5 h (15), Wed 09:00-10:00 → 02:00Z.",
    },
    {
        "id": "h23-read-one-second-before-the-deadline",
        "plan": "cn-std",
        "created_at": "2026-03-16T09:00:00+08:00",
        "steps": [],
        "read_at": "2026-03-16T10:59:59+08:00",
        "hand": {
            "first_reply": {"due_at": "2026-03-16T03:00:00Z", "breached": False, "remaining_seconds": 1},
            "resolution": {"remaining_seconds": 50401},
            "promise": "预计 3月16日 11:00 前回复",
        },
        "why": "h22 one second earlier: 7 199 s spent, 1 left, not breached, so the reply is still promised.",
    },
    {
        "id": "h24-due-in-the-repeated-hour",
        "plan": "night-std",
        "priority": "high",
        "created_at": "2026-11-01T01:00:00-04:00",
        "steps": [],
        "read_at": "2026-11-01T01:20:00-04:00",
        "hand": {
            "first_reply": {
                "due_at": "2026-11-01T06:00:00Z",
                "warn_at": "2026-11-01T05:30:00Z",
                "remaining_seconds": 2400,
            },
            "resolution": {
                "due_at": "2026-11-02T03:00:00Z",
                "warn_at": "2026-11-01T08:00:00Z",
                "remaining_seconds": 20400,
            },
            "promise": "预计 11月1日 01:00 前回复",
        },
        "why": "night-std high: first_reply 1 h, resolution 6 h, warned at half. Created at the first 01:00 (EDT, "
        "05:00Z); the night line is open without a break until 04:00 EST (09:00Z), so the hour ends at 06:00Z, which "
        "the clocks show as the second 01:00 (EST): the promise names the same wall time as the creation. "
        "resolution: 05:00-09:00Z = 4 h, Sun 20:00 EST (11-02 01:00Z) + 2 h → 03:00Z; half at 08:00Z.",
    },
    {
        "id": "h25-due-across-the-spring-gap",
        "plan": "night-std",
        "priority": "high",
        "created_at": "2026-03-08T01:30:00-05:00",
        "steps": [],
        "read_at": "2026-03-08T01:45:00-05:00",
        "hand": {
            "first_reply": {
                "due_at": "2026-03-08T07:30:00Z",
                "warn_at": "2026-03-08T07:00:00Z",
                "remaining_seconds": 2700,
            },
            "resolution": {
                "due_at": "2026-03-09T04:30:00Z",
                "warn_at": "2026-03-09T01:30:00Z",
                "remaining_seconds": 20700,
            },
            "promise": "预计 3月8日 03:30 前回复",
        },
        "why": "Created 01:30 EST (06:30Z): 30 min to 02:00 EST (07:00Z), when the clocks jump to 03:00 EDT, then 30 "
        "min more → 07:30Z, shown as 03:30 EDT: one real hour. resolution (6 h): 06:30-08:00Z (04:00 EDT) 1.5 h, Sun "
        "20:00-24:00 EDT (03-09 00:00-04:00Z) 5.5 h, Mon 00:00-00:30 EDT → 04:30Z; half (3 h) at Sun 21:30 EDT = "
        "01:30Z.",
    },
    {
        "id": "h26-promise-rounded-up-to-the-minute",
        "plan": "cn-std",
        "created_at": "2026-03-16T09:00:30+08:00",
        "steps": [],
        "read_at": "2026-03-16T09:10:00+08:00",
        "hand": {
            "first_reply": {"due_at": "2026-03-16T03:00:30Z", "remaining_seconds": 6630},
            "resolution": {"due_at": "2026-03-18T02:00:30Z", "remaining_seconds": 57030},
            "promise": "预计 3月16日 11:01 前回复",
        },
        "why": "Created at 09:00:30 +08: first_reply due 11:00:30, which the customer reads rounded up as 11:01; 570 s "
        "spent at 09:10.",
    },
    {
        "id": "h27-promise-in-the-next-year",
        "plan": "cn-std",
        "created_at": "2026-12-31T16:00:00+08:00",
        "steps": [],
        "read_at": "2026-12-31T18:30:00+08:00",
        "hand": {
            "first_reply": {
                "breached": True,
                "breached_at": "2026-12-31T10:00:00Z",
                "failed_by": 0,
                "remaining_seconds": 0,
            },
            "resolution": {"due_at": "2027-01-04T09:00:00Z", "remaining_seconds": 50400},
            "promise": "预计 2027年1月4日 17:00 前解决",
        },
        "why": "first_reply: Thu 16:00-18:00 → due 18:00 +08, unanswered at 18:30 (no business time since: failed by "
        "0). cn-office's overrides end with 2026 (valid_to 2026-12-31), so Fri 2027-01-01 has the weekly hours: Thu "
        "2 h, Fri 7.5 h (9.5), Mon 01-04 09:00-12:00 (12.5), 13:30-17:00 (16) → 09:00Z. The promise names the year, "
        "which is not the reader's.",
    },
    {
        "id": "h28-waiting-through-spring-festival",
        "plan": "cn-full",
        "created_at": "2026-02-12T10:00:00+08:00",
        "steps": [
            {"at": "2026-02-12T10:05:00+08:00", "do": "assign"},
            {"at": "2026-02-12T10:10:00+08:00", "do": "start"},
            {"at": "2026-02-12T11:00:00+08:00", "do": "request_info"},
            {"at": "2026-02-13T17:00:00+08:00", "do": "customer_comment"},
        ],
        "read_at": "2026-02-24T10:00:00+08:00",
        "hand": {
            "state:new": {"fulfilled_at": "2026-02-12T02:05:00Z", "remaining_seconds": 3300},
            "first_reply": {"fulfilled_at": "2026-02-12T03:00:00Z", "remaining_seconds": 3600, "warn_at": None},
            "resolution": {
                "paused": True,
                "due_at": None,
                "remaining_seconds": 82800,
                "breached": False,
                "warn_at": None,
            },
            "periodic_update": {"paused": True, "remaining_seconds": 21600, "warn_at": None},
            "next_reply": {
                "due_at": "2026-02-14T03:00:00Z",
                "breached_at": "2026-02-14T03:00:00Z",
                "failed_by": 23400,
                "warn_at": "2026-02-14T02:15:00Z",
            },
            "state:waiting_on_customer": {
                "business": False,
                "due_at": "2026-02-14T03:00:00Z",
                "failed_by": 860400,
                "warn_at": "2026-02-13T15:00:00Z",
            },
            "promise": None,
        },
        "why": "cn-full. request_info Thu 02-12 11:00 +08 answers first (1 h of 2 h) and pauses resolution after 1 h "
        "(82 800 s left) and periodic_update at once (its new cycle has spent nothing). The customer writes Fri 02-13 "
        "17:00 while we wait: next_reply (3 h, never paused) runs Fri 17:00-18:00, Sat 02-14 (调休) 09:00-11:00 → "
        "03:00Z, warned at 2 h 15 min = 10:15 (02:15Z); read Tue 02-24 10:00 after 春节: 1 + 7.5 + 1 = 9.5 h spent, "
        "6.5 h (23 400 s) late. The waiting limit (48 calendar h from 03:00Z on 02-12) fell due 02-14 03:00Z; 12 days "
        "less an hour have passed: 1 033 200 − 172 800 = 860 400 s late, warned at 36 h (02-13 15:00Z). Nothing is "
        "promised: the reply owed is late and the resolution waits on the customer.",
    },
]


# Building a case


def _actor(do: str, ticket: Ticket) -> str:
    """Who takes a step unless the case says: the customer speaks for themselves, a manager assigns, edits and
    closes, the handler (or a manager, when nobody holds the ticket) does the work."""
    if do in ("customer_reply", "urge", "customer_comment", "complete"):
        return "customer"
    if do == "claim":
        return "agent-1"
    if do in ("assign", "patch", "edit_policy", "close", "reopen", "escalate"):
        return "manager-1"
    return ticket.assignee or "manager-1"


def _plan_policies(plan: str) -> list[dict[str, Any]]:
    return [dict(POLICIES[name], name=name) for name in PLANS[plan]]


def build_case(spec: dict[str, Any]) -> dict[str, Any]:
    """A case as written to the file: its steps with their actors, and the oracle's `sla` block at `read_at`."""
    priority = spec.get("priority", "normal")
    ticket = Ticket(_plan_policies(spec["plan"]), priority, _instant(spec["created_at"]))
    steps, last = [], _instant(spec["created_at"])
    for given in spec["steps"]:
        step = {"at": given["at"], "do": given["do"], "by": given.get("by") or _actor(given["do"], ticket)}
        step |= {k: v for k, v in given.items() if k not in step}
        at = _instant(step["at"])
        if at < last:
            raise ValueError(f"{spec['id']}: steps go back in time")
        if step["do"] == "edit_policy" and not spec.get("own_plan"):
            raise ValueError(f"{spec['id']}: only a case with a plan of its own may edit its policies")
        ticket.apply(step, at)
        steps.append(step)
        last = at
    read_at = _instant(spec["read_at"])
    if read_at < last:
        raise ValueError(f"{spec['id']}: read before the last step")
    case = {"id": spec["id"]}
    if "why" in spec:
        case["why"] = spec["why"]
    case |= {
        "plan": spec["plan"],
        "own_plan": bool(spec.get("own_plan")),
        "priority": priority,
        "created_at": spec["created_at"],
        "steps": steps,
        "expect": {"at": _utc(read_at), **ticket.sla(read_at)},
    }
    return case


def check_by_hand(case: dict[str, Any], hand: dict[str, Any]) -> None:
    expect = case["expect"]
    for name, wanted in hand.items():
        if name in ("policy", "promise"):
            if expect.get(name) != wanted:
                raise SystemExit(
                    f"hand check failed: {case['id']} {name}: oracle {expect.get(name)!r}, hand {wanted!r}"
                )
            continue
        got = expect["metrics"].get(name)
        if got is None:
            raise SystemExit(f"hand check failed: {case['id']}: the oracle shows no {name}")
        for field_name, value in wanted.items():
            if got[field_name] != value:
                raise SystemExit(
                    f"hand check failed: {case['id']} {name}.{field_name}: oracle {got[field_name]!r}, hand {value!r}"
                )


# Scripted cases: a family of steps, started near the dates that matter for the plan's calendars


CN_FOCUS = ["2026-01-04", "2026-02-12", "2026-02-13", "2026-02-14", "2026-02-24", "2026-02-27", "2026-02-28",
            "2026-04-03", "2026-04-30", "2026-05-08", "2026-05-09", "2026-06-18", "2026-09-18", "2026-09-20",
            "2026-09-24", "2026-09-30", "2026-10-09", "2026-10-10"]  # fmt: skip
US_FOCUS = ["2026-03-05", "2026-03-06", "2026-03-07", "2026-03-08", "2026-03-09", "2026-05-22", "2026-07-02",
            "2026-09-04", "2026-10-29", "2026-10-30", "2026-10-31", "2026-11-01", "2026-11-02",
            "2026-11-25"]  # fmt: skip
CN_EVES = ["2026-02-12", "2026-02-13", "2026-04-02", "2026-04-30", "2026-06-18", "2026-09-24", "2026-09-29",
           "2026-09-30"]  # fmt: skip
"""The last working days before a Chinese holiday (or the 调休 Saturday before 春节)."""
US_EVES = ["2026-03-06", "2026-03-07", "2026-05-22", "2026-07-02", "2026-09-04", "2026-10-30", "2026-10-31",
           "2026-11-25"]  # fmt: skip
"""Days before a clock change or a US holiday."""
GAPS: dict[str, Callable[[random.Random], int]] = {
    "minutes": lambda rng: rng.randrange(2, 90) * 60,
    "hours": lambda rng: rng.randrange(60, 8 * 60) * 60,
    "overnight": lambda rng: rng.randrange(12 * 60, 20 * 60) * 60,
    "days": lambda rng: rng.randrange(1, 4) * DAY + rng.randrange(-180, 180) * 60,
    "long": lambda rng: rng.randrange(5, 11) * DAY + rng.randrange(-180, 180) * 60,
}


class Script:
    """Steps written one after another on a ticket the oracle follows, so that each family knows where it stands."""

    def __init__(
        self, rng: random.Random, case_id: str, plan: str, *, own_plan: bool = False, eves: bool = False
    ) -> None:
        self.rng, self.id, self.plan, self.own_plan = rng, case_id, plan, own_plan
        self.zone = HOME[plan] if plan != "global" else rng.choice((SHANGHAI, NEW_YORK))
        self.priority = rng.choice(PRIORITIES.get(plan, ["normal"]))
        focus = (US_EVES if eves else US_FOCUS) if self.zone == NEW_YORK else (CN_EVES if eves else CN_FOCUS)
        if eves or rng.random() < 0.75:
            day = date.fromisoformat(rng.choice(focus))
        else:
            day = date(2026, 1, 5) + timedelta(days=rng.randrange(320))
        if plan == "night-std" or rng.random() < 0.35:
            minute = rng.randrange(24 * 60)
        else:
            minute = rng.randrange(8 * 60, 19 * 60)
        local = datetime(day.year, day.month, day.day) + timedelta(minutes=minute)
        self.t = int(local.replace(tzinfo=ZoneInfo(self.zone)).timestamp())
        self.created_at = _local(self.t, self.zone)
        self.ticket = Ticket(_plan_policies(plan), self.priority, self.t)
        self.steps: list[dict[str, Any]] = []

    @property
    def status(self) -> str:
        return self.ticket.status

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, *options: Any) -> Any:
        return self.rng.choice(options)

    def wait(self, *kinds: str) -> None:
        self.t += GAPS[self.rng.choice(kinds or tuple(GAPS))](self.rng)
        if self.chance(0.15):
            self.t += self.rng.randrange(1, 60)

    def do(self, what: str, **fields: Any) -> None:
        step = {"at": _local(self.t, self.zone), "do": what, "by": fields.pop("by", None) or _actor(what, self.ticket)}
        step |= fields
        self.ticket.apply(step, self.t)
        self.steps.append(step)

    def may_urge(self) -> bool:
        last = self.ticket.last_urged_at
        return self.status in ("new", *WORKING) and (last is None or self.t - last >= 600) and self.ticket.urges < 2

    def spec(self) -> dict[str, Any]:
        self.wait("minutes", "minutes", "hours", "hours", "overnight", "days")
        return {
            "id": self.id,
            "plan": self.plan,
            "own_plan": self.own_plan,
            "priority": self.priority,
            "created_at": self.created_at,
            "steps": self.steps,
            "read_at": _local(self.t, self.zone),
        }


def first_reply(s: Script) -> None:
    if s.chance(0.3):
        s.wait("minutes")
        s.do("note")
    if s.chance(0.3):
        s.wait("minutes", "hours")
        s.do("urge", by=s.pick("customer", "bot"))
    if s.chance(0.7):
        s.wait("minutes", "hours", "overnight", "days")
        s.do("reply", by=s.pick("agent-1", "agent-2", "manager-1"))


def waiting(s: Script) -> None:
    s.wait("minutes")
    s.do("assign")
    s.wait("minutes")
    s.do("start")
    if s.chance(0.4):
        s.wait("minutes", "hours")
        s.do("reply")
    for _ in range(s.pick(1, 1, 2)):
        s.wait("minutes", "hours")
        s.do("request_info")
        if s.chance(0.3):
            s.wait("hours", "overnight")
            s.do("customer_comment", by=s.pick("customer", "bot"))
        s.wait("overnight", "days", "long")
        s.do("customer_reply", by=s.pick("customer", "customer", "bot", "agent-1"))
    if s.chance(0.5):
        s.wait("minutes", "hours")
        s.do("reply")


def lifecycle(s: Script) -> None:
    s.wait("minutes")
    s.do(s.pick("claim", "assign"))
    s.wait("minutes", "hours")
    s.do("start")
    if s.chance(0.5):
        s.wait("minutes", "hours")
        s.do("reply")
    s.wait("hours", "overnight", "days")
    s.do("resolve")
    ending = s.pick("open", "complete", "satisfied", "unsatisfied", "reopen", "close-reopen")
    if ending == "open":
        return
    s.wait("minutes", "hours", "overnight", "days")
    if ending == "unsatisfied":
        s.do("follow_up", outcome="unsatisfied")
        if s.chance(0.6):
            s.wait("minutes", "hours", "overnight")
            s.do("reply")
        if s.chance(0.4):
            s.wait("hours", "overnight")
            s.do("resolve")
        return
    if ending == "satisfied":
        s.do("follow_up", outcome="satisfied")
        return
    if ending == "close-reopen":
        s.do("close", reason=s.pick("resolved_elsewhere", "customer_request", "other"))
    else:
        s.do("complete", by=s.pick("customer", "agent-1"))
    if ending in ("reopen", "close-reopen"):
        s.wait("minutes", "hours", "overnight", "days")
        s.do("reopen", by=s.pick("customer", "manager-1"))
        if s.chance(0.5):
            s.wait("minutes", "hours")
            s.do("start")


def priority(s: Script) -> None:
    for round_ in range(s.pick(1, 1, 2)):
        if s.chance(0.4):
            s.wait("minutes", "hours")
            s.do(s.pick("reply", "note", "customer_comment") if round_ else s.pick("assign", "reply"))
        s.wait("minutes", "hours", "overnight")
        if s.status in FINAL:
            return
        others = [p for p in ("low", "normal", "high", "urgent") if p != s.ticket.priority]
        s.do("patch", priority=s.rng.choice(others))


def holiday_wait(s: Script) -> None:
    """Waiting on the customer across a holiday or a clock change, and what is owed once they answer."""
    s.wait("minutes")
    s.do("assign")
    s.wait("minutes")
    s.do("start")
    s.wait("minutes", "hours")
    s.do("request_info")
    if s.chance(0.3):
        s.wait("hours")
        s.do("customer_comment", by=s.pick("customer", "bot"))
    s.wait("days", "long")
    s.do("customer_reply", by=s.pick("customer", "bot", "agent-1"))
    if s.chance(0.4):
        s.wait("minutes", "hours")
        s.do(s.pick("reply", "request_info", "resolve"))


def policy_edit(s: Script) -> None:
    if s.chance(0.5):
        s.wait("minutes")
        s.do("assign")
        s.wait("minutes")
        s.do("start")
        if s.chance(0.4):
            s.wait("minutes", "hours")
            s.do("request_info")
    s.wait("minutes", "hours", "overnight")
    [policy] = PLANS[s.plan]
    s.do("edit_policy", policy=policy, to=s.rng.choice(EDITS[s.plan]))
    s.wait("minutes", "hours", "overnight")
    trigger = s.pick("escalate", "reply", "customer_comment", "urge", "nothing")
    if trigger == "nothing" or (trigger == "urge" and not s.may_urge()):
        return
    s.do(trigger)
    if s.chance(0.5):  # once re-targeted, a note or a title edit changes nothing whichever way the rule goes
        s.wait("minutes", "hours")
        if s.chance(0.5):
            s.do("note")
        else:
            s.do("patch", title=f"净化器异响（{s.id}）")


def conversation(s: Script) -> None:
    s.wait("minutes", "hours")
    s.do("reply", by=s.pick("agent-1", "manager-1"))
    for _ in range(s.pick(1, 2, 3)):
        s.wait("minutes", "hours", "overnight")
        if s.may_urge() and s.chance(0.3):
            s.do("urge", by=s.pick("customer", "bot"))
        else:
            s.do("customer_comment", by=s.pick("customer", "customer", "bot"))
        if s.chance(0.3):
            s.wait("minutes")
            s.do("customer_comment")
        if s.chance(0.6):
            s.wait("minutes", "hours", "overnight", "days")
            s.do("reply", by=s.pick("agent-1", "agent-2", "manager-1"))


def closing(s: Script) -> None:
    if s.chance(0.5):
        s.wait("minutes")
        s.do("assign")
    if s.chance(0.4):
        s.wait("minutes", "hours")
        s.do("reply")
    s.wait("minutes", "hours", "overnight")
    if s.status in ("new", "assigned") and s.chance(0.35):
        s.do("cancel", by=s.pick("customer", "agent-1"))
        return
    s.do("close", reason=s.pick("duplicate", "invalid", "customer_request"))
    if s.chance(0.7):
        s.wait("minutes", "hours", "days")
        s.do("reopen", by=s.pick("customer", "manager-1"))
        if s.chance(0.5):
            s.wait("minutes", "hours")
            s.do("reply")


def transfer(s: Script) -> None:
    s.wait("minutes")
    s.do("assign")
    s.wait("minutes")
    s.do("start")
    if s.chance(0.5):
        s.wait("minutes", "hours")
        s.do("reply")
    s.wait("hours", "overnight")
    s.do("transfer", reason="转华东二组")
    s.wait("minutes", "hours", "overnight")
    s.do("start")
    if s.chance(0.5):
        s.wait("hours", "overnight")
        s.do("request_info")


FAMILIES: list[tuple[Callable[[Script], None], int, tuple[str, ...]]] = [
    (first_reply, 28, tuple(PLANS)),
    (waiting, 34, tuple(PLANS)),
    (lifecycle, 34, tuple(PLANS)),
    (priority, 30, ("cn-tiered", "us-tiered", "cn-std", "us-std", "cn-full", "night-std", "cn-calendar", "global")),
    (holiday_wait, 24, ("cn-std", "cn-full", "cn-nopause", "cn-workonly", "split-std", "us-std", "night-std")),
    (policy_edit, 30, tuple(EDITS)),
    (conversation, 26, ("cn-full", "us-std", "split-std", "cn-std", "night-std")),
    (closing, 24, tuple(PLANS)),
    (transfer, 20, ("cn-workonly", "split-std", "cn-full", "us-std", "cn-std")),
]
"""Each family, how many cases it writes, and the plans it draws from."""


def scripted_cases(rng: random.Random) -> list[dict[str, Any]]:
    cases = []
    for family, count, plans in FAMILIES:
        for n in range(count):
            plan = plans[n % len(plans)]
            name = family.__name__.replace("_", "-")
            case_id = f"g{len(cases) + 1:03d}-{name}-{plan}"
            script = Script(rng, case_id, plan, own_plan=family is policy_edit, eves=family is holiday_wait)
            family(script)
            cases.append(build_case(script.spec()))
    return cases


# Writing the file


def _line(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _case_text(case: dict[str, Any]) -> str:
    head = {k: v for k, v in case.items() if k not in ("steps", "expect")}
    expect = case["expect"]
    steps = ",\n  ".join(_line(step) for step in case["steps"])
    metrics = ",\n  ".join(f"{_line(name)}: {_line(values)}" for name, values in expect["metrics"].items())
    read = _line({k: v for k, v in expect.items() if k != "metrics"})[1:-1]
    return (
        f"{_line(head)[:-1]},\n"
        f' "steps": [{chr(10) + "  " if steps else ""}{steps}],\n'
        f' "expect": {{{read}, "metrics": {{{chr(10) + "  " if metrics else ""}{metrics}}}}}}}'
    )


def main() -> None:
    cases = []
    for spec in HAND:
        case = build_case(spec)
        check_by_hand(case, spec["hand"])
        cases.append(case)
    cases += scripted_cases(random.Random(20260214))
    ids = [case["id"] for case in cases]
    if len(set(ids)) != len(ids):
        raise SystemExit("case ids repeat")
    document = {"about": ABOUT, "calendars": CALENDARS, "policies": POLICIES, "plans": PLANS, "cases": cases}
    named = ("calendars", "policies", "plans")
    parts = [f'"about": {_line(ABOUT)}']
    for key in named:
        entries = ",\n".join(f"{_line(k)}: {_line(v)}" for k, v in document[key].items())
        parts.append(f'"{key}": {{\n{entries}\n}}')
    parts.append('"cases": [\n' + ",\n".join(_case_text(case) for case in cases) + "\n]")
    text = "{\n" + ",\n".join(parts) + "\n}\n"
    if json.loads(text) != document:
        raise SystemExit("the written file does not read back as the cases")
    OUT.write_text(text, encoding="utf-8")
    steps = sum(len(case["steps"]) for case in cases)
    print(f"{OUT.name}: {len(cases)} cases ({len(HAND)} checked by hand), {steps} steps")


if __name__ == "__main__":
    main()
