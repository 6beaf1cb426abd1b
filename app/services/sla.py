"""The SLA clocks of tickets and after-sales orders (服务时效): each change appends what it means for the subject's
clocks to their log and moves its timer; reads derive deadlines from the log; the timer scan warns, breaches,
escalates and sends idle reminders.

Policies and business calendars are read through an in-process snapshot refreshed every REFRESH_SECONDS, so a
change does not pay their queries: an edited policy or calendar takes effect within that window (a subject keeps
the time it already spent, app/domain/sla_clock.py).

Choices a caller may rely on:
- A ticket is matched against the policies when it is created and when a matched field changes (priority, type,
  category, channel, group, business line, region); an after-sales order when it is submitted. Otherwise the clocks
  stay on the policy they run on, read afresh from the snapshot at every change.
- Customer facts (level, VIP, contract SLA level) cost one query per match, made only while some policy has a
  condition on them.
- The timer scan acts once per crossing: a timer is claimed with its subject (skipping rows another scanner or an
  action holds), and each warning or breach acted on is logged (`warn`/`breach`), so derive no longer offers it. A
  clock found already breached is not warned as well. However many metrics breach in one pass, the subject is
  escalated once.
- A policy or calendar change requests a re-derivation in its own transaction (`sla_rederivations`); the job
  `sla_rederive` then walks every open subject: matched again with the policies as they now are (an edit, a reorder
  or a deletion may hand it to another policy), its running clocks re-targeted from their start and its pauses
  aligned, and its timer derived again with the calendars as they now are. The walk locks timers, not subjects: an
  action committing meanwhile re-targets from the same snapshot, so at worst the same `apply_policy` lands twice.
- A subject in a final state has no timer: nothing of it can fall due, and neither the scan nor the walk reads it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast
from uuid import UUID
from zoneinfo import ZoneInfo

import structlog
from cachetools import LRUCache

from app.domain.after_sales import AfterSalesOrder, AfterSalesType
from app.domain.business_time import BusinessCalendar
from app.domain.clock import Clock, rfc3339
from app.domain.events import OutboxEvent
from app.domain.ids import new_id
from app.domain.notifications import NotificationKind
from app.domain.notifications import Subject as NotificationSubject
from app.domain.pagination import Page, PageRequest
from app.domain.principal import Role
from app.domain.sla import (
    AFTER_SALES_FINAL,
    TICKET_FINAL,
    AfterSalesChange,
    TicketChange,
    after_sales_clock_events,
    customer_promise,
    ticket_clock_events,
)
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
from app.domain.sla_policies import (
    IDLE_ESCALATION,
    IDLE_METRICS,
    REASSIGN_TO_POOL,
    Escalation,
    MatchedOrder,
    MatchedTicket,
    SlaPolicy,
    Subject,
    after_sales_facts,
    match,
    raised_priority,
    ticket_facts,
)
from app.domain.tickets import Ticket
from app.domain.unit_of_work import Due, OpenTimer, Rederivation, UnitOfWork, UnitOfWorkFactory, WalkedSubject
from app.services.history import Change, record_after_sales_change, record_ticket_change
from app.services.notifications import notify
from app.workflows.ticket import WORKING

log = structlog.get_logger("aftersales.sla")

REFRESH_SECONDS = 5.0
"""How old the in-process snapshot of policies and calendars may get: the delay before an edit takes effect."""
SCAN_BATCH = 100
"""Timers claimed per transaction of the scan."""
REDERIVE_BATCH = 500
"""Timers a re-derivation walks per transaction."""
DERIVED = 256
"""Derivations remembered, by log, instant and calendars: a change derives its log once to move the timer and the
answer derives the same log at the same instant again (each derivation is a few business-time sums, ~80 µs)."""
SYSTEM_ACTOR = "system"
NO_POLICY = "no policy matches"
SLA_WARNING, SLA_BREACHED, TICKET_IDLE = "sla.warning", "sla.breached", "ticket.idle"
EVENT_TYPES = frozenset({SLA_WARNING, SLA_BREACHED, TICKET_IDLE})
MATCHED_FIELDS = ("priority", "type", "category", "channel", "group_key", "business_line", "region")
"""The ticket's own fields policies match on: a change of one re-matches the ticket."""
CUSTOMER_CONDITIONS = frozenset({"customer_level", "vip", "contract_sla_level"})
"""Conditions on the customer's records: matching on them costs a read of those records."""


