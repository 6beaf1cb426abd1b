"""SLA clocks: deadlines derived from a metric's event log on a Shanghai office calendar (09:00-12:00, 13:30-18:00
Monday to Friday, closed on Monday 2026-02-16), the events a ticket's and an after-sales order's history append, the
customer's promise, and the laws derive obeys on any log."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.after_sales import AfterSalesType
from app.domain.business_time import BusinessCalendar, DateOverride, hours, weekdays
from app.domain.sla import (
    AFTER_SALES_FINAL,
    AFTER_SALES_PAID,
    AFTER_SALES_REVIEW,
    TICKET_FINAL,
    TICKET_RESOLVED,
    AfterSalesChange,
    TicketChange,
    after_sales_clock_events,
    customer_promise,
    promise,
    ticket_clock_events,
)
from app.domain.sla_clock import (
    ClockEvent,
    ClockEventKind,
    MetricState,
    Phase,
    by_metric,
    derive,
    derive_all,
    history,
    next_due,
)
from app.domain.sla_policies import (
    FIRST_REPLY,
    NEXT_REPLY,
    PERIODIC_UPDATE,
    REFUND_COMPLETION,
    RESOLUTION,
    REVIEW,
    SlaPolicy,
    Subject,
    Target,
    WarningRule,
    state_metric,
)
from app.workflows.after_sales import AFTER_SALES_WORKFLOWS
from app.workflows.ticket import TICKET

SH, UTC_ZONE = ZoneInfo("Asia/Shanghai"), ZoneInfo("UTC")
HOUR, DAY = 3600, 86_400
CN_DAY = hours("09:00-12:00", "13:30-18:00")
CN = BusinessCalendar("Asia/Shanghai", weekdays(CN_DAY), (DateOverride(date(2026, 2, 16), (), "春节"),))
CALENDARS = {"cn": CN}
K = ClockEventKind
METRIC = FIRST_REPLY


def sh(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SH)


def office(seconds: int) -> Target:
    return Target(seconds, business=True, calendar="cn")


def clock(
    target: Target | None, start: datetime, *moves: tuple[ClockEventKind, datetime], warning: WarningRule | None = None
) -> list[ClockEvent]:
    """A metric's log: the target applied and the clock activated at `start`, then `moves`."""
    return [
        ClockEvent(K.APPLY_POLICY, start, METRIC, target, warning, "standard"),
        ClockEvent(K.ACTIVATE, start, METRIC),
        *(ClockEvent(kind, at, METRIC) for kind, at in moves),
    ]


def retarget(at: datetime, target: Target, warning: WarningRule | None = None) -> ClockEvent:
    return ClockEvent(K.APPLY_POLICY, at, METRIC, target, warning, "stricter")


def state(log: list[ClockEvent], now: datetime, calendars: dict = CALENDARS) -> MetricState:
    return derive(log, calendars, now)


# Deadlines across nights, weekends, lunch breaks and the closed Monday


def test_a_deadline_skips_the_night_the_weekend_and_the_closed_monday():
    log = clock(office(4 * HOUR), sh(2026, 2, 13, 17))

    now = state(log, sh(2026, 2, 13, 17, 30))

    assert now.phase is Phase.RUNNING
    assert now.due_at == sh(2026, 2, 17, 12)
    assert (now.consumed_seconds, now.remaining_seconds) == (1800, 4 * HOUR - 1800)
    assert not now.breached


def test_a_deadline_skips_the_lunch_break():
    assert state(clock(office(HOUR), sh(2026, 2, 17, 11, 30)), sh(2026, 2, 17, 11, 30)).due_at == sh(2026, 2, 17, 14)


def test_a_pause_over_the_weekend_and_the_holiday_stops_no_business_time_but_its_own():
    log = clock(office(3 * HOUR), sh(2026, 2, 13, 16), (K.PAUSE, sh(2026, 2, 13, 17)), (K.RESUME, sh(2026, 2, 16, 10)))

    paused = state(log[:3], sh(2026, 2, 14, 12))
    resumed = state(log, sh(2026, 2, 17, 9, 30))

    assert (paused.paused, paused.due_at, paused.remaining_seconds, paused.warn_at) == (True, None, 2 * HOUR, None)
    assert resumed.consumed_seconds == HOUR + 1800
    assert resumed.due_at == sh(2026, 2, 17, 11)  # resumed on the closed Monday: the 2 h left start on Tuesday


def test_pauses_are_exact_to_the_second_across_lunch_and_a_night():
    log = clock(
        office(8 * HOUR),
        sh(2026, 2, 17, 10),
        (K.PAUSE, sh(2026, 2, 17, 11, 59, 30)),
        (K.RESUME, sh(2026, 2, 18, 13, 45, 10)),
    )

    now = state(log, sh(2026, 2, 18, 15))

    assert now.consumed_seconds == 7170 + 4490
    assert now.remaining_seconds == 8 * HOUR - 11660
    assert now.due_at == sh(2026, 2, 19, 10, 45, 40)


def test_calendar_time_counts_every_second():
    log = clock(Target(24 * HOUR, business=False), sh(2026, 2, 13, 17))

    assert state(log, sh(2026, 2, 14, 5), {}).due_at == sh(2026, 2, 14, 17)


