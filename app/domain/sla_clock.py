"""SLA clocks as append-only event logs: one log per subject and metric, from which the deadline, the time left, the
warning point and any breach are derived at any instant. Nothing is stored that the log does not imply, so a policy
change mid-flight re-targets from the original start (time already spent stays spent), and an edited business
calendar simply derives differently from the same log.

A clock runs in cycles: `activate` starts one (a first reply owed, a visit to a status, a reopened ticket), `pause` and
`resume` stop and restart it, `fulfil` or `cancel` ends it; the next `activate` starts the next cycle. `apply_policy`
sets the target in force, for the open cycle and those after it. `warn` and `breach` record that the timer scan
acted on the cycle (notified, escalated), so it acts once; the instants themselves are always derived.

Time is whole seconds. Consumed time is the business time of the running spans, each counted with
`calendar.elapsed`; the deadline is the instant at which consumed time reaches the target. A clock is breached when
its deadline is reached while it runs, or when it ends after its deadline: a fulfilment at the deadline's own
second is on time, and a clock due Friday 18:00 is breached from then on even though no business time passes until
Monday (remaining 0, failed_by 0 until the office opens).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from app.domain.business_time import BusinessCalendar, NoBusinessTime
from app.domain.sla_policies import Target, WarningRule


class ClockEventKind(StrEnum):
    APPLY_POLICY = "apply_policy"
    ACTIVATE = "activate"
    PAUSE = "pause"
    RESUME = "resume"
    FULFIL = "fulfil"
    WARN = "warn"
    BREACH = "breach"
    CANCEL = "cancel"


@dataclass(frozen=True, slots=True)
class ClockEvent:
    """One entry of a metric's log. `apply_policy` carries the policy's target for the subject (None: the policy does
    not measure this metric here, the clock runs without a deadline), its warning rule and its key; the other kinds
    carry only when. `warn`/`breach` are written by the timer scan when it notifies, at the time it does."""

    kind: ClockEventKind
    at: datetime
    metric: str
    target: Target | None = None
    warning: WarningRule | None = None
    policy_key: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ClockEventKind(self.kind))


class Phase(StrEnum):
    IDLE = "idle"  # never activated
    RUNNING = "running"
    PAUSED = "paused"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"  # the metric stopped applying (closed without it), neither met nor missed by that


ACTIVE = frozenset({Phase.RUNNING, Phase.PAUSED})


@dataclass(frozen=True, slots=True)
class ClockView:
    """What a clock is doing according to its log alone (no calendar needed): what the event producers decide on."""

    phase: Phase = Phase.IDLE
    target: Target | None = None
    warning: WarningRule | None = None
    policy_key: str | None = None
    cycles: int = 0
    ever_fulfilled: bool = False


@dataclass(frozen=True, slots=True)
class MetricState:
    """A metric's current cycle as of `as_of`. Seconds are in the target's own time (business seconds for a business
    target). `due_at` is set only while running; `breached_at` is the deadline that was crossed, never when a scan
    noticed; `failed_by` is how late, at the end of the cycle or now; `pending_at` is the instant the timer scan must
    next act on (a warning or breach not yet recorded by `warn`/`breach`), in the past when it is overdue."""

    metric: str
    phase: Phase
    as_of: datetime
    cycle: int = 0
    policy_key: str | None = None
    target_seconds: int | None = None
    business: bool | None = None
    calendar: str | None = None
    started_at: datetime | None = None
    paused: bool = False
    due_at: datetime | None = None
    remaining_seconds: int | None = None
    consumed_seconds: int | None = None
    fulfilled_at: datetime | None = None
    cancelled_at: datetime | None = None
    breached: bool = False
    breached_at: datetime | None = None
    failed_by: int = 0
    warn_at: datetime | None = None
    warned: bool = False
    warn_logged: bool = False
    breach_logged: bool = False
    pending_at: datetime | None = None


CALENDAR_TIME = BusinessCalendar.always_open()
"""The calendar of targets in calendar time: every second counts."""


def view(events: Iterable[ClockEvent]) -> ClockView:
    """The phase and target in force of one metric's log."""
    cycles, apply = _replay(events, None)
    return ClockView(
        phase=cycles[-1].phase if cycles else Phase.IDLE,
        target=apply.target if apply else None,
        warning=apply.warning if apply else None,
        policy_key=apply.policy_key if apply else None,
        cycles=len(cycles),
        ever_fulfilled=any(cycle.ended is Phase.FULFILLED for cycle in cycles),
    )