@dataclass(frozen=True, slots=True)
class SubjectSla:
    """A ticket's or an after-sales order's SLA as of `as_of`: the policy its clocks run on (None: no policy
    matches), the targeted metrics of their current cycles that run or have finished, and the zone each promise is
    told in (its business calendar's; app/domain/sla.py PROMISE_ZONE for calendar time)."""

    policy_key: str | None
    metrics: tuple[MetricState, ...]
    zones: Mapping[str, ZoneInfo]
    as_of: datetime

    @property
    def none_reason(self) -> str | None:
        return NO_POLICY if self.policy_key is None else None

    def promise(self, language: str) -> str | None:
        """What the customer is told (预计…前回复), never the targets."""
        return customer_promise({m.metric: m for m in self.metrics}, language, self.zones)


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
        self._policies: dict[Subject, tuple[list[SlaPolicy], float]] = {}
        self._calendars: dict[str, tuple[BusinessCalendar | None, float]] = {}

    def _fresh(self, at: float | None) -> bool:
        return at is not None and self._monotonic() - at < self._refresh

    async def policies(self, uow: UnitOfWork, subject: Subject) -> list[SlaPolicy]:
        cached = self._policies.get(subject)
        if cached is None or not self._fresh(cached[1]):
            cached = (await uow.sla_policies.policies(subject), self._monotonic())
            self._policies[subject] = cached
            named = {t.calendar for p in cached[0] for by in p.targets.values() for t in by.values()}
            await self.calendars(uow, {key for key in named if key})
        return cached[0]

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
        self._derived: LRUCache[Any, tuple[dict[str, MetricState], dict[str, BusinessCalendar]]] = LRUCache(DERIVED)

    def forget_settings(self) -> None:
        """A policy or business calendar changed: the next ticket change reads them again."""
        self._snapshot.forget()

    async def calendars(self, uow: UnitOfWork, keys: Iterable[str]) -> dict[str, BusinessCalendar]:
        """The business calendars of `keys` that exist, from the same in-process snapshot the clocks read."""
        return await self._snapshot.calendars(uow, keys)

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
        policy = await self._policy(uow, Subject.TICKET, ticket, before, rematch=rematch or change.created)
        events = ticket_clock_events(change, policy, events_before)
        final = change.status in TICKET_FINAL
        return await self._append(uow, Subject.TICKET, ticket.id, events_before, events, change.at, final=final)

    async def record_after_sales(
        self,
        uow: UnitOfWork,
        order: AfterSalesOrder,
        change: AfterSalesChange,
        log_: Sequence[ClockEvent] | None = None,
    ) -> Recorded:
        """As `record_ticket`, for an after-sales order: matched when it is created (its type, business line and
        customer never change), its clocks on that policy afterwards."""
        events_before = list(await uow.sla_clocks.log(order.id) if log_ is None else log_)
        before = current_policy(events_before)
        policy = await self._policy(uow, Subject.AFTER_SALES, order, before, rematch=change.created)
        events = after_sales_clock_events(change, policy, events_before)
        final = change.status in AFTER_SALES_FINAL
        return await self._append(uow, Subject.AFTER_SALES, order.id, events_before, events, change.at, final=final)

    async def _append(
        self,
        uow: UnitOfWork,
        subject: Subject,
        subject_id: UUID,
        before: list[ClockEvent],
        events: list[ClockEvent],
        at: datetime,
        *,
        final: bool,
    ) -> Recorded:
        """Append a change's events and move the subject's timer; a subject in a final state has nothing left to
        fall due, so its timer is dropped (a reopened ticket gets one again), and the scan and re-derivation walk
        open subjects only."""
        after = [*before, *events]
        if final:
            await uow.sla_clocks.append(subject, subject_id, events)
            await uow.sla_clocks.drop_timer(subject_id)
        else:
            moved = await self._moved_timer(uow, before, after, at)
            await uow.sla_clocks.record(subject, subject_id, events, moved, at)
        key_before = current_policy(before)
        return Recorded(after, key_before, current_policy(after) if events else key_before)

    async def ticket_slas(
        self, uow: UnitOfWork, tickets: Sequence[Ticket], now: datetime, known: Mapping[UUID, Sequence[ClockEvent]]
    ) -> dict[UUID, SubjectSla]:
        """Each ticket's SLA at `now`; logs not `known` are read in one query."""
        return await self.slas(uow, [t.id for t in tickets], now, known)

    async def slas(
        self, uow: UnitOfWork, subject_ids: Sequence[UUID], now: datetime, known: Mapping[UUID, Sequence[ClockEvent]]
    ) -> dict[UUID, SubjectSla]:
        """Each subject's SLA at `now` (tickets or after-sales orders); logs not `known` are read in one query."""
        missing = [subject_id for subject_id in subject_ids if subject_id not in known]
        logs = {**(await uow.sla_clocks.logs(missing) if missing else {}), **known}
        return {subject_id: await self._sla(uow, logs.get(subject_id, ()), now) for subject_id in subject_ids}

    async def scan(self) -> int:
        """One pass of the timer scan, in batches (SCAN_BATCH) each its own transaction; answers how many warnings
        and breaches it acted on. An idle pass is one statement: which subjects have a timer due."""
        acted = 0
        async with self._uow.read() as uow:
            subjects = await uow.sla_clocks.due_subjects(self._clock.now())
        for subject in subjects:
            while True:
                claimed, done = await self._scan_batch(subject, self._clock.now())
                acted += done
                if claimed < self._batch or not done:
                    break
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
            walked = await requests.subjects(timers) if timers else {}
            moves, appends = [], []
            for timer in timers:
                log_ = logs.get(timer.subject_id, [])
                subject = walked.get(timer.subject_id)
                if subject is not None and log_:
                    more = await self._retarget(uow, subject, log_, now)
                    if more:
                        appends.append((subject.subject, timer.subject_id, more))
                        log_ = [*log_, *more]
                due = next_due((await self._derive(uow, log_, now)).values())
                if due != timer.due_at:
                    moves.append(OpenTimer(timer.subject_id, due))
            await uow.sla_clocks.append_many(appends)
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

    async def _retarget(
        self, uow: UnitOfWork, subject: WalkedSubject, log_: list[ClockEvent], now: datetime
    ) -> list[ClockEvent]:
        """The events that bring a walked subject's clocks onto the policies as they now are: matched again (an
        edit, reorder or deletion may hand it to another policy), the running clocks re-targeted, and pauses aligned
        with the policy's; no event when nothing changed for it. Not an update of the subject: idle reminders run
        on."""
        policy = await self._policy(uow, subject.subject, subject, current_policy(log_), rematch=True)
        if subject.subject is Subject.TICKET:
            change = TicketChange(at=now, status=subject.status, priority=subject.priority, touched=False)
            return ticket_clock_events(change, policy, log_)
        moved = AfterSalesChange(at=now, status=subject.status, type=AfterSalesType(subject.type))
        return after_sales_clock_events(moved, policy, log_)

    async def rederivations(self, page: PageRequest) -> Page[Rederivation]:
        """Re-derivation requests and their progress, newest first."""
        async with self._uow.read() as uow:
            return await uow.sla_rederivations.list(page)

    async def _scan_batch(self, subject: Subject, now: datetime) -> tuple[int, int]:
        acted = 0
        async with self._uow.write() as uow:
            timers = await uow.sla_clocks.due(subject, now, self._batch)
            logs = await uow.sla_clocks.logs([t.subject_id for t in timers]) if timers else {}
            for timer in timers:
                held = await _held(uow, subject, timer.subject_id)  # locked by the claim
                if held is not None:
                    acted += await self._cross(uow, held, logs.get(timer.subject_id, []), now)
            await uow.commit()
        return len(timers), acted

    async def _cross(self, uow: UnitOfWork, held: Held, events: list[ClockEvent], now: datetime) -> int:
        """Act on every warning and breach of the subject's clocks that has fallen due and was not yet acted on."""
        states = await self._derive(uow, events, now)
        crossings: list[tuple[ClockEventKind, MetricState]] = []
        for state in states.values():
            if state.phase not in ACTIVE or state.breach_logged:
                continue
            if state.breached:
                crossings.append((ClockEventKind.BREACH, state))
            elif state.warn_at is not None and state.warn_at <= now and not state.warn_logged:
                crossings.append((ClockEventKind.WARN, state))
        subject = _subject_of(held)
        logged = [ClockEvent(kind, now, state.metric) for kind, state in crossings]
        await uow.sla_clocks.append(subject, held.id, logged)
        after = [*events, *logged]
        policies = {p.key: p for p in await self._snapshot.policies(uow, subject)}
        for kind, state in crossings:
            if state.metric not in IDLE_METRICS:
                await self._announce(uow, held, kind, state, policies.get(state.policy_key or ""), now)
        breaches = [state for kind, state in crossings if kind is ClockEventKind.BREACH]
        reminders = [state for state in breaches if state.metric in IDLE_METRICS]
        breaches = [state for state in breaches if state.metric not in IDLE_METRICS]
        for state in reminders:
            await _remind_idle(uow, held, state, now)
        if breaches:
            policy = policies.get(breaches[0].policy_key or "")
            escalation = policy.escalation if policy else Escalation()
            if isinstance(held, Ticket):
                after = await self._escalate_ticket(uow, held, breaches, policy, escalation, after, now)
            else:
                await _escalate_order(uow, held, breaches, policy, escalation, now)
        due = next_due((await self._derive(uow, after, now)).values())
        await uow.sla_clocks.set_due(subject, held.id, due, now)
        return len(crossings)

    async def _announce(
        self,
        uow: UnitOfWork,
        held: Held,
        kind: ClockEventKind,
        state: MetricState,
        policy: SlaPolicy | None,
        now: datetime,
    ) -> None:
        """The outbox event and the inbox notifications of one crossing."""
        breach = kind is ClockEventKind.BREACH
        deadline = state.breached_at if breach else state.due_at
        ticket = isinstance(held, Ticket)
        identity: dict[str, Any] = (
            {"ticket_id": str(held.id), "number": held.number, "priority": held.priority.value}
            if isinstance(held, Ticket)
            else {"after_sales_id": str(held.id), "number": held.number, "type": held.type.value}
        )
        payload: dict[str, Any] = {
            **identity,
            "metric": state.metric,
            "due_at": _instant(deadline),
            "breached_at": _instant(state.breached_at) if breach else None,
            "warn_at": _instant(state.warn_at),
            "failed_by": state.failed_by,
            "policy_key": state.policy_key,
            "assignee": held.assignee,
        }
        event_type = SLA_BREACHED if breach else SLA_WARNING
        aggregate = _subject_of(held).value
        await uow.outbox.add(OutboxEvent(new_id(), event_type, aggregate, held.id, now, payload))
        escalation = policy.escalation if policy else Escalation()
        recipients = await _recipients(uow, held.assignee, escalation.on_breach if breach else escalation.on_warning)
        number, metric = held.number, state.metric
        zh, en = ("工单", "Ticket") if ticket else ("售后单", "After-sales order")
        if breach:
            title = {"zh-CN": f"{zh} {number} 已超时（{metric}）", "en": f"{en} {number} missed its {metric} target"}
        else:
            title = {"zh-CN": f"{zh} {number} 即将超时（{metric}）", "en": f"{en} {number} nears its {metric} target"}
        await notify(
            uow,
            recipients=recipients,
            kind=NotificationKind.SLA_BREACHED if breach else NotificationKind.SLA_WARNING,
            subject=NotificationSubject(aggregate, held.id, number),
            title=title,
            now=now,
            actor=SYSTEM_ACTOR,
            data={"sla": "breached" if breach else "warning", **payload},
            dedupe_key=f"sla:{held.id}:{metric}:{state.cycle}:{kind.value}",
        )

    async def _escalate_ticket(
        self,
        uow: UnitOfWork,
        ticket: Ticket,
        breaches: Sequence[MetricState],
        policy: SlaPolicy | None,
        escalation: Escalation,
        log_: list[ClockEvent],
        now: datetime,
    ) -> list[ClockEvent]:
        """超时升级 of a ticket, recorded as an internal system change: the escalation level, the priority one step
        up, and the handler taken away (`reassign_to`: back to the claim pool or to a named group's, as a transfer
        to a pool does; only while the ticket is waiting or worked). A change of priority, status or group moves the
        clocks as any ticket change does; answers the ticket's log after it."""
        level = ticket.escalation_level + (1 if escalation.raise_level else 0)
        priority = raised_priority(ticket.priority) if escalation.raise_priority else ticket.priority
        status, assignee, group = ticket.status, ticket.assignee, ticket.group_key
        target = escalation.reassign_to
        if target is not None and ticket.status in ("new", *WORKING):
            status, assignee = "new", None
            group = group if target == REASSIGN_TO_POOL else target
        after = replace(
            ticket, escalation_level=level, priority=priority, status=status, assignee=assignee, group_key=group
        )
        if after == ticket:
            return log_
        after = replace(after, version=ticket.version + 1, updated_at=now)
        await uow.tickets.update(after, ticket)
        payload = _escalation_payload(ticket, after, breaches, policy)
        for name in ("priority", "assignee", "group_key"):
            old, new = _plain(getattr(ticket, name)), _plain(getattr(after, name))
            if old != new:
                payload[name] = {"from": old, "to": new}
        more: list[ClockEvent] = []
        if (after.priority, after.status, after.group_key) != (ticket.priority, ticket.status, ticket.group_key):
            moved = TicketChange(
                at=now, status=after.status, priority=after.priority, previous_status=ticket.status, touched=False
            )
            retarget = await self._policy(uow, Subject.TICKET, after, current_policy(log_), rematch=True)
            more = ticket_clock_events(moved, retarget, log_)
            await uow.sla_clocks.append(Subject.TICKET, ticket.id, more)
            if (key := current_policy([*log_, *more])) != current_policy(log_):
                payload["sla_policy"] = {"from": current_policy(log_), "to": key}  # as a PATCH that re-matches says
        change = Change("action", "escalate", ticket.status, after.status, payload=payload, public=False)
        await record_ticket_change(uow, after, SYSTEM_ACTOR, now, change)
        return [*log_, *more]

    async def _policy(
        self, uow: UnitOfWork, subject: Subject, matched: Matched, current: str | None, *, rematch: bool
    ) -> SlaPolicy | None:
        """The policy `matched`'s clocks run on: the current one while no re-match is asked for, else the first that
        accepts its facts (the customer's read only while some policy conditions on them)."""
        policies = await self._snapshot.policies(uow, subject)
        kept = _kept(policies, current, rematch)
        if kept is not None:
            return kept
        customer: dict[str, Any] = {}
        if any(CUSTOMER_CONDITIONS & set(p.conditions) for p in policies):
            facts = await uow.sla_clocks.customer_facts(matched.customer_no, matched.created_at.date())
            customer = {"customer_level": facts.level, "contract_sla_level": facts.contract_sla_level}
        if subject is Subject.TICKET:
            return match(policies, subject, ticket_facts(cast(MatchedTicket, matched), **customer))
        level = customer.get("customer_level")
        return match(policies, subject, after_sales_facts(cast(MatchedOrder, matched), customer_level=level))

    async def _moved_timer(
        self, uow: UnitOfWork, before: Sequence[ClockEvent], after: Sequence[ClockEvent], now: datetime
    ) -> Due | None:
        """Where the timer moves to (None: it stays). The timer holds next_due as of the last change; a change that
        leaves it where it was writes nothing."""
        if len(after) == len(before):
            return None
        due_before = next_due((await self._derive(uow, before, now)).values()) if before else None
        due_after = next_due((await self._derive(uow, after, now)).values())
        return None if due_after == due_before else Due(due_after)

    async def _derive(self, uow: UnitOfWork, events: Sequence[ClockEvent], now: datetime) -> dict[str, MetricState]:
        """Every metric's state; a metric whose business calendar no longer exists is left out (and logged), so a
        deleted calendar cannot make a ticket unreadable. A log that no target ever reached (no policy measures the
        subject) has nothing to derive: nothing is shown and nothing can fall due."""
        if all(e.target is None for e in events):
            return {}
        keys = {e.target.calendar for e in events if e.target is not None and e.target.calendar}
        calendars = await self._snapshot.calendars(uow, keys)
        memo = (tuple(events), now, tuple((key, id(c)) for key, c in sorted(calendars.items())))
        found = self._derived.get(memo)
        if found is not None:
            return dict(found[0])
        states: dict[str, MetricState] = {}
        for metric, metric_events in by_metric(events).items():
            try:
                states[metric] = derive(metric_events, calendars, now)
            except LookupError:
                log.warning("sla_calendar_missing", metric=metric, calendars=sorted(keys))
        self._derived[memo] = (states, calendars)  # the calendars kept alive, so that their ids stay theirs
        return dict(states)

    async def _sla(self, uow: UnitOfWork, events: Sequence[ClockEvent], now: datetime) -> SubjectSla:
        states = await self._derive(uow, events, now)
        shown = tuple(
            s
            for s in states.values()
            if s.target_seconds is not None
            and s.phase not in (Phase.IDLE, Phase.CANCELLED)
            and s.metric not in IDLE_METRICS
        )
        named = {s.calendar for s in shown if s.business and s.calendar}
        calendars = await self._snapshot.calendars(uow, named) if named else {}
        zones = {s.metric: calendars[s.calendar].zone for s in shown if s.business and s.calendar in calendars}
        return SubjectSla(current_policy(events), shown, zones, now)