def test_an_edited_calendar_derives_a_new_deadline_from_the_same_log():
    log = clock(office(4 * HOUR), sh(2026, 2, 13, 17))
    reopened_monday = BusinessCalendar("Asia/Shanghai", weekdays(CN_DAY))

    assert state(log, sh(2026, 2, 13, 17), {"cn": reopened_monday}).due_at == sh(2026, 2, 16, 12)
    assert state(log, sh(2026, 2, 13, 17)).due_at == sh(2026, 2, 17, 12)


def test_a_business_target_on_a_calendar_not_given_is_an_error():
    with pytest.raises(LookupError, match="cn"):
        state(clock(office(HOUR), sh(2026, 3, 2, 9)), sh(2026, 3, 2, 10), {})


def test_the_log_is_read_as_of_now():
    log = clock(office(4 * HOUR), sh(2026, 3, 2, 9), (K.FULFIL, sh(2026, 3, 2, 12)))

    assert state(log, sh(2026, 3, 2, 11)).phase is Phase.RUNNING
    assert state(log, sh(2026, 3, 2, 12)).fulfilled_at == sh(2026, 3, 2, 12)


def test_events_that_change_nothing_are_passed_over():
    clean = clock(office(4 * HOUR), sh(2026, 3, 2, 9), (K.PAUSE, sh(2026, 3, 2, 10)), (K.RESUME, sh(2026, 3, 2, 11)))
    noisy = [
        ClockEvent(K.FULFIL, sh(2026, 3, 2, 8), METRIC),
        *clean[:2],
        ClockEvent(K.RESUME, sh(2026, 3, 2, 9, 30), METRIC),
        clean[2],
        ClockEvent(K.PAUSE, sh(2026, 3, 2, 10, 30), METRIC),
        clean[3],
    ]

    assert state(noisy, sh(2026, 3, 2, 15)) == state(clean, sh(2026, 3, 2, 15))


def test_a_log_read_back_with_plain_kinds_derives_the_same():
    log = clock(office(4 * HOUR), sh(2026, 3, 2, 9), (K.PAUSE, sh(2026, 3, 2, 10)))
    stored = [ClockEvent(e.kind.value, e.at, e.metric, e.target, e.warning, e.policy_key) for e in log]  # type: ignore[arg-type]

    assert stored[2].kind is K.PAUSE
    assert state(stored, sh(2026, 3, 2, 11)) == state(log, sh(2026, 3, 2, 11))


def test_a_clock_without_target_runs_but_never_falls_due():
    now = state(clock(None, sh(2026, 3, 2, 9)), sh(2026, 3, 9, 9))

    assert (now.phase, now.due_at, now.remaining_seconds, now.breached, now.pending_at) == (
        Phase.RUNNING,
        None,
        None,
        False,
        None,
    )


# Re-targeting mid-flight


def test_a_stricter_target_counts_the_time_already_spent():
    log = [*clock(office(8 * HOUR), sh(2026, 3, 2, 9)), retarget(sh(2026, 3, 2, 11), office(4 * HOUR))]

    now = state(log, sh(2026, 3, 2, 11))

    assert (now.due_at, now.remaining_seconds, now.policy_key) == (sh(2026, 3, 2, 14, 30), 2 * HOUR, "stricter")
    assert state(log[:2], sh(2026, 3, 2, 11)).due_at == sh(2026, 3, 3, 9, 30)  # before it: 8 h, Tuesday 09:30


def test_a_target_already_used_up_is_breached_at_the_instant_it_was_crossed():
    log = [*clock(office(8 * HOUR), sh(2026, 3, 2, 9)), retarget(sh(2026, 3, 2, 11), office(HOUR))]

    now = state(log, sh(2026, 3, 2, 11))

    assert (now.breached, now.breached_at, now.due_at, now.failed_by) == (
        True,
        sh(2026, 3, 2, 10),
        sh(2026, 3, 2, 10),
        HOUR,
    )
    assert now.remaining_seconds == -HOUR


# Warning and breach instants


def test_the_warning_falls_at_its_share_of_the_target_and_the_breach_at_the_deadline():
    log = clock(office(2 * HOUR), sh(2026, 3, 2, 9), warning=WarningRule(share=0.8))

    before, warning = state(log, sh(2026, 3, 2, 10, 35, 59)), state(log, sh(2026, 3, 2, 10, 36))
    due, later = state(log, sh(2026, 3, 2, 11)), state(log, sh(2026, 3, 2, 11, 0, 30))

    assert (before.warn_at, before.warned, warning.warned) == (sh(2026, 3, 2, 10, 36), False, True)
    assert not warning.breached
    assert (due.breached, due.breached_at, due.due_at, due.failed_by, due.remaining_seconds) == (
        True,
        sh(2026, 3, 2, 11),
        sh(2026, 3, 2, 11),
        0,
        0,
    )
    assert (later.failed_by, later.remaining_seconds, later.breached_at) == (30, -30, sh(2026, 3, 2, 11))


def test_a_warning_in_minutes_before_the_deadline_counts_business_minutes():
    log = clock(office(2 * HOUR), sh(2026, 3, 2, 11), warning=WarningRule(minutes=60))

    now = state(log, sh(2026, 3, 2, 11))

    assert (now.due_at, now.warn_at) == (sh(2026, 3, 2, 14, 30), sh(2026, 3, 2, 12))


