"""The SLA clock of tickets (服务时效): each change appends what it means for the ticket's clocks to their log and
moves the ticket's timer; reads derive deadlines from the log; the timer scan warns, breaches and escalates.

Policies and business calendars are read through an in-process snapshot refreshed every REFRESH_SECONDS, so a
ticket change does not pay their queries: an edited policy or calendar takes effect within that window (a ticket
keeps the time it already spent, app/domain/sla_clock.py).

Choices a caller may rely on:
- A ticket is matched against the policies when it is created and when a matched field changes (priority, type,
  category, channel, group, business line, region); otherwise its clocks stay on the policy they run on, read
  afresh from the snapshot (an edit of that policy's targets re-targets them at the ticket's next change).
- Customer facts (level, VIP, contract SLA level) cost one query per match, made only while some policy has a
  condition on them.
- The timer scan acts once per crossing: a timer is claimed with its ticket (skipping rows another scanner or a
  ticket action holds), and each warning or breach acted on is logged (`warn`/`breach`), so derive no longer offers
  it. A clock found already breached is not warned as well. However many metrics breach in one pass, the ticket is
  escalated once.
- A policy or calendar change requests a re-derivation in its own transaction (`sla_rederivations`); the job
  `sla_rederive` then derives every open ticket's timer again from its log with the calendars as they now are. The
  targets stay those the log's `apply_policy` events carry: an edited policy re-targets a ticket at its next change,
  as above, so a walk after a policy edit moves only timers whose calendars changed too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import structlog

from app.domain.business_time import BusinessCalendar
from app.domain.clock import Clock, rfc3339
from app.domain.events import OutboxEvent
from app.domain.ids import new_id
from app.domain.notifications import NotificationKind
from app.domain.notifications import Subject as NotificationSubject
from app.domain.pagination import Page, PageRequest
from app.domain.principal import Role
from app.domain.sla import PROMISE_ORDER, TicketChange, customer_promise, ticket_clock_events
from app.domain.sla_clock import (
    ACTIVE,
    ClockEvent,
    ClockEventKind,
    MetricState,
    Phase,
    by_metric,
    derive,
    next_due,
)
from app.domain.sla_policies import Escalation, SlaPolicy, Subject, match, raised_priority, ticket_facts
from app.domain.tickets import Ticket
from app.domain.unit_of_work import OpenTimer, Rederivation, UnitOfWork, UnitOfWorkFactory
from app.services.history import Change, record_change
from app.services.notifications import notify

log = structlog.get_logger("aftersales.sla")

REFRESH_SECONDS = 5.0
"""How old the in-process snapshot of policies and calendars may get: the delay before an edit takes effect."""
SCAN_BATCH = 100
"""Timers claimed per transaction of the scan."""
REDERIVE_BATCH = 500
"""Timers a re-derivation walks per transaction."""
SYSTEM_ACTOR = "system"
NO_POLICY = "no policy matches"
PROMISE_ZONE = ZoneInfo("Asia/Shanghai")
"""Where a promise counted in calendar time (no business calendar) is told in."""
SLA_WARNING, SLA_BREACHED = "sla.warning", "sla.breached"
EVENT_TYPES = frozenset({SLA_WARNING, SLA_BREACHED})
MATCHED_FIELDS = ("priority", "type", "category", "channel", "group_key", "business_line", "region")
"""The ticket's own fields policies match on: a change of one re-matches the ticket."""
CUSTOMER_CONDITIONS = frozenset({"customer_level", "vip", "contract_sla_level"})
"""Conditions on the customer's records: matching on them costs a read of those records."""


@dataclass(frozen=True, slots=True)
class TicketSla:
    """A ticket's SLA as of `as_of`: the policy its clocks run on (None: no policy matches), the targeted metrics of
    their current cycles that run or have finished, and where its customer's promise is told."""

    policy_key: str | None
    metrics: tuple[MetricState, ...]
    zone: ZoneInfo
    as_of: datetime

    @property
    def none_reason(self) -> str | None:
        return NO_POLICY if self.policy_key is None else None

    def promise(self, language: str) -> str | None:
        """What the customer is told (预计…前回复), never the targets."""
        return customer_promise({m.metric: m for m in self.metrics}, language, self.zone)