def views(log: Iterable[ClockEvent]) -> dict[str, ClockView]:
    """Every metric's view of a subject's whole log (all metrics mixed)."""
    return {metric: view(events) for metric, events in by_metric(log).items()}


def by_metric(log: Iterable[ClockEvent]) -> dict[str, list[ClockEvent]]:
    grouped: dict[str, list[ClockEvent]] = {}
    for event in log:
        grouped.setdefault(event.metric, []).append(event)
    return grouped


def derive(events: Sequence[ClockEvent], calendars: Mapping[str, BusinessCalendar], now: datetime) -> MetricState:
    """The state of one metric's current cycle at `now`, from its log; events after `now` are not yet seen, so the
    state at any past instant is re-derivable. Raises LookupError when a business target's calendar is missing."""
    return history(events, calendars, now)[-1]


def history(
    events: Sequence[ClockEvent], calendars: Mapping[str, BusinessCalendar], now: datetime
) -> list[MetricState]:
    """Every cycle of one metric at `now`, oldest first (reports: how many replies were late); an idle state when
    the clock never ran."""
    metrics = {event.metric for event in events}
    if len(metrics) != 1:
        raise ValueError(f"derive reads the log of one metric, not of {len(metrics)}")
    (metric,) = metrics
    now = _second(now)
    cycles, apply = _replay(events, now)
    if not cycles:
        return [_idle(metric, apply, now)]
    return [_state(metric, number, cycle, calendars, now) for number, cycle in enumerate(cycles, 1)]


def derive_all(
    log: Iterable[ClockEvent], calendars: Mapping[str, BusinessCalendar], now: datetime
) -> dict[str, MetricState]:
    """Every metric of a subject's log at `now`."""
    return {metric: derive(events, calendars, now) for metric, events in by_metric(log).items()}


def next_due(states: Iterable[MetricState]) -> datetime | None:
    """When the timer scan must next look at the subject: the earliest warning or breach not yet recorded, over all
    its metrics; in the past when one is overdue (a re-target moved it behind us), None when nothing can fall due."""
    return min((state.pending_at for state in states if state.pending_at is not None), default=None)


@dataclass
class _Span:
    start: datetime
    end: datetime | None = None  # None: running now


@dataclass
class _Cycle:
    started_at: datetime
    apply: ClockEvent | None
    spans: list[_Span] = field(default_factory=list)
    ended_at: datetime | None = None
    ended: Phase | None = None
    warn_logged: bool = False
    breach_logged: bool = False

    @property
    def phase(self) -> Phase:
        if self.ended is not None:
            return self.ended
        return Phase.RUNNING if self.spans[-1].end is None else Phase.PAUSED


def _replay(events: Iterable[ClockEvent], now: datetime | None) -> tuple[list[_Cycle], ClockEvent | None]:
    """The log's cycles and the `apply_policy` in force, reading events up to `now` in time order (equal times in
    log order). An event that changes nothing (a pause while paused, a fulfilment with no cycle open) is passed over."""
    seen = [(_second(event.at), event) for event in events]
    ordered = sorted((pair for pair in seen if now is None or pair[0] <= now), key=lambda pair: pair[0])
    cycles: list[_Cycle] = []
    apply: ClockEvent | None = None
    current: _Cycle | None = None
    for at, event in ordered:
        kind = event.kind
        open_ = current is not None and current.ended is None
        if kind is ClockEventKind.APPLY_POLICY:
            apply = event
            if current is not None and open_:
                current.apply = event
        elif kind is ClockEventKind.ACTIVATE:
            if not open_:
                current = _Cycle(at, apply, [_Span(at)])
                cycles.append(current)
        elif current is None or not open_:
            continue
        elif kind is ClockEventKind.PAUSE:
            if current.spans[-1].end is None:
                current.spans[-1].end = at
        elif kind is ClockEventKind.RESUME:
            if current.spans[-1].end is not None:
                current.spans.append(_Span(at))
        elif kind in (ClockEventKind.FULFIL, ClockEventKind.CANCEL):
            if current.spans[-1].end is None:
                current.spans[-1].end = at
            current.ended_at = at
            current.ended = Phase.FULFILLED if kind is ClockEventKind.FULFIL else Phase.CANCELLED
        elif kind is ClockEventKind.WARN:
            current.warn_logged = True
        elif kind is ClockEventKind.BREACH:
            current.breach_logged = True
    return cycles, apply