def test_a_fulfilment_at_the_deadline_is_on_time_and_one_second_later_is_late():
    on_time = clock(office(2 * HOUR), sh(2026, 3, 2, 9), (K.FULFIL, sh(2026, 3, 2, 11)))
    late = clock(office(2 * HOUR), sh(2026, 3, 2, 9), (K.FULFIL, sh(2026, 3, 2, 11, 0, 1)))

    met, missed = state(on_time, sh(2026, 3, 2, 15)), state(late, sh(2026, 3, 2, 15))

    assert (met.breached, met.failed_by, met.remaining_seconds, met.due_at) == (False, 0, 0, None)
    assert (missed.breached, missed.breached_at, missed.failed_by, missed.remaining_seconds) == (
        True,
        sh(2026, 3, 2, 11),
        1,
        -1,
    )
    assert missed.pending_at is None  # done: nothing left to escalate


def test_a_clock_due_at_closing_is_late_overnight_though_no_business_time_passes():
    log = clock(office(4 * HOUR), sh(2026, 2, 13, 14))

    saturday, tuesday = state(log, sh(2026, 2, 14, 10)), state(log, sh(2026, 2, 17, 9, 30))
    answered_saturday = state([*log, ClockEvent(K.FULFIL, sh(2026, 2, 14, 10), METRIC)], sh(2026, 2, 17, 9, 30))

    assert (saturday.breached, saturday.breached_at, saturday.remaining_seconds, saturday.failed_by) == (
        True,
        sh(2026, 2, 13, 18),
        0,
        0,
    )
    assert tuesday.failed_by == 1800
    assert (answered_saturday.breached, answered_saturday.failed_by) == (True, 0)


def test_a_cancelled_clock_is_missed_only_if_it_was_late_before_it_stopped_applying():
    early = clock(office(2 * HOUR), sh(2026, 3, 2, 9), (K.CANCEL, sh(2026, 3, 2, 10)))
    late = clock(office(2 * HOUR), sh(2026, 3, 2, 9), (K.CANCEL, sh(2026, 3, 2, 12)))

    stopped, missed = state(early, sh(2026, 3, 3, 9)), state(late, sh(2026, 3, 3, 9))

    assert (stopped.phase, stopped.cancelled_at, stopped.breached, stopped.pending_at) == (
        Phase.CANCELLED,
        sh(2026, 3, 2, 10),
        False,
        None,
    )
    assert (missed.breached, missed.breached_at, missed.failed_by) == (True, sh(2026, 3, 2, 11), HOUR)


# What the timer scan acts on


def test_the_scan_acts_on_the_warning_then_the_breach_then_nothing():
    log = clock(office(2 * HOUR), sh(2026, 3, 2, 9), warning=WarningRule(share=0.5))
    warned = [*log, ClockEvent(K.WARN, sh(2026, 3, 2, 10), METRIC)]
    escalated = [*warned, ClockEvent(K.BREACH, sh(2026, 3, 2, 11), METRIC)]

    assert state(log, sh(2026, 3, 2, 9)).pending_at == sh(2026, 3, 2, 10)
    assert state(warned, sh(2026, 3, 2, 10)).pending_at == sh(2026, 3, 2, 11)
    assert state(escalated, sh(2026, 3, 2, 11)).pending_at is None
    assert state(log, sh(2026, 3, 2, 12)).pending_at == sh(2026, 3, 2, 10)  # the scan was late: both are overdue


def test_a_clock_paused_after_its_deadline_still_owes_its_escalation():
    log = clock(office(HOUR), sh(2026, 3, 2, 9), (K.PAUSE, sh(2026, 3, 2, 11)))
    stopped_in_time = clock(office(2 * HOUR), sh(2026, 3, 2, 9), (K.PAUSE, sh(2026, 3, 2, 9, 30)))

    late = state(log, sh(2026, 3, 2, 15))

    assert (late.paused, late.breached, late.breached_at, late.pending_at) == (
        True,
        True,
        sh(2026, 3, 2, 10),
        sh(2026, 3, 2, 10),
    )
    assert state(stopped_in_time, sh(2026, 3, 2, 15)).pending_at is None


def test_next_due_is_the_earliest_pending_instant_of_all_metrics():
    first = state(clock(office(2 * HOUR), sh(2026, 3, 2, 9), warning=WarningRule(share=0.5)), sh(2026, 3, 2, 9))
    second = state(clock(office(HOUR), sh(2026, 3, 2, 9, 30)), sh(2026, 3, 2, 9, 30))
    done = state(clock(office(HOUR), sh(2026, 3, 2, 8), (K.FULFIL, sh(2026, 3, 2, 8))), sh(2026, 3, 2, 9))

    assert next_due([first, second, done]) == sh(2026, 3, 2, 10)
    assert next_due([second, done]) == sh(2026, 3, 2, 10, 30)
    assert next_due([done]) is None