@dataclass(frozen=True, slots=True)
class Recorded:
    """What recording one change left: the ticket's whole clock log, and the policy keys before and after."""

    log: list[ClockEvent]
    policy_before: str | None
    policy_after: str | None


class _Snapshot:
    """The ticket policies and the business calendars, as read at most REFRESH_SECONDS ago."""

    def __init__(self, refresh_seconds: float, monotonic: Callable[[], float]) -> None:
        self._refresh, self._monotonic = refresh_seconds, monotonic
        self.forget()

    def forget(self) -> None:
        """Read everything afresh on next use (a policy or calendar changed in this process)."""
        self._policies: list[SlaPolicy] = []
        self._policies_at: float | None = None
        self._calendars: dict[str, tuple[BusinessCalendar | None, float]] = {}

    def _fresh(self, at: float | None) -> bool:
        return at is not None and self._monotonic() - at < self._refresh

    async def policies(self, uow: UnitOfWork) -> list[SlaPolicy]:
        if not self._fresh(self._policies_at):
            self._policies = await uow.sla_policies.policies(Subject.TICKET)
            self._policies_at = self._monotonic()
            named = {t.calendar for p in self._policies for by in p.targets.values() for t in by.values()}
            await self.calendars(uow, {key for key in named if key})
        return self._policies

    async def calendars(self, uow: UnitOfWork, keys: Iterable[str]) -> dict[str, BusinessCalendar]:
        found: dict[str, BusinessCalendar] = {}
        for key in sorted(set(keys)):
            cached = self._calendars.get(key)
            if cached is None or not self._fresh(cached[1]):
                record = await uow.business_calendars.get(key)
                cached = (record.data.hours if record else None, self._monotonic())
                self._calendars[key] = cached
            if cached[0] is not None:
                found[key] = cached[0]
        return found