def current_policy(events: Iterable[ClockEvent]) -> str | None:
    """The policy the clocks run on: the one the latest `apply_policy` names."""
    key = None
    for event in events:
        if event.kind is ClockEventKind.APPLY_POLICY:
            key = event.policy_key
    return key


Held = Ticket | AfterSalesOrder
"""A subject the timer scan holds: its clocks' owner."""
Matched = Ticket | AfterSalesOrder | WalkedSubject
"""What a subject is matched on: the entity, or the re-derivation walk's row of it."""


def _subject_of(held: Held) -> Subject:
    return Subject.TICKET if isinstance(held, Ticket) else Subject.AFTER_SALES


async def _held(uow: UnitOfWork, subject: Subject, subject_id: UUID) -> Held | None:
    if subject is Subject.TICKET:
        return await uow.tickets.get(subject_id)
    return await uow.after_sales.get(subject_id)


def _kept(policies: Sequence[SlaPolicy], current: str | None, rematch: bool) -> SlaPolicy | None:
    """The policy the clocks run on, while no re-match is asked for and it still exists."""
    if rematch or current is None:
        return None
    return next((p for p in policies if p.key == current), None)


def _escalation_payload(
    held: Held, after: Held, breaches: Sequence[MetricState], policy: SlaPolicy | None
) -> dict[str, Any]:
    return {
        "reason": "sla_breached",
        "metrics": [state.metric for state in breaches],
        "policy_key": policy.key if policy else None,
        "escalation_level": {"from": held.escalation_level, "to": after.escalation_level},
    }