def test_each_cycle_warns_and_breaches_on_its_own():
    log = [
        *clock(office(HOUR), sh(2026, 3, 2, 9)),
        ClockEvent(K.BREACH, sh(2026, 3, 2, 10), METRIC),
        ClockEvent(K.FULFIL, sh(2026, 3, 2, 11), METRIC),
        ClockEvent(K.ACTIVATE, sh(2026, 3, 2, 14), METRIC),
    ]

    cycles = history(log, CALENDARS, sh(2026, 3, 2, 14))

    assert [(c.cycle, c.phase, c.breached, c.breach_logged) for c in cycles] == [
        (1, Phase.FULFILLED, True, True),
        (2, Phase.RUNNING, False, False),
    ]
    assert cycles[1].due_at == cycles[1].pending_at == sh(2026, 3, 2, 15)
    assert derive(log, CALENDARS, sh(2026, 3, 2, 14)) == cycles[1]


# The events a ticket's history appends

STANDARD = SlaPolicy(
    "standard",
    "Standard",
    100,
    Subject.TICKET,
    targets={
        FIRST_REPLY: {"normal": office(4 * HOUR), "urgent": office(2 * HOUR)},
        NEXT_REPLY: {"normal": office(4 * HOUR)},
        PERIODIC_UPDATE: {"normal": office(16 * HOUR)},
        RESOLUTION: {"normal": office(24 * HOUR), "urgent": office(8 * HOUR)},
        state_metric("in_progress"): {"normal": office(48 * HOUR)},
    },
)


class History:
    """A subject's clock log, grown one change at a time as a service would."""

    def __init__(self, policy: SlaPolicy | None) -> None:
        self.policy, self.log, self.last = policy, [], []

    def ticket(self, at: datetime, status: str, **kw: object) -> list[tuple[str, str]]:
        kw.setdefault("priority", "normal")
        self.last = ticket_clock_events(TicketChange(at, status, **kw), self.policy, self.log)  # type: ignore[arg-type]
        self.log.extend(self.last)
        return [(event.kind.value, event.metric) for event in self.last]

    def order(self, at: datetime, status: str, kind: AfterSalesType, **kw: object) -> list[tuple[str, str]]:
        self.last = after_sales_clock_events(AfterSalesChange(at, status, kind, **kw), self.policy, self.log)  # type: ignore[arg-type]
        self.log.extend(self.last)
        return [(event.kind.value, event.metric) for event in self.last]

    def kinds(self, metric: str) -> list[str]:
        return [event.kind.value for event in self.log if event.metric == metric]

    def at(self, now: datetime) -> dict[str, MetricState]:
        return derive_all(self.log, CALENDARS, now)


def test_a_tickets_life_from_creation_through_a_reopening_to_closure():
    ticket = History(STANDARD)

    created = ticket.ticket(sh(2026, 2, 12, 17), "new", created=True)
    ticket.ticket(sh(2026, 2, 13, 9, 30), "assigned", previous_status="new")
    ticket.ticket(sh(2026, 2, 13, 10), "in_progress", previous_status="assigned")
    ticket.ticket(sh(2026, 2, 13, 10, 30), "in_progress", agent_replied=True)
    asked = ticket.ticket(sh(2026, 2, 13, 11), "waiting_on_customer", previous_status="in_progress", agent_replied=True)
    waiting = ticket.at(sh(2026, 2, 14, 12))
    answered = ticket.ticket(
        sh(2026, 2, 17, 10), "in_progress", previous_status="waiting_on_customer", customer_messaged=True
    )
    ticket.ticket(sh(2026, 2, 17, 11), "in_progress", agent_replied=True)
    ticket.ticket(sh(2026, 2, 17, 15), "pending_follow_up", previous_status="in_progress", agent_replied=True)
    ticket.ticket(sh(2026, 2, 18, 10), "completed", previous_status="pending_follow_up")
    reopened = ticket.ticket(sh(2026, 2, 18, 14), "assigned", previous_status="completed", customer_messaged=True)
    ticket.ticket(sh(2026, 2, 19, 9), "in_progress", previous_status="assigned")
    ticket.ticket(sh(2026, 2, 19, 9, 30), "in_progress", agent_replied=True)
    ticket.ticket(sh(2026, 2, 19, 16), "pending_follow_up", previous_status="in_progress")
    closed = ticket.ticket(sh(2026, 2, 20, 10), "closed", previous_status="pending_follow_up")
    end = ticket.at(sh(2026, 2, 23, 9))

    assert created == [
        ("apply_policy", FIRST_REPLY),
        ("activate", FIRST_REPLY),
        ("apply_policy", RESOLUTION),
        ("activate", RESOLUTION),
        ("activate", "state:new"),  # untargeted: the log names the policy already
    ]
    assert sorted(asked) == sorted(
        [
            ("fulfil", "state:in_progress"),
            ("activate", "state:waiting_on_customer"),
            ("fulfil", PERIODIC_UPDATE),
            ("activate", PERIODIC_UPDATE),
            ("pause", PERIODIC_UPDATE),
            ("pause", RESOLUTION),
        ]
    )
    assert (waiting[RESOLUTION].paused, waiting[PERIODIC_UPDATE].paused, waiting[FIRST_REPLY].phase) == (
        True,
        True,
        Phase.FULFILLED,
    )
    assert ("activate", NEXT_REPLY) in answered and ("resume", RESOLUTION) in answered
    assert ("activate", RESOLUTION) in reopened and ("activate", NEXT_REPLY) in reopened
    assert ("activate", FIRST_REPLY) not in reopened  # it was given once
    assert closed == [("fulfil", "state:pending_follow_up")]

    assert ticket.kinds(FIRST_REPLY) == ["apply_policy", "activate", "fulfil"]
    assert end[FIRST_REPLY].consumed_seconds == 2 * HOUR + 1800  # Thu 17-18, Fri 09-10:30
    assert ticket.kinds(RESOLUTION) == ["apply_policy", "activate", "pause", "resume", "fulfil", "activate", "fulfil"]
    first_resolution, second_resolution = history(by_metric(ticket.log)[RESOLUTION], CALENDARS, sh(2026, 2, 23, 9))
    assert first_resolution.consumed_seconds == 6 * HOUR + 1800  # Thu 17-18; Fri 9-11; Tue 10-15 less lunch
    assert (second_resolution.started_at, second_resolution.fulfilled_at) == (sh(2026, 2, 18, 14), sh(2026, 2, 19, 16))
    assert second_resolution.consumed_seconds == 9 * HOUR + 1800  # Wed 14-18; Thu 9-16 less lunch
    # The reopening's message waited Wed 14:00-18:00 and Thu 09:00-09:30: half an hour late.
    assert (end[NEXT_REPLY].cycle, end[NEXT_REPLY].breached, end[NEXT_REPLY].failed_by) == (2, True, 1800)
    assert end[NEXT_REPLY].breached_at == sh(2026, 2, 18, 18)
    assert ticket.kinds(PERIODIC_UPDATE) == [
        *("apply_policy", "activate", "fulfil", "activate", "pause", "resume", "fulfil", "activate", "cancel"),
        *("activate", "cancel"),
    ]
    visits = history(by_metric(ticket.log)["state:in_progress"], CALENDARS, sh(2026, 2, 23, 9))
    assert [visit.consumed_seconds for visit in visits] == [HOUR, 3 * HOUR + 1800, 5 * HOUR + 1800]
    assert all(s.phase in (Phase.FULFILLED, Phase.CANCELLED) for s in end.values())
    assert next_due(end.values()) is None