class SlaService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        *,
        refresh_seconds: float = REFRESH_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
        batch: int = SCAN_BATCH,
        rederive_batch: int = REDERIVE_BATCH,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._batch = batch
        self._rederive_batch = rederive_batch
        self._snapshot = _Snapshot(refresh_seconds, monotonic)

    def forget_settings(self) -> None:
        """A policy or business calendar changed: the next ticket change reads them again."""
        self._snapshot.forget()

    async def record_ticket(
        self,
        uow: UnitOfWork,
        ticket: Ticket,
        change: TicketChange,
        log_: Sequence[ClockEvent] | None = None,
        *,
        rematch: bool = False,
    ) -> Recorded:
        """Append what `change` means for the ticket's clocks and move its timer, in `uow`'s transaction. `log_` is
        the ticket's log when already read (empty for a ticket just created); `rematch` when a matched field changed
        (creation re-matches always)."""
        events_before = list(await uow.sla_clocks.log(ticket.id) if log_ is None else log_)
        before = current_policy(events_before)
        policy = await self._policy_for(uow, ticket, before, rematch=rematch or change.created)
        events = ticket_clock_events(change, policy, events_before)
        after = [*events_before, *events]
        await uow.sla_clocks.append(Subject.TICKET, ticket.id, events)
        await self._move_timer(uow, ticket.id, events_before, after, change.at)
        return Recorded(after, before, current_policy(after) if events else before)

    async def ticket_slas(
        self, uow: UnitOfWork, tickets: Sequence[Ticket], now: datetime, known: Mapping[UUID, Sequence[ClockEvent]]
    ) -> dict[UUID, TicketSla]:
        """Each ticket's SLA at `now`; logs not `known` are read in one query."""
        missing = [t.id for t in tickets if t.id not in known]
        logs = {**(await uow.sla_clocks.logs(missing) if missing else {}), **known}
        return {t.id: await self._sla(uow, logs.get(t.id, ()), now) for t in tickets}

    async def scan(self) -> int:
        """One pass of the timer scan, in batches (SCAN_BATCH) each its own transaction; answers how many warnings
        and breaches it acted on."""
        acted = 0
        while True:
            claimed, done = await self._scan_batch(self._clock.now())
            acted += done
            if claimed < self._batch or not done:
                return acted

    async def rederive(self, *, batches: int | None = None) -> int:
        """Work off the re-derivation requests (a policy or calendar changed): every open ticket's timer is derived
        again from its log with the calendars as they now are, in batches (REDERIVE_BATCH) each its own transaction
        that also stores the request's cursor, so a pass stopped anywhere resumes after the last batch committed.
        At most `batches` batches (None: until no request is left); answers how many timers it walked. Deriving from
        the log is idempotent: a walk repeated over the same log and calendars writes nothing."""
        walked, ran = 0, 0
        while batches is None or ran < batches:
            count = await self._rederive_step()
            if count is None:
                break
            walked, ran = walked + count, ran + 1
        return walked

    async def _rederive_step(self) -> int | None:
        """One batch of the newest unfinished request (None: there is none). The newest request supersedes older
        ones: it was made after their changes, so its walk from the start covers them."""
        async with self._uow.write() as uow:
            requests = uow.sla_rederivations
            request = await requests.claim()
            if request is None:
                return None
            now = self._clock.now()
            if request.after_subject_id is None:
                self._snapshot.forget()  # the change may come from another process: read the calendars it left
                await requests.supersede(request, now)
            timers = await requests.open_timers(request.after_subject_id, self._rederive_batch)
            logs = await uow.sla_clocks.logs([t.subject_id for t in timers]) if timers else {}
            moves = []
            for timer in timers:
                due = next_due((await self._derive(uow, logs.get(timer.subject_id, []), now)).values())
                if due != timer.due_at:
                    moves.append(OpenTimer(timer.subject_id, due))
            await requests.move_timers(moves, now)
            await requests.advance(
                replace(
                    request,
                    after_subject_id=timers[-1].subject_id if timers else request.after_subject_id,
                    done=request.done + len(timers),
                    finished_at=now if len(timers) < self._rederive_batch else None,
                )
            )
            await uow.commit()
        return len(timers)

    async def rederivations(self, page: PageRequest) -> Page[Rederivation]:
        """Re-derivation requests and their progress, newest first."""
        async with self._uow.read() as uow:
            return await uow.sla_rederivations.list(page)

    async def _scan_batch(self, now: datetime) -> tuple[int, int]:
        acted = 0
        async with self._uow.write() as uow:
            timers = await uow.sla_clocks.due(now, self._batch)
            logs = await uow.sla_clocks.logs([t.subject_id for t in timers]) if timers else {}
            for timer in timers:
                ticket = await uow.tickets.get(timer.subject_id)  # locked by the claim
                if ticket is None:
                    continue
                acted += await self._cross(uow, ticket, logs.get(ticket.id, []), now)
            await uow.commit()
        return len(timers), acted

    async def _cross(self, uow: UnitOfWork, ticket: Ticket, events: list[ClockEvent], now: datetime) -> int:
        """Act on every warning and breach of the ticket's clocks that has fallen due and was not yet acted on."""
        states = await self._derive(uow, events, now)
        crossings: list[tuple[ClockEventKind, MetricState]] = []
        for state in states.values():
            if state.phase not in ACTIVE or state.breach_logged:
                continue
            if state.breached:
                crossings.append((ClockEventKind.BREACH, state))
            elif state.warn_at is not None and state.warn_at <= now and not state.warn_logged:
                crossings.append((ClockEventKind.WARN, state))
        logged = [ClockEvent(kind, now, state.metric) for kind, state in crossings]
        await uow.sla_clocks.append(Subject.TICKET, ticket.id, logged)
        after = [*events, *logged]
        policies = {p.key: p for p in await self._snapshot.policies(uow)}
        for kind, state in crossings:
            policy = policies.get(state.policy_key or "")
            await self._announce(uow, ticket, kind, state, policy, now)
        breaches = [state for kind, state in crossings if kind is ClockEventKind.BREACH]
        if breaches:
            policy = policies.get(breaches[0].policy_key or "")
            escalated = await self._escalate(uow, ticket, breaches, policy, now)
            if escalated is not None and escalated.priority != ticket.priority:
                change = TicketChange(at=now, status=escalated.status, priority=escalated.priority)
                retarget = await self._policy_for(uow, escalated, current_policy(after), rematch=True)
                more = ticket_clock_events(change, retarget, after)
                await uow.sla_clocks.append(Subject.TICKET, ticket.id, more)
                after = [*after, *more]
        due = next_due((await self._derive(uow, after, now)).values())
        await uow.sla_clocks.set_due(Subject.TICKET, ticket.id, due, now)
        return len(crossings)

    async def _announce(
        self,
        uow: UnitOfWork,
        ticket: Ticket,
        kind: ClockEventKind,
        state: MetricState,
        policy: SlaPolicy | None,
        now: datetime,
    ) -> None:
        """The outbox event and the inbox notifications of one crossing."""
        breach = kind is ClockEventKind.BREACH
        deadline = state.breached_at if breach else state.due_at
        payload: dict[str, Any] = {
            "ticket_id": str(ticket.id),
            "number": ticket.number,
            "metric": state.metric,
            "due_at": _instant(deadline),
            "breached_at": _instant(state.breached_at) if breach else None,
            "warn_at": _instant(state.warn_at),
            "failed_by": state.failed_by,
            "policy_key": state.policy_key,
            "assignee": ticket.assignee,
            "priority": ticket.priority.value,
        }
        event_type = SLA_BREACHED if breach else SLA_WARNING
        await uow.outbox.add(OutboxEvent(new_id(), event_type, "ticket", ticket.id, now, payload))
        escalation = policy.escalation if policy else Escalation()
        recipients = await _recipients(uow, ticket, escalation.on_breach if breach else escalation.on_warning)
        number, metric = ticket.number, state.metric
        if breach:
            title = {"zh-CN": f"工单 {number} 已超时（{metric}）", "en": f"Ticket {number} missed its {metric} target"}
        else:
            title = {"zh-CN": f"工单 {number} 即将超时（{metric}）", "en": f"Ticket {number} nears its {metric} target"}
        await notify(
            uow,
            recipients=recipients,
            kind=NotificationKind.SLA_BREACHED if breach else NotificationKind.SLA_WARNING,
            subject=NotificationSubject("ticket", ticket.id, number),
            title=title,
            now=now,
            actor=SYSTEM_ACTOR,
            data={"sla": "breached" if breach else "warning", **payload},
            dedupe_key=f"sla:{ticket.id}:{metric}:{state.cycle}:{kind.value}",
        )

    async def _escalate(
        self, uow: UnitOfWork, ticket: Ticket, breaches: Sequence[MetricState], policy: SlaPolicy | None, now: datetime
    ) -> Ticket | None:
        """超时升级: the policy's escalation on breach, recorded as an internal system change; None when it changes
        nothing (the policy neither raises the level nor the priority)."""
        escalation = policy.escalation if policy else Escalation()
        level = ticket.escalation_level + (1 if escalation.raise_level else 0)
        priority = raised_priority(ticket.priority) if escalation.raise_priority else ticket.priority
        if (level, priority) == (ticket.escalation_level, ticket.priority):
            return None
        after = replace(ticket, escalation_level=level, priority=priority, version=ticket.version + 1, updated_at=now)
        await uow.tickets.update(after, ticket)
        payload = {
            "reason": "sla_breached",
            "metrics": [state.metric for state in breaches],
            "policy_key": policy.key if policy else None,
            "escalation_level": {"from": ticket.escalation_level, "to": level},
            "priority": {"from": ticket.priority.value, "to": priority.value},
        }
        facts = {
            "ticket_id": str(after.id),
            "number": after.number,
            "customer_no": after.customer_no,
            "status": after.status,
            "assignee": after.assignee,
            "priority": after.priority.value,
        }
        change = Change("action", "escalate", after.status, after.status, payload=payload, public=False)
        await record_change(uow, "ticket", after.id, facts, SYSTEM_ACTOR, now, change)
        return after

    async def _policy_for(
        self, uow: UnitOfWork, ticket: Ticket, current: str | None, *, rematch: bool
    ) -> SlaPolicy | None:
        policies = await self._snapshot.policies(uow)
        if not rematch and current is not None:
            kept = next((p for p in policies if p.key == current), None)
            if kept is not None:
                return kept
        customer: dict[str, Any] = {}
        if any(CUSTOMER_CONDITIONS & set(p.conditions) for p in policies):
            facts = await uow.sla_clocks.customer_facts(ticket.customer_no, ticket.created_at.date())
            customer = {"customer_level": facts.level, "contract_sla_level": facts.contract_sla_level}
        return match(policies, Subject.TICKET, ticket_facts(ticket, **customer))

    async def _move_timer(
        self, uow: UnitOfWork, ticket_id: UUID, before: Sequence[ClockEvent], after: Sequence[ClockEvent], now: datetime
    ) -> None:
        """The timer holds next_due as of the last change; a change that leaves it where it was writes nothing."""
        if len(after) == len(before):
            return
        due_before = next_due((await self._derive(uow, before, now)).values()) if before else None
        due_after = next_due((await self._derive(uow, after, now)).values())
        if due_after != due_before:
            await uow.sla_clocks.set_due(Subject.TICKET, ticket_id, due_after, now)

    async def _derive(self, uow: UnitOfWork, events: Sequence[ClockEvent], now: datetime) -> dict[str, MetricState]:
        """Every metric's state; a metric whose business calendar no longer exists is left out (and logged), so a
        deleted calendar cannot make a ticket unreadable."""
        keys = {e.target.calendar for e in events if e.target is not None and e.target.calendar}
        calendars = await self._snapshot.calendars(uow, keys)
        states: dict[str, MetricState] = {}
        for metric, metric_events in by_metric(events).items():
            try:
                states[metric] = derive(metric_events, calendars, now)
            except LookupError:
                log.warning("sla_calendar_missing", metric=metric, calendars=sorted(keys))
        return states

    async def _sla(self, uow: UnitOfWork, events: Sequence[ClockEvent], now: datetime) -> TicketSla:
        states = await self._derive(uow, events, now)
        shown = tuple(
            s for s in states.values() if s.target_seconds is not None and s.phase not in (Phase.IDLE, Phase.CANCELLED)
        )
        zone = PROMISE_ZONE
        for metric in PROMISE_ORDER:
            state = states.get(metric)
            if state is not None and state.phase is Phase.RUNNING and state.calendar:
                calendars = await self._snapshot.calendars(uow, [state.calendar])
                if state.calendar in calendars:
                    zone = calendars[state.calendar].zone
                    break
        return TicketSla(current_policy(events), shown, zone, now)


def current_policy(events: Iterable[ClockEvent]) -> str | None:
    """The policy the clocks run on: the one the latest `apply_policy` names."""
    key = None
    for event in events:
        if event.kind is ClockEventKind.APPLY_POLICY:
            key = event.policy_key
    return key


async def _recipients(uow: UnitOfWork, ticket: Ticket, names: Iterable[str]) -> list[str | None]:
    """The people an escalation names: the handler, their supervisor (主管), the managers. An unassigned ticket's
    warnings and breaches go to the managers, so that they always reach someone."""
    wanted = set(names)
    found: list[str | None] = []
    if ticket.assignee is not None:
        if "assignee" in wanted:
            found.append(ticket.assignee)
        if "supervisor" in wanted:
            agent = await uow.agents.get(ticket.assignee)
            found.append(agent.data.supervisor if agent else None)
    if "managers" in wanted or (ticket.assignee is None and wanted):
        found.extend(await uow.agents.active_with_role(Role.MANAGER))
    return found


def _instant(at: datetime | None) -> str | None:
    return None if at is None else rfc3339(at)
