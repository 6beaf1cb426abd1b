"""What a ticket's or an after-sales order's changes mean for its SLA clocks, and the promise its customer reads.

A service that changes a subject describes what happened (`TicketChange`, `AfterSalesChange`), reads the subject's
clock log, and appends the events `ticket_clock_events` / `after_sales_clock_events` return; `derive_all` and
`next_due` (sla_clock) then give its deadlines and the timer's next instant.

Every metric's clock runs whether or not the matched policy sets it a target, and a status clock runs for every
visit to a non-final status: a policy that starts to measure a metric mid-flight (a re-match after the priority was
raised, a new state limit) counts the time since the clock's start, as any re-target does.

Choices a caller may rely on:
- A reopened ticket (completed or closed → work again, or an unsatisfied 回访) starts a new resolution cycle with
  the full target from the reopening: the first cycle's result, met or missed, stands in the reports. A first reply
  that was never given (closed unanswered) is owed again from the reopening.
- Customer messages before the first reply are covered by first_reply; next_reply starts with the first message
  after it and runs until the next public agent reply, further messages meanwhile not restarting it.
- periodic_update restarts at every public agent reply while the ticket is worked, and stops applying (cancel) once
  it is resolved.
- The idle reminders restart at every update of a ticket that is being worked or waits in a pool (a human's change:
  an action, a field edit, a comment, internal ones included; not the system's own escalation), and stop once it is
  resolved. They run only while the ticket's policy targets them: a policy that starts to chase idle tickets counts
  from each ticket's next update.
- An after-sales order withdrawn before its review cancels the review (nothing was decided); approved and rejected
  both fulfil it. refund_completion applies to the types that pay money back (refunds and compensation).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from app.domain.after_sales import MONEY_TYPES, AfterSalesType
from app.domain.sla_clock import ACTIVE, ClockEvent, ClockEventKind, ClockView, MetricState, Phase, views
from app.domain.sla_policies import (
    AFTER_SALES_PRIORITY,
    FIRST_REPLY,
    IDLE_METRICS,
    NEXT_REPLY,
    PERIODIC_UPDATE,
    REFUND_COMPLETION,
    RESOLUTION,
    REVIEW,
    SlaPolicy,
    Subject,
    default_pauses,
    state_metric,
)

TICKET_FINAL = frozenset({"completed", "closed", "cancelled"})
"""Entering one of these cancels every clock still running (the workflow's final states)."""
TICKET_RESOLVED = frozenset({"pending_follow_up", "completed"})
"""已解决: entering one from work fulfils resolution; leaving one back into work reopens it."""
AFTER_SALES_REVIEW = "under_review"
"""Where every after-sales order starts (submitted) and is decided."""
AFTER_SALES_WITHDRAWN = "cancelled"
"""Withdrawn by the customer: before its review, nothing was decided."""
AFTER_SALES_FINAL = frozenset({"refunded", "inspection_failed", "signed", "compensated", "rejected", "cancelled"})
AFTER_SALES_PAID = frozenset({"refunded", "compensated"})
"""The money is back with the customer: refund_completion is fulfilled."""
PAYING_TYPES = MONEY_TYPES | {AfterSalesType.COMPENSATION}
"""The types whose approval owes the customer money: refund_completion runs from approval until it is paid."""


@dataclass(frozen=True, slots=True)
class TicketChange:
    """What happened to a ticket at `at`, as its clocks see it. `status` and `priority` are the ticket's after the
    change (targets are per priority); `previous_status` is set when the change moved it. A change that only edits
    matched fields (priority, type, group…) re-targets the running clocks to `policy`."""

    at: datetime
    status: str
    priority: str
    previous_status: str | None = None
    created: bool = False
    agent_replied: bool = False  # a public reply by staff; internal notes do not count
    customer_messaged: bool = False  # a public message by (or on behalf of) the customer
    touched: bool = True  # a person changed the ticket (False: the system's own escalation): idle reminders restart


@dataclass(frozen=True, slots=True)
class AfterSalesChange:
    """What happened to an after-sales order at `at`: created (submitted; maybe approved at once by 极速审核) and/or
    moved from `previous_status` to `status`."""

    at: datetime
    status: str
    type: AfterSalesType
    previous_status: str | None = None
    created: bool = False


class _Recorder:
    """The events of one change, and the clocks as they will be once they are appended."""

    def __init__(
        self, subject: Subject, at: datetime, policy: SlaPolicy | None, priority: str, log: Iterable[ClockEvent]
    ):
        self.subject, self.at, self.policy, self.priority = subject, at, policy, priority
        events = list(log)
        self.clocks: dict[str, ClockView] = views(events)
        self.events: list[ClockEvent] = []
        applied = [e.policy_key for e in events if e.kind is ClockEventKind.APPLY_POLICY]
        # The policy the log names last (the subject's policy), as it will be once the events are appended.
        self.current_key = applied[-1] if applied else None

    def phase(self, metric: str) -> Phase:
        return self.clocks.get(metric, ClockView()).phase

    def active(self, metric: str) -> bool:
        return self.phase(metric) in ACTIVE

    def _emit(self, kind: ClockEventKind, metric: str, phase: Phase) -> None:
        self.events.append(ClockEvent(kind, self.at, metric))
        clock = self.clocks.get(metric, ClockView())
        self.clocks[metric] = replace(
            clock,
            phase=phase,
            cycles=clock.cycles + (kind is ClockEventKind.ACTIVATE),
            ever_fulfilled=clock.ever_fulfilled or phase is Phase.FULFILLED,
        )

    def retarget(self, metric: str) -> None:
        """Apply the policy's target for `metric` when it differs from the one in force."""
        policy = self.policy
        target = policy.target(metric, self.priority) if policy else None
        clock = self.clocks.get(metric, ClockView())
        key = policy.key if policy else None
        if target is None and clock.target is None and key in (clock.policy_key, self.current_key):
            return  # untargeted before and after, the log naming the policy already: no news
        warning = policy.warning if policy else None
        if metric in IDLE_METRICS:
            warning = None  # a reminder is the warning itself
        if (clock.target, clock.warning, clock.policy_key) != (target, warning, key):
            self.events.append(ClockEvent(ClockEventKind.APPLY_POLICY, self.at, metric, target, warning, key))
            self.clocks[metric] = replace(clock, target=target, warning=warning, policy_key=key)
            self.current_key = key

    def retarget_active(self) -> None:
        for metric in [m for m in self.clocks if self.active(m)]:
            self.retarget(metric)

    def activate(self, metric: str) -> None:
        if not self.active(metric):
            self.retarget(metric)
            self._emit(ClockEventKind.ACTIVATE, metric, Phase.RUNNING)

    def fulfil(self, metric: str) -> None:
        if self.active(metric):
            self._emit(ClockEventKind.FULFIL, metric, Phase.FULFILLED)

    def cancel(self, metric: str) -> None:
        if self.active(metric):
            self._emit(ClockEventKind.CANCEL, metric, Phase.CANCELLED)

    def cancel_all(self) -> None:
        for metric in list(self.clocks):
            self.cancel(metric)

    def align_pauses(self, status: str) -> None:
        """Pause every running clock the status stops, resume every paused clock it does not."""
        for metric in list(self.clocks):
            stops = status in self._pause_states(metric)
            if stops and self.phase(metric) is Phase.RUNNING:
                self._emit(ClockEventKind.PAUSE, metric, Phase.PAUSED)
            elif not stops and self.phase(metric) is Phase.PAUSED:
                self._emit(ClockEventKind.RESUME, metric, Phase.RUNNING)

    def _pause_states(self, metric: str) -> frozenset[str]:
        if self.policy is not None:
            return self.policy.pause_states(metric)
        return default_pauses(self.subject).get(metric, frozenset())


def ticket_clock_events(change: TicketChange, policy: SlaPolicy | None, log: Iterable[ClockEvent]) -> list[ClockEvent]:
    """The events to append to a ticket's clock log (all metrics) for `change`, `policy` being the one the ticket
    matches after it."""
    clocks = _Recorder(Subject.TICKET, change.at, policy, change.priority, log)
    clocks.retarget_active()
    status, previous = change.status, change.previous_status
    if change.created:
        clocks.activate(FIRST_REPLY)
        clocks.activate(RESOLUTION)
        if status not in TICKET_FINAL:
            clocks.activate(state_metric(status))
    elif previous is not None and previous != status:
        clocks.fulfil(state_metric(previous))
        if status in TICKET_RESOLVED:
            clocks.fulfil(RESOLUTION)
            clocks.cancel(PERIODIC_UPDATE)
        elif status not in TICKET_FINAL and (previous in TICKET_RESOLVED or previous in TICKET_FINAL):  # reopened
            clocks.activate(RESOLUTION)
            if clocks.phase(FIRST_REPLY) is Phase.CANCELLED and not clocks.clocks[FIRST_REPLY].ever_fulfilled:
                clocks.activate(FIRST_REPLY)
        if status in TICKET_FINAL:
            clocks.cancel_all()
        else:
            clocks.activate(state_metric(status))
    in_work = status not in TICKET_FINAL and status not in TICKET_RESOLVED
    if change.agent_replied:
        for metric in (FIRST_REPLY, NEXT_REPLY, PERIODIC_UPDATE):
            clocks.fulfil(metric)
        if in_work:
            clocks.activate(PERIODIC_UPDATE)
    if change.customer_messaged and status not in TICKET_FINAL and not clocks.active(FIRST_REPLY):
        clocks.activate(NEXT_REPLY)
    if change.touched or not in_work:
        for metric in IDLE_METRICS:
            clocks.fulfil(metric)  # the idle spell, if any, ends with this update
            if in_work and policy is not None and policy.target(metric, change.priority) is not None:
                clocks.activate(metric)
    clocks.align_pauses(status)
    return clocks.events


def after_sales_clock_events(
    change: AfterSalesChange, policy: SlaPolicy | None, log: Iterable[ClockEvent]
) -> list[ClockEvent]:
    """The events to append to an after-sales order's clock log for `change`, under the policy it matches."""
    clocks = _Recorder(Subject.AFTER_SALES, change.at, policy, AFTER_SALES_PRIORITY, log)
    clocks.retarget_active()
    if change.created:
        clocks.activate(REVIEW)
        if change.status == AFTER_SALES_REVIEW:
            clocks.activate(state_metric(AFTER_SALES_REVIEW))
        else:  # approved (or refused) as it was submitted
            _move(clocks, change.type, AFTER_SALES_REVIEW, change.status)
    elif change.previous_status is not None and change.previous_status != change.status:
        _move(clocks, change.type, change.previous_status, change.status)
    clocks.align_pauses(change.status)
    return clocks.events


def _move(clocks: _Recorder, kind: AfterSalesType, source: str, dest: str) -> None:
    clocks.fulfil(state_metric(source))
    if source == AFTER_SALES_REVIEW:
        if dest == AFTER_SALES_WITHDRAWN:
            clocks.cancel(REVIEW)
        else:
            clocks.fulfil(REVIEW)
            if dest not in AFTER_SALES_FINAL and kind in PAYING_TYPES:
                clocks.activate(REFUND_COMPLETION)
    if dest in AFTER_SALES_PAID:
        clocks.fulfil(REFUND_COMPLETION)
    if dest in AFTER_SALES_FINAL:
        clocks.cancel_all()
    else:
        clocks.activate(state_metric(dest))


_PROMISES = {
    FIRST_REPLY: ("预计 {when} 前回复", "We will reply by {when}"),
    NEXT_REPLY: ("预计 {when} 前回复", "We will reply by {when}"),
    RESOLUTION: ("预计 {when} 前解决", "We aim to resolve this by {when}"),
    REVIEW: ("预计 {when} 前完成审核", "We will review your request by {when}"),
    REFUND_COMPLETION: ("预计 {when} 前退款到账", "Your money should be back by {when}"),
}
"""What the customer is told of each metric they wait for; the other metrics are internal."""
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
PROMISE_ORDER = (NEXT_REPLY, FIRST_REPLY, RESOLUTION, REFUND_COMPLETION, REVIEW)
PROMISE_ZONE = ZoneInfo("Asia/Shanghai")
"""Where a promise counted in calendar time (no business calendar) is told."""
"""Of several promises, the one nearest to what the customer waits for now: an answer first."""


def promise(state: MetricState, language: str, tz: ZoneInfo) -> str | None:
    """The customer's promise of one metric: its deadline, rounded up to the minute, in `tz` (`en` or Chinese).
    None when there is nothing to promise: the metric is internal (periodic updates, state limits), not running,
    paused (the customer-facing status already says we wait on them: 待您反馈) or late (a passed time is no promise).
    The target itself is never shown."""
    texts = _PROMISES.get(state.metric)
    if texts is None or state.phase is not Phase.RUNNING or state.due_at is None or state.breached:
        return None
    due = state.due_at.astimezone(tz)
    if due.second or due.microsecond:
        due = due.replace(second=0, microsecond=0) + timedelta(minutes=1)
    year = due.year != state.as_of.astimezone(tz).year
    if language == "en":
        when = f"{due.day} {_MONTHS[due.month - 1]}{f' {due.year}' if year else ''}, {due:%H:%M}"
        return texts[1].format(when=when)
    when = f"{f'{due.year}年' if year else ''}{due.month}月{due.day}日 {due:%H:%M}"
    return texts[0].format(when=when)


def customer_promise(
    states: Mapping[str, MetricState], language: str, zones: Mapping[str, ZoneInfo], default: ZoneInfo = PROMISE_ZONE
) -> str | None:
    """The one promise to show beside the customer's status: a reply owed first, then the resolution or refund;
    each told in its own metric's zone (`zones`; `default` for calendar time)."""
    for metric in PROMISE_ORDER:
        state = states.get(metric)
        text = promise(state, language, zones.get(metric, default)) if state else None
        if text:
            return text
    return None