def test_visits_to_a_limited_status_are_timed_one_by_one():
    ticket = History(STANDARD)
    ticket.ticket(sh(2026, 3, 2, 9), "in_progress", created=True)
    ticket.ticket(sh(2026, 3, 2, 10), "waiting_on_customer", previous_status="in_progress", agent_replied=True)
    ticket.ticket(sh(2026, 3, 4, 9), "in_progress", previous_status="waiting_on_customer", customer_messaged=True)

    visits = history(by_metric(ticket.log)["state:in_progress"], CALENDARS, sh(2026, 3, 4, 10))

    assert [(v.phase, v.consumed_seconds) for v in visits] == [(Phase.FULFILLED, HOUR), (Phase.RUNNING, HOUR)]
    assert visits[1].due_at == CN.add(sh(2026, 3, 4, 9), 48 * HOUR)


def test_raising_the_priority_retargets_from_the_tickets_creation():
    ticket = History(STANDARD)
    ticket.ticket(sh(2026, 3, 2, 9), "new", created=True)

    raised = ticket.ticket(sh(2026, 3, 2, 10), "new", priority="urgent")
    now = ticket.at(sh(2026, 3, 2, 10))

    assert raised == [("apply_policy", FIRST_REPLY), ("apply_policy", RESOLUTION)]
    assert now[FIRST_REPLY].due_at == sh(2026, 3, 2, 11)  # 2 h counted from 09:00, not from the change
    assert now[RESOLUTION].due_at == CN.add(sh(2026, 3, 2, 9), 8 * HOUR)
    assert ticket.ticket(sh(2026, 3, 2, 10, 5), "new", priority="urgent") == []  # nothing new: nothing appended


def test_a_policy_that_measures_nothing_at_the_priority_is_still_the_one_the_log_names():
    ticket = History(STANDARD)
    ticket.ticket(sh(2026, 3, 2, 9), "new", created=True)
    ticket.policy = SlaPolicy("quiet", "Quiet", 10, Subject.TICKET, {"vip": {True}}, {})

    rematched = ticket.ticket(sh(2026, 3, 2, 9, 30), "new")

    assert rematched[0][0] == "apply_policy"  # one event names the new policy, on the first clock it reaches
    assert [e.policy_key for e in ticket.log if e.kind is ClockEventKind.APPLY_POLICY][-1] == "quiet"


def test_a_new_policy_is_recorded_on_the_running_clocks():
    ticket = History(STANDARD)
    ticket.ticket(sh(2026, 3, 2, 9), "new", created=True)
    ticket.policy = SlaPolicy(
        "vip", "VIP", 10, Subject.TICKET, {"vip": {True}}, {FIRST_REPLY: {"normal": office(HOUR)}}
    )

    rematched = ticket.ticket(sh(2026, 3, 2, 9, 30), "new")
    now = ticket.at(sh(2026, 3, 2, 9, 30))

    assert rematched == [("apply_policy", FIRST_REPLY), ("apply_policy", RESOLUTION)]
    assert (now[FIRST_REPLY].policy_key, now[FIRST_REPLY].due_at) == ("vip", sh(2026, 3, 2, 10))
    assert (now[RESOLUTION].policy_key, now[RESOLUTION].target_seconds, now[RESOLUTION].due_at) == ("vip", None, None)