def _idle(metric: str, apply: ClockEvent | None, now: datetime) -> MetricState:
    target = apply.target if apply else None
    return MetricState(
        metric=metric,
        phase=Phase.IDLE,
        as_of=now,
        policy_key=apply.policy_key if apply else None,
        target_seconds=target.seconds if target else None,
        business=target.business if target else None,
        calendar=target.calendar if target else None,
    )


def _state(
    metric: str, number: int, cycle: _Cycle, calendars: Mapping[str, BusinessCalendar], now: datetime
) -> MetricState:
    phase, apply = cycle.phase, cycle.apply
    untimed = MetricState(
        metric=metric,
        phase=phase,
        as_of=now,
        cycle=number,
        policy_key=apply.policy_key if apply else None,
        started_at=cycle.started_at,
        paused=phase is Phase.PAUSED,
        fulfilled_at=cycle.ended_at if phase is Phase.FULFILLED else None,
        cancelled_at=cycle.ended_at if phase is Phase.CANCELLED else None,
        warn_logged=cycle.warn_logged,
        breach_logged=cycle.breach_logged,
    )
    target = apply.target if apply else None
    if apply is None or target is None:
        return untimed
    calendar = _calendar_of(target, calendars)
    lengths = [calendar.elapsed(span.start, span.end or now) for span in cycle.spans]
    consumed = sum(lengths)
    deadline = _crossing(calendar, cycle.spans, lengths, target.seconds)
    offset = apply.warning.offset(target.seconds) if apply.warning else None
    warned = offset is not None and consumed >= offset
    warn_at = None
    if offset is not None and (warned or phase is Phase.RUNNING):  # a stopped clock's warning point is not yet known
        warn_at = _crossing(calendar, cycle.spans, lengths, offset)
    if cycle.ended_at is None:
        breached = consumed >= target.seconds
    else:
        breached = deadline is not None and cycle.ended_at > deadline
    pending: list[datetime] = []
    if phase in ACTIVE and not cycle.breach_logged:
        if deadline is not None and (phase is Phase.RUNNING or breached):
            pending.append(deadline)
        if warn_at is not None and not cycle.warn_logged:
            pending.append(warn_at)
    return replace(
        untimed,
        target_seconds=target.seconds,
        business=target.business,
        calendar=target.calendar,
        due_at=deadline if phase is Phase.RUNNING else None,
        remaining_seconds=target.seconds - consumed,
        consumed_seconds=consumed,
        breached=breached,
        breached_at=deadline if breached else None,
        failed_by=max(0, consumed - target.seconds) if breached else 0,
        warn_at=warn_at,
        warned=warned,
        pending_at=min(pending, default=None),
    )


def _crossing(
    calendar: BusinessCalendar, spans: Sequence[_Span], lengths: Sequence[int], amount: int
) -> datetime | None:
    """The instant at which the running spans have consumed `amount`: within the span that reaches it, or ahead in
    the span still running; None when the stopped spans fall short (or the calendar's working time runs out)."""
    before = 0
    for span, length in zip(spans, lengths, strict=True):
        if span.end is None or before + length >= amount:
            try:
                return calendar.add(span.start, amount - before)
            except NoBusinessTime:
                return None
        before += length
    return None


def _calendar_of(target: Target, calendars: Mapping[str, BusinessCalendar]) -> BusinessCalendar:
    if not target.business:
        return CALENDAR_TIME
    found = calendars.get(target.calendar or "")
    if found is None:
        raise LookupError(f"the SLA target is counted on business calendar {target.calendar!r}, which was not given")
    return found


def _second(at: datetime) -> datetime:
    return at.replace(microsecond=0)
