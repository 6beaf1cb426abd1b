"""派单 at run time: a ticket's decision taken with its reads (rules, candidates, shifts) and the lock that gives the
winner the work, then stored, put on the timeline and, when nobody could take it, the ticket put in the backlog.

Concurrency: a decision ranks the eligible agents from one read, then locks the best-ranked one no concurrent
assignment holds (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite's writers take turns). Every assignment, dispatched or
not, counts up the agent's `assignments` under that lock, so a lock that finds the count moved since the read knows
the read is stale (the agent got other work): an agent with a capacity limit is then passed over, one without may
still take it (only the balance is at stake), and when every ranked agent is held or stale the decision is taken
again. An intake, which holds no other agent, first waits for the best-ranked agent's concurrent assignment to end
(waiting costs nothing, re-reading does). Nobody exceeds capacity, and no ticket is given twice (the ticket itself
is new or locked by the caller).

Backlog first: a newcomer that finds tickets waiting for its group waits behind them; when an agent is free all the
same (capacity freed by a shift or an availability change the job has not served yet), `Placement.serve_first`
asks the caller to serve the backlog before placing the newcomer again.

A ticket already in a group's pool (named at intake, handed over by a transfer, placed by an earlier decision) is
dispatched by the rules that send work to that group only: a person's choice of group is kept."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from app.domain.clock import Clock
from app.domain.dispatch import (
    CUSTOMER_FIELDS,
    AsRead,
    Candidate,
    Decision,
    DecisionRecord,
    DispatchRule,
    Roster,
    Strategy,
    Trigger,
    WorkItem,
    decide,
    first_rule,
    ticket_facts,
)
from app.domain.errors import Conflict
from app.domain.ids import new_id
from app.domain.notifications import NotificationKind, Subject
from app.domain.principal import Role
from app.domain.tickets import Priority, Ticket
from app.domain.unit_of_work import UnitOfWork
from app.services.history import Change, record_ticket_change
from app.services.notifications import notify
from app.services.sla import SlaService

REFRESH_SECONDS = 5.0
"""How old the in-process copy of the rules may get: an edit in another process takes effect within it."""
ATTEMPTS = 12
"""Decisions taken again when the lock finds the read stale or every eligible agent held, before the ticket waits in
the backlog."""
BUSY_WAIT, MAX_BUSY_WAIT = 0.002, 0.05
"""Seconds to wait (doubling, jittered) while every eligible agent is being given other work: an intake's
transaction holds its agent for a few milliseconds."""
PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}
"""The backlog serves the most urgent first, then the longest waiting."""
DISPATCHER = "dispatcher"
"""The actor of the timeline entries dispatch writes."""


@dataclass(frozen=True, slots=True)
class Placement:
    """A decision and the ticket as it leaves it: assigned to the winner in the decision's group, or in that group's
    pool. `decision` None: no rule exists, dispatch did not run."""

    ticket: Ticket
    decision: Decision | None
    serve_first: bool = False  # it waits behind the backlog while an agent is free: serve the backlog, then retry

    @property
    def assigned(self) -> bool:
        return self.decision is not None and self.decision.winner is not None

    @property
    def contended(self) -> bool:
        """Nobody took it though agents were eligible: each was being given other work."""
        return self.decision is not None and self.decision.winner is None and bool(self.decision.ranked)


class Dispatcher:
    def __init__(
        self,
        clock: Clock,
        sla: SlaService,
        *,
        refresh_seconds: float = REFRESH_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._sla = sla
        self._refresh, self._monotonic = refresh_seconds, monotonic
        self.forget()

    def forget(self) -> None:
        """Read the rules afresh on next use (they changed in this process)."""
        self._rules: tuple[list[DispatchRule], float] | None = None

    async def rules(self, uow: UnitOfWork) -> list[DispatchRule]:
        cached = self._rules
        if cached is None or self._monotonic() - cached[1] >= self._refresh:
            cached = (await uow.dispatch_rules.ordered(), self._monotonic())
            self._rules = cached
        return cached[0]

    async def place(
        self, uow: UnitOfWork, ticket: Ticket, trigger: Trigger, now: datetime, *, holding: bool = False
    ) -> Placement:
        """Decide who takes `ticket` (in the pool: status new, nobody assigned) and lock them; the caller writes the
        ticket and then `record`s the placement. `holding`: the caller holds locks already (an intake that served
        the backlog first), so it may not wait for an agent's lock, which could close a cycle."""
        may_wait = trigger is Trigger.INTAKE and not holding
        decision, serve_first = await self._decide(uow, ticket, trigger, now, lock=True, may_wait=may_wait)
        if decision is not None and decision.winner is not None:
            ticket = replace(ticket, assignee=decision.winner, group_key=decision.group_key, status="assigned")
        elif decision is not None and decision.group_key is not None:
            ticket = replace(ticket, group_key=decision.group_key)
        return Placement(ticket, decision, serve_first)

    async def simulate(self, uow: UnitOfWork, ticket: Ticket, now: datetime) -> Decision:
        """The decision `place` would take now, without locking or assigning anyone."""
        decision, _serve_first = await self._decide(uow, ticket, Trigger.SIMULATION, now, lock=False, may_wait=False)
        return decision or Decision(None, Strategy.POOL, None, None, pool_reason="no dispatch rule exists")

    async def _decide(
        self, uow: UnitOfWork, ticket: Ticket, trigger: Trigger, now: datetime, *, lock: bool, may_wait: bool
    ) -> tuple[Decision | None, bool]:
        rules = await self.rules(uow)
        if ticket.group_key is not None:  # a group chosen already (at intake, by a transfer, by an earlier decision)
            rules = [r for r in rules if ticket.group_key in (r.group_key, r.overflow_group)]
        if not rules:
            return None, False
        customer: dict[str, str | None] = {}
        if any(c.field in CUSTOMER_FIELDS for rule in rules for c in rule.conditions):
            facts = await uow.sla_clocks.customer_facts(ticket.customer_no, ticket.created_at.date())
            customer = {"customer_level": facts.level, "contract_sla_level": facts.contract_sla_level}
        item = WorkItem(ticket_facts(ticket, **customer), waiting_since=ticket.updated_at)
        rule = first_rule(rules, item)
        if rule is None or rule.strategy is Strategy.POOL:
            return decide(rule, item, Roster(), now), False
        if rule.strategy is Strategy.STICKY:
            item = replace(item, previous_agent=await uow.dispatch.previous_agent(ticket.customer_no, ticket.id))
        # A newcomer does not jump the tickets already waiting for the group: the backlog serves those first.
        waiting_for = None if trigger is Trigger.BACKLOG else rule.group_key
        if not lock:
            roster, waiting = await self._roster(uow, _groups(rule), now, waiting_for)
            return _behind_backlog(rule, waiting) or decide(rule, item, roster, now), False
        return await self._locked_decision(uow, rule, item, now, waiting_for, may_wait=may_wait)

    async def _locked_decision(
        self,
        uow: UnitOfWork,
        rule: DispatchRule,
        item: WorkItem,
        now: datetime,
        waiting_for: str | None,
        *,
        may_wait: bool,
    ) -> tuple[Decision, bool]:
        """Decide and give the winner the work (lock and stamp, one statement); when every ranked agent is being
        given other work, wait for the best-ranked one (`may_wait`: the caller holds no agent, so the wait cannot
        close a cycle) or a moment, then decide again on a fresh read. Answers the decision, and whether it waits
        behind the backlog while an agent is free."""
        groups = _groups(rule)
        decision = Decision(rule.key, rule.strategy, rule.group_key, None, pool_reason="no eligible agent")
        for attempt in range(ATTEMPTS):
            roster, waiting = await self._roster(uow, groups, now, waiting_for)
            decision = decide(rule, item, roster, now)
            behind = _behind_backlog(rule, waiting)
            if behind is not None:
                return behind, decision.winner is not None
            if decision.winner is None:
                return decision, False
            read = {c.user_id: c for c in roster.of(decision.group_key or "")}
            ranked = [AsRead(u, read[u].assignments, read[u].capacity is not None) for u in decision.ranked]
            # Stamped now, not at the request's start: concurrent decisions then read the order they took.
            by_recency = rule.strategy is Strategy.ROUND_ROBIN
            user_id = await uow.dispatch.give_first(ranked, self._clock.now(), by_recency=by_recency)
            if user_id is None:  # each held by another assignment, or at a limit and given other work since the read
                if may_wait:
                    await uow.dispatch.wait_for(decision.winner)
                else:
                    await asyncio.sleep(random.uniform(0.5, 1.5) * min(BUSY_WAIT * 2**attempt, MAX_BUSY_WAIT))
                continue
            if user_id != decision.winner:
                step = f"{decision.winner} was being given other work; the next in rank took it"
                decision = replace(decision, winner=user_id, steps=(*decision.steps, step))
            return decision, False
        reason = "every eligible agent was being given other work; it waits for the next free one"
        return replace(decision, winner=None, pool_reason=reason), False

    async def _roster(
        self, uow: UnitOfWork, groups: set[str], now: datetime, waiting_for: str | None
    ) -> tuple[Roster, int]:
        """The candidates of `groups` as of `now`, and how many tickets wait in `waiting_for`'s backlog since before."""
        members, waiting = await uow.dispatch.roster(groups, waiting_for, now)
        calendars = await self._sla.calendars(uow, {m.calendar for m in members if m.calendar})
        by_group: dict[str, list[Candidate]] = {key: [] for key in groups}
        for member in members:
            calendar = calendars.get(member.calendar) if member.calendar else None
            on_shift = calendar is None or calendar.is_open(now)
            by_group[member.group_key].append(replace(member.candidate, on_shift=on_shift))
        return Roster(by_group), waiting

    async def record(
        self,
        uow: UnitOfWork,
        placement: Placement,
        trigger: Trigger,
        now: datetime,
        *,
        from_status: str = "new",
        notify_winner: bool = True,
        on_timeline: bool = True,
    ) -> None:
        """Store the decision with the ticket as written: the internal timeline entry (`ticket.dispatch`; not
        `on_timeline` when the caller's own entry carries `summary`), the backlog entered or left, the winner told,
        or the managers when it must wait."""
        decision, ticket = placement.decision, placement.ticket
        if decision is None:
            return
        await uow.dispatch.add_decision(DecisionRecord(new_id(), ticket.id, trigger, decision, now))
        if on_timeline:
            payload = summary(decision, trigger)
            change = Change("action", "dispatch", from_status, ticket.status, payload=payload, public=False)
            await record_ticket_change(uow, ticket, DISPATCHER, now, change)
        if decision.winner is not None:
            if trigger is not Trigger.INTAKE:  # a ticket just taken in was never waiting
                await uow.dispatch.leave_backlog([ticket.id])
            if notify_winner:
                await _tell_winner(uow, ticket, now)
        elif decision.waits and decision.group_key is not None:
            await uow.dispatch.wait(ticket.id, decision.group_key, PRIORITY_RANK[ticket.priority], now)
            if trigger is not Trigger.BACKLOG:
                await _tell_managers(uow, ticket, decision, now)

    async def take(self, uow: UnitOfWork, user_id: str) -> None:
        """An assignment a person made (claim, assign, transfer): the agent locked and counted, refused at capacity
        (a concurrent assignment may have filled it since the guard read), and stamped."""
        found = await uow.dispatch.lock_agent(user_id)
        if found is None:
            return  # the caller checked the agent exists; a deletion since changes nothing here
        limit, held = found
        if limit is not None and held >= limit:
            raise Conflict(f"'{user_id}' already has {limit} open tickets, the most allowed", code="agent_at_capacity")
        await uow.dispatch.stamp(user_id, self._clock.now())

    async def given_back(self, uow: UnitOfWork, user_id: str) -> None:
        """Work returned to its holder (a follow-up sends it back, a reopen to its assignee): never refused, but
        counted, so that a concurrent decision's read of them is known stale."""
        await uow.dispatch.stamp(user_id, self._clock.now())