def test_clocks_run_without_a_policy_and_a_later_one_counts_from_their_start():
    ticket = History(None)
    created = ticket.ticket(sh(2026, 3, 2, 9), "new", created=True)
    ticket.policy = STANDARD

    ticket.ticket(sh(2026, 3, 2, 12), "new")

    assert created == [("activate", FIRST_REPLY), ("activate", RESOLUTION), ("activate", "state:new")]
    assert ticket.at(sh(2026, 3, 2, 12))[FIRST_REPLY].due_at == sh(2026, 3, 2, 14, 30)


def test_messages_before_the_first_reply_are_covered_by_it():
    ticket = History(STANDARD)
    ticket.ticket(sh(2026, 3, 2, 9), "new", created=True, customer_messaged=True)

    assert ticket.ticket(sh(2026, 3, 2, 9, 10), "new", customer_messaged=True) == []
    assert ticket.kinds(NEXT_REPLY) == []


def test_further_messages_do_not_restart_the_reply_owed():
    ticket = History(STANDARD)
    ticket.ticket(sh(2026, 3, 2, 9), "in_progress", created=True)
    ticket.ticket(sh(2026, 3, 2, 9, 5), "in_progress", agent_replied=True)
    ticket.ticket(sh(2026, 3, 2, 10), "in_progress", customer_messaged=True)
    ticket.ticket(sh(2026, 3, 2, 11), "in_progress", customer_messaged=True)

    assert ticket.at(sh(2026, 3, 2, 11))[NEXT_REPLY].started_at == sh(2026, 3, 2, 10)


def test_a_ticket_closed_unanswered_owes_its_first_reply_again_when_reopened():
    ticket = History(STANDARD)
    ticket.ticket(sh(2026, 3, 2, 9), "new", created=True)
    closed = ticket.ticket(sh(2026, 3, 2, 10), "closed", previous_status="new")

    reopened = ticket.ticket(sh(2026, 3, 3, 9), "new", previous_status="closed")

    assert sorted(closed) == sorted([("fulfil", "state:new"), ("cancel", FIRST_REPLY), ("cancel", RESOLUTION)])
    assert ("activate", FIRST_REPLY) in reopened
    assert ticket.at(sh(2026, 3, 3, 9))[FIRST_REPLY].due_at == sh(2026, 3, 3, 14, 30)


def test_a_reply_while_waiting_on_the_customer_restarts_the_update_clock_paused():
    ticket = History(STANDARD)
    ticket.ticket(sh(2026, 3, 2, 9), "in_progress", created=True)
    ticket.ticket(sh(2026, 3, 2, 9, 5), "waiting_on_customer", previous_status="in_progress", agent_replied=True)

    again = ticket.ticket(sh(2026, 3, 3, 9), "waiting_on_customer", agent_replied=True)

    assert again == [("fulfil", PERIODIC_UPDATE), ("activate", PERIODIC_UPDATE), ("pause", PERIODIC_UPDATE)]


def test_a_policys_own_pauses_replace_the_defaults_of_the_metrics_it_names():
    never_paused = SlaPolicy("p", "P", 1, Subject.TICKET, targets=STANDARD.targets, pauses={RESOLUTION: set()})
    ticket = History(never_paused)
    ticket.ticket(sh(2026, 3, 2, 9), "in_progress", created=True)
    asked = ticket.ticket(
        sh(2026, 3, 2, 9, 5), "waiting_on_customer", previous_status="in_progress", agent_replied=True
    )

    assert ("pause", RESOLUTION) not in asked
    assert ("pause", PERIODIC_UPDATE) in asked


# The events an after-sales order's history appends

AFTER_SALES = SlaPolicy(
    "after-sales",
    "After-sales",
    100,
    Subject.AFTER_SALES,
    targets={REVIEW: {"normal": office(4 * HOUR)}, REFUND_COMPLETION: {"normal": Target(72 * HOUR, business=False)}},
)


def test_a_return_is_reviewed_then_refunded_the_customers_turn_not_counted():
    order = History(AFTER_SALES)
    kind = AfterSalesType.RETURN_REFUND
    order.order(sh(2026, 3, 2, 9), "under_review", kind, created=True)
    approved = order.order(sh(2026, 3, 2, 10), "awaiting_return", kind, previous_status="under_review")
    order.order(sh(2026, 3, 3, 10), "returning", kind, previous_status="awaiting_return")
    order.order(sh(2026, 3, 4, 10), "received", kind, previous_status="returning")
    order.order(sh(2026, 3, 4, 11), "refunding", kind, previous_status="received")
    order.order(sh(2026, 3, 5, 9), "refunded", kind, previous_status="refunding")

    end = order.at(sh(2026, 3, 9, 9))

    assert ("fulfil", REVIEW) in approved and ("pause", REFUND_COMPLETION) in approved
    assert (end[REVIEW].consumed_seconds, end[REVIEW].breached) == (HOUR, False)
    assert order.kinds(REFUND_COMPLETION) == ["apply_policy", "activate", "pause", "resume", "fulfil"]
    assert (end[REFUND_COMPLETION].consumed_seconds, end[REFUND_COMPLETION].breached) == (47 * HOUR, False)
    assert next_due(end.values()) is None


