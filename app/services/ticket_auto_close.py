"""Auto-close of resolved tickets (自动完成): the settings, and the job that completes each ticket left pending
follow-up for its type's days through the workflow's own `complete`, as a person confirming it would (timeline,
`ticket.complete` event, SLA clocks, finished_at, the finished-ticket hooks)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID

import structlog

from app.domain.clock import Clock
from app.domain.invariants import present
from app.domain.preconditions import Precondition
from app.domain.principal import Principal
from app.domain.ticket_auto_close import AutoCloseRules
from app.domain.tickets import TicketType
from app.domain.unit_of_work import UnitOfWork, UnitOfWorkFactory
from app.services.tasks import SYSTEM
from app.services.tickets import TicketService
from app.workflows.standard_texts import AUTO_COMPLETED, AUTO_COMPLETED_REOPENABLE

AUTO_CLOSE_BATCH = 20
"""Tickets completed per transaction. On SQLite a batch holds the one write lock that requests wait for: measured
here, a completion takes about 3 ms, so a batch keeps writers waiting at most ~60 ms."""

log = structlog.get_logger("aftersales.ticket_auto_close")


def completion_remark(days: int, reopen_window: timedelta) -> str:
    """The remark of the `complete` entry, which the customer reads too, in their language: why it happened and what
    they may still do."""
    if reopen_window.days >= 1:
        return AUTO_COMPLETED_REOPENABLE.text(resolved_days=days, reopen_days=reopen_window.days)
    return AUTO_COMPLETED.text(resolved_days=days)


class TicketAutoCloseService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        tickets: TicketService,
        reopen_window: timedelta,
        *,
        batch: int = AUTO_CLOSE_BATCH,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._tickets = tickets
        self._reopen_window = reopen_window
        self._batch = batch

    async def rules(self) -> AutoCloseRules:
        async with self._uow.read() as uow:
            return await uow.ticket_auto_close.rules()

    async def set_rules(
        self, principal: Principal, rules: AutoCloseRules, precondition: Precondition
    ) -> AutoCloseRules:
        """Replace the rules; the stored document is locked while If-Match is checked against it. The rules exist
        before they are first saved (the defaults, ETag "0", as read): If-Match "0" replaces those."""
        async with self._uow.write() as uow:
            current = await uow.ticket_auto_close.rules(for_update=True)
            precondition.check(current.version)
            saved = await uow.ticket_auto_close.save_rules(
                replace(rules, version=current.version), principal.subject, self._clock.now()
            )
            await uow.commit()
        return saved

    async def run(self) -> int:
        """One pass: for each ticket type, its due tickets in batches (AUTO_CLOSE_BATCH) each its own transaction;
        answers how many it completed. Switched off, a pass reads the settings and nothing else."""
        async with self._uow.read() as uow:
            rules = await uow.ticket_auto_close.rules()
        if not rules.enabled:
            return 0
        completed = 0
        for kind in TicketType:
            while True:
                claimed, done = await self._complete_batch(rules, kind, self._clock.now())
                completed += done
                if claimed < self._batch or not done:
                    break
        return completed

    async def _complete_batch(self, rules: AutoCloseRules, kind: TicketType, now: datetime) -> tuple[int, int]:
        async with self._uow.write() as uow:
            claimed = await uow.ticket_auto_close.claim_due(kind, rules.resolved_by(kind, now), self._batch)
            done = 0
            for ticket_id in claimed:
                done += await self._complete(uow, ticket_id, rules.days(kind), now)
            await uow.commit()
        return len(claimed), done

    async def _complete(self, uow: UnitOfWork, ticket_id: UUID, days: int, now: datetime) -> int:
        """Complete one claimed ticket (its row locked, and read again under the lock). `complete` has no guard the
        system could fail, so what can still stop it is a task given out to the ticket after the claim's read and
        before its lock: the ticket then waits for that task, as the claim would have left it out."""
        found = present(await uow.tickets.get_guarded(ticket_id), "a claimed ticket")
        if found.unfinished_tasks:
            log.info("auto_close_waits_for_tasks", ticket=found.ticket.number, tasks=list(found.unfinished_tasks))
            return 0
        body = {"remark": completion_remark(days, self._reopen_window)}
        await self._tickets.act_in(uow, found.ticket, SYSTEM, "complete", body, now, found.unfinished_tasks)
        return 1