async def _escalate_order(
    uow: UnitOfWork,
    order: AfterSalesOrder,
    breaches: Sequence[MetricState],
    policy: SlaPolicy | None,
    escalation: Escalation,
    now: datetime,
) -> None:
    """超时升级 of an after-sales order: the escalation level, and (`reassign_to` the pool) the reviewer's claim
    released so that any reviewer may take it; an internal system change."""
    level = order.escalation_level + (1 if escalation.raise_level else 0)
    assignee = None if escalation.reassign_to == REASSIGN_TO_POOL else order.assignee
    if (level, assignee) == (order.escalation_level, order.assignee):
        return
    after = replace(order, escalation_level=level, assignee=assignee, version=order.version + 1, updated_at=now)
    await uow.after_sales.update(after)
    payload = _escalation_payload(order, after, breaches, policy)
    if assignee != order.assignee:
        payload["assignee"] = {"from": order.assignee, "to": None}
    change = Change("action", "escalate", order.status, order.status, payload=payload, public=False)
    await record_after_sales_change(uow, after, SYSTEM_ACTOR, now, change)


async def _remind_idle(uow: UnitOfWork, held: Held, state: MetricState, now: datetime) -> None:
    """长时间未更新: the ticket went without an update for its policy's time; the assignee is reminded, or (the second
    reminder) their supervisor; an unassigned ticket's reminders go to the managers."""
    if not isinstance(held, Ticket):
        return  # after-sales policies have no idle reminders
    to_supervisor = state.metric == IDLE_ESCALATION
    payload: dict[str, Any] = {
        "ticket_id": str(held.id),
        "number": held.number,
        "reminder": "supervisor" if to_supervisor else "assignee",
        "idle_since": _instant(state.started_at),
        "policy_key": state.policy_key,
        "assignee": held.assignee,
        "status": held.status,
    }
    await uow.outbox.add(OutboxEvent(new_id(), TICKET_IDLE, "ticket", held.id, now, payload))
    recipients = await _recipients(uow, held.assignee, ["supervisor" if to_supervisor else "assignee"])
    title = {
        "zh-CN": f"工单 {held.number} 长时间未更新，请跟进",
        "en": f"Ticket {held.number} has had no update for a while: please follow up",
    }
    await notify(
        uow,
        recipients=recipients,
        kind=NotificationKind.IDLE_REMINDER,
        subject=NotificationSubject("ticket", held.id, held.number),
        title=title,
        now=now,
        actor=SYSTEM_ACTOR,
        data=payload,
        dedupe_key=f"idle:{held.id}:{state.metric}:{state.cycle}",
    )


async def _recipients(uow: UnitOfWork, assignee: str | None, names: Iterable[str]) -> list[str | None]:
    """The people an escalation names: the handler, their supervisor (主管), the managers. An unassigned subject's
    warnings and breaches go to the managers, so that they always reach someone."""
    wanted = set(names)
    found: list[str | None] = []
    if assignee is not None:
        if "assignee" in wanted:
            found.append(assignee)
        if "supervisor" in wanted:
            agent = await uow.agents.get(assignee)
            found.append(agent.data.supervisor if agent else None)
    if "managers" in wanted or (assignee is None and wanted):
        found.extend(await uow.agents.active_with_role(Role.MANAGER))
    return found


def _plain(value: Any) -> Any:
    return getattr(value, "value", value)


def _instant(at: datetime | None) -> str | None:
    return None if at is None else rfc3339(at)