def test_an_order_approved_as_it_is_submitted_is_reviewed_in_no_time():
    order = History(AFTER_SALES)

    order.order(sh(2026, 3, 2, 9), "refunding", AfterSalesType.REFUND, created=True)
    now = order.at(sh(2026, 3, 2, 9))

    assert (now[REVIEW].phase, now[REVIEW].consumed_seconds) == (Phase.FULFILLED, 0)
    assert now[REFUND_COMPLETION].due_at == sh(2026, 3, 5, 9)
    assert now[state_metric("refunding")].phase is Phase.RUNNING


def test_a_withdrawn_request_cancels_its_review_and_a_rejected_one_ends_it():
    withdrawn, rejected = History(AFTER_SALES), History(AFTER_SALES)
    for order in (withdrawn, rejected):
        order.order(sh(2026, 3, 2, 9), "under_review", AfterSalesType.REFUND, created=True)

    withdrawn.order(sh(2026, 3, 2, 10), "cancelled", AfterSalesType.REFUND, previous_status="under_review")
    rejected.order(sh(2026, 3, 2, 10), "rejected", AfterSalesType.REFUND, previous_status="under_review")

    assert withdrawn.kinds(REVIEW)[-1] == "cancel"
    assert rejected.kinds(REVIEW)[-1] == "fulfil"
    assert rejected.kinds(REFUND_COMPLETION) == []


def test_goods_sent_again_owe_no_refund():
    order = History(AFTER_SALES)
    order.order(sh(2026, 3, 2, 9), "under_review", AfterSalesType.REPLENISH, created=True)

    approved = order.order(sh(2026, 3, 2, 10), "replenishing", AfterSalesType.REPLENISH, previous_status="under_review")

    assert approved == [("fulfil", "state:under_review"), ("fulfil", REVIEW), ("activate", "state:replenishing")]


def test_the_sla_state_names_are_the_workflows():
    after_sales = list(AFTER_SALES_WORKFLOWS.values())
    ticket_names = {s.name for s in TICKET.states}

    assert {s.name for s in TICKET.states if s.final} == TICKET_FINAL
    assert ticket_names >= TICKET_RESOLVED
    assert {s.name for w in after_sales for s in w.states if s.final} == AFTER_SALES_FINAL
    assert {w.initial for w in after_sales} == {AFTER_SALES_REVIEW}
    assert {s.name for w in after_sales for s in w.states} >= AFTER_SALES_PAID


# The customer's promise


def test_the_promise_is_the_deadline_in_the_customers_words():
    first = state(clock(office(4 * HOUR + 1800), sh(2026, 12, 3, 13, 30)), sh(2026, 12, 3, 13, 30))

    assert promise(first, "zh-CN", SH) == "预计 12月3日 18:00 前回复"
    assert promise(first, "en", SH) == "We will reply by 3 Dec, 18:00"
    assert promise(first, "en", UTC_ZONE) == "We will reply by 3 Dec, 10:00"


def test_the_resolution_promise_rounds_up_to_the_minute_and_names_a_new_year():
    log = [
        ClockEvent(K.APPLY_POLICY, sh(2026, 12, 31, 9), RESOLUTION, office(8 * HOUR + 1)),
        ClockEvent(K.ACTIVATE, sh(2026, 12, 31, 9), RESOLUTION),
    ]
    resolution = derive(log, CALENDARS, sh(2026, 12, 31, 9))

    assert resolution.due_at == sh(2027, 1, 1, 9, 30, 1)  # 1 January is a working day on this calendar
    assert promise(resolution, "zh-CN", SH) == "预计 2027年1月1日 09:31 前解决"
    assert promise(resolution, "en", SH) == "We aim to resolve this by 1 Jan 2027, 09:31"


def test_no_promise_is_made_while_paused_when_late_or_for_internal_clocks():
    paused = state(clock(office(HOUR), sh(2026, 3, 2, 9), (K.PAUSE, sh(2026, 3, 2, 9, 30))), sh(2026, 3, 2, 10))
    late = state(clock(office(HOUR), sh(2026, 3, 2, 9)), sh(2026, 3, 2, 11))
    update = derive(
        [
            ClockEvent(K.APPLY_POLICY, sh(2026, 3, 2, 9), PERIODIC_UPDATE, office(HOUR)),
            ClockEvent(K.ACTIVATE, sh(2026, 3, 2, 9), PERIODIC_UPDATE),
        ],
        CALENDARS,
        sh(2026, 3, 2, 9),
    )

    assert [promise(s, "en", SH) for s in (paused, late, update)] == [None, None, None]


def test_the_customer_is_promised_the_reply_owed_before_the_resolution():
    ticket = History(STANDARD)
    ticket.ticket(sh(2026, 3, 2, 9), "in_progress", created=True)
    ticket.ticket(sh(2026, 3, 2, 9, 5), "in_progress", agent_replied=True)
    ticket.ticket(sh(2026, 3, 2, 10), "in_progress", customer_messaged=True)

    assert customer_promise(ticket.at(sh(2026, 3, 2, 10)), "en", {}, SH) == "We will reply by 2 Mar, 15:30"
    assert customer_promise(ticket.at(sh(2026, 3, 2, 9, 5)), "en", {}, SH) == "We aim to resolve this by 5 Mar, 10:30"