async def _tell_winner(uow: UnitOfWork, ticket: Ticket, now: datetime) -> None:
    number = ticket.number
    await notify(
        uow,
        recipients=[ticket.assignee],
        kind=NotificationKind.ASSIGNMENT,
        subject=Subject("ticket", ticket.id, number),
        title={"zh-CN": f"工单 {number} 已派给您", "en": f"Ticket {number} has been assigned to you"},
        now=now,
        actor=DISPATCHER,
        data={"action": "dispatch", "status": ticket.status},
    )


async def _tell_managers(uow: UnitOfWork, ticket: Ticket, decision: Decision, now: datetime) -> None:
    """Nobody could take it: the managers hear why, once per decision that leaves it waiting."""
    number = ticket.number
    await notify(
        uow,
        recipients=list(await uow.agents.active_with_role(Role.MANAGER)),
        kind=NotificationKind.DISPATCH_WAITING,
        subject=Subject("ticket", ticket.id, number),
        title={
            "zh-CN": f"工单 {number} 暂无可派处理人，已进入待派队列",
            "en": f"Nobody can take ticket {number} now; it waits in the dispatch backlog",
        },
        now=now,
        actor=DISPATCHER,
        data={"group": decision.group_key, "reason": decision.pool_reason},
    )


def summary(decision: Decision, trigger: Trigger) -> dict[str, object]:
    """A decision as its timeline entry shows it (the candidates are in the decision itself)."""
    return {
        "trigger": trigger.value,
        "rule": decision.rule_key,
        "strategy": decision.strategy.value,
        "group": decision.group_key,
        "assignee": decision.winner,
        "pool_reason": decision.pool_reason,
        "steps": list(decision.steps),
    }


def _behind_backlog(rule: DispatchRule, waiting: int) -> Decision | None:
    if not waiting:
        return None
    reason = f"backlog first: {waiting} earlier ticket{'s' if waiting > 1 else ''} wait for {rule.group_key}"
    return Decision(rule.key, rule.strategy, rule.group_key, None, pool_reason=reason)


def _groups(rule: DispatchRule) -> set[str]:
    """The groups a rule may send work to: its own and its overflow."""
    return {rule.group_key} | ({rule.overflow_group} if rule.overflow_group else set())