def test_each_promise_is_told_in_the_zone_of_its_own_metric():
    ticket = History(STANDARD)
    ticket.ticket(sh(2026, 3, 2, 9), "in_progress", created=True)
    ticket.ticket(sh(2026, 3, 2, 9, 5), "in_progress", agent_replied=True)
    states = ticket.at(sh(2026, 3, 2, 9, 5))
    new_york = ZoneInfo("America/New_York")

    told = customer_promise(states, "en", {"first_reply": new_york}, SH)
    own = customer_promise(states, "en", {"resolution": new_york}, SH)

    assert told == "We aim to resolve this by 5 Mar, 10:30"  # the first reply's zone does not tell the resolution
    assert own == "We aim to resolve this by 4 Mar, 21:30"


# Laws of derive on any log

START = sh(2026, 2, 9)  # the Monday a week before the closed one


@st.composite
def running_logs(draw: st.DrawFn) -> tuple[list[ClockEvent], list[tuple[datetime, datetime]], datetime]:
    """A running clock's log with its pause intervals and a `now` after the last resume."""
    start = START + timedelta(seconds=draw(st.integers(0, 14 * DAY)))
    gaps = draw(st.lists(st.integers(1, 3 * DAY), max_size=8).map(lambda g: g[: len(g) - len(g) % 2]))
    points, at = [], start
    for gap in gaps:
        at += timedelta(seconds=gap)
        points.append(at)
    pauses = list(zip(points[::2], points[1::2], strict=True))
    now = (points[-1] if points else start) + timedelta(seconds=draw(st.integers(0, 3 * DAY)))
    target = office(draw(st.integers(1, 40 * HOUR)))
    return _log(target, start, pauses), pauses, now


def _log(target: Target, start: datetime, pauses: list[tuple[datetime, datetime]]) -> list[ClockEvent]:
    moves = [move for pause, resume in pauses for move in ((K.PAUSE, pause), (K.RESUME, resume))]
    return clock(target, start, *moves, warning=WarningRule(share=0.8))


def _running_spans(log: list[ClockEvent], now: datetime) -> list[tuple[datetime, datetime]]:
    stops = [e.at for e in log if e.kind in (K.ACTIVATE, K.PAUSE, K.RESUME)] + [now]
    return [(stops[i], stops[i + 1]) for i in range(0, len(stops) - 1, 2)]


@settings(max_examples=150, deadline=None)
@given(running_logs(), st.data())
def test_adding_a_pause_never_brings_the_deadline_forward(drawn, data):
    log, pauses, now = drawn
    start = log[0].at
    spans = _running_spans(log, now)
    span_start, span_end = data.draw(st.sampled_from(spans))
    pause_at = span_start + timedelta(seconds=data.draw(st.integers(0, int((span_end - span_start).total_seconds()))))
    resume_at = pause_at + timedelta(seconds=data.draw(st.integers(0, int((span_end - pause_at).total_seconds()))))

    more = _log(log[0].target, start, sorted([*pauses, (pause_at, resume_at)]))  # type: ignore[arg-type]

    assert state(more, now).due_at >= state(log, now).due_at


@settings(max_examples=150, deadline=None)
@given(running_logs())
def test_consumed_time_is_the_business_time_of_the_running_spans_and_never_more_than_elapsed(drawn):
    log, _pauses, now = drawn
    now_state = state(log, now)
    spans = _running_spans(log, now)

    assert now_state.consumed_seconds == sum(CN.elapsed(a, b) for a, b in spans)
    assert now_state.consumed_seconds <= (now - log[0].at).total_seconds()


@settings(max_examples=150, deadline=None)
@given(running_logs())
def test_remaining_and_consumed_make_the_target_and_the_deadline_is_where_they_meet(drawn):
    log, _pauses, now = drawn
    now_state = state(log, now)
    target = log[0].target.seconds  # type: ignore[union-attr]
    *earlier, (last_start, _now) = _running_spans(log, now)
    before = sum(CN.elapsed(a, b) for a, b in earlier)

    assert now_state.remaining_seconds + now_state.consumed_seconds == target
    if before < target:
        assert before + CN.elapsed(last_start, now_state.due_at) == target
        assert now_state.breached == (now >= now_state.due_at)


@settings(max_examples=100, deadline=None)
@given(running_logs(), st.data())
def test_derive_is_pure_and_any_past_instant_is_rederived_from_the_log(drawn, data):
    log, _pauses, now = drawn
    start = log[0].at
    earlier = start + timedelta(seconds=data.draw(st.integers(0, int((now - start).total_seconds()))))
    shuffled = log[2:]
    random.Random(data.draw(st.integers(0, 2**32))).shuffle(shuffled)

    first = state(log, now)
    state(log, earlier)
    assert state(log, now) == first
    assert state([*log[:2], *shuffled], now) == first  # distinct instants: read in time order whatever the order
    assert state([e for e in log if e.at <= earlier], earlier) == state(log, earlier)
