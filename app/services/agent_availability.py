"""在线状态 and what follows from it: an agent sets themselves available, away or offline; going offline returns
their not yet started tickets to dispatch, coming back serves the backlog first, and a manager may rebalance all the
open work of an agent who is not available (a deactivated agent's goes at once). The backlog job serves what waits
as shifts start and skills relax."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.domain.clock import Clock
from app.domain.dispatch import Trigger
from app.domain.errors import Conflict, Forbidden, NotFound
from app.domain.people import Agent, Availability
from app.domain.principal import Principal
from app.domain.tickets import HELD_STATES
from app.domain.unit_of_work import UnitOfWork, UnitOfWorkFactory
from app.services.tickets import TicketService

REBALANCE_BATCH = 200
"""Tickets one rebalance moves at most (a second call moves the rest)."""
BACKLOG_BATCH = 100
"""Waiting tickets one pass of the backlog job tries."""
SERVED_ON_RETURN = 20
"""Backlog tickets tried for an agent without a limit who becomes available."""


@dataclass(frozen=True, slots=True)
class Rebalanced:
    moved: int
    assigned: int
    skipped: int


def _agent_not_found(user_id: str) -> NotFound:
    return NotFound(f"No agent '{user_id}'", code="agent_not_found")


class AvailabilityService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, tickets: TicketService) -> None:
        self._uow = uow
        self._clock = clock
        self._tickets = tickets

    async def set(self, principal: Principal, user_id: str, availability: Availability) -> Agent:
        """The agent themselves, or a manager. Offline: their `assigned` tickets (not started) go through dispatch
        again; available: the backlog of their groups is served, up to their free capacity."""
        if principal.subject != user_id and not principal.is_manager:
            raise Forbidden("Only the agent themselves or a manager sets their availability", code="forbidden")
        async with self._uow.write() as uow:
            agent = await uow.agents.get(user_id, for_update=True)
            if agent is None:
                raise _agent_not_found(user_id)
            if agent.availability is not availability:
                await uow.agents.set_availability(user_id, availability)
                now = self._clock.now()
                if availability is Availability.OFFLINE:
                    await self._redispatch(uow, user_id, ("assigned",))
                elif availability is Availability.AVAILABLE:
                    await self._serve_backlog_for(uow, agent, now)
                agent = await uow.agents.get(user_id) or agent
            await uow.commit()
        return agent

    async def room_gained(self, uow: UnitOfWork, agent: Agent) -> None:
        """An edit let an agent take more (activated, a higher limit, a group or shift of theirs): what waits for
        their groups is served now, not at the job's next pass."""
        if agent.availability is Availability.AVAILABLE:
            await self._serve_backlog_for(uow, agent, self._clock.now())

    async def _serve_backlog_for(self, uow: UnitOfWork, agent: Agent, now: datetime) -> None:
        """The backlog of the agent's groups served, up to their free capacity (counted under their lock)."""
        found = await uow.dispatch.lock_agent(agent.user_id)
        limit, held = found if found else (None, 0)
        room = SERVED_ON_RETURN if limit is None else max(0, limit - held)
        await self._tickets.serve_backlog_in(uow, agent.data.groups, now, limit=room)

    async def agent_left(self, uow: UnitOfWork, user_id: str) -> Rebalanced:
        """An agent deactivated (left, on long leave): every ticket they hold goes through dispatch again, in the
        transaction that deactivates them."""
        return await self._redispatch(uow, user_id, HELD_STATES)

    async def rebalance(self, principal: Principal, user_id: str) -> Rebalanced:
        """A manager's one action for an agent who is away or offline: every ticket they hold goes through dispatch
        again (to others, or into the backlog)."""
        async with self._uow.write() as uow:
            agent = await uow.agents.get(user_id, for_update=True)
            if agent is None:
                raise _agent_not_found(user_id)
            if agent.availability is Availability.AVAILABLE and agent.data.active:
                raise Conflict(
                    f"'{user_id}' is available; set them away or offline before rebalancing their work",
                    code="agent_available",
                )
            rebalanced = await self._redispatch(uow, user_id, HELD_STATES)
            await uow.commit()
        return rebalanced

    async def _redispatch(self, uow: UnitOfWork, user_id: str, statuses: tuple[str, ...]) -> Rebalanced:
        now = self._clock.now()
        ids, total = await uow.dispatch.held_by(user_id, statuses, REBALANCE_BATCH)
        assigned = 0
        for ticket_id in ids:
            ticket = await uow.tickets.get(ticket_id)
            if ticket is None:
                continue
            after = await self._tickets.redispatch_in(uow, ticket, Trigger.REBALANCE, now)
            assigned += after is not None and after.assignee is not None
        return Rebalanced(moved=len(ids), assigned=assigned, skipped=min(total, REBALANCE_BATCH) - len(ids))

    async def serve_backlog(self) -> int:
        """One pass of the backlog job: the most urgent, longest waiting tickets tried again (a shift began, an
        optional skill relaxed, capacity freed elsewhere); answers how many were assigned."""
        async with self._uow.write() as uow:
            served = await self._tickets.serve_backlog_in(uow, None, self._clock.now(), limit=BACKLOG_BATCH)
            await uow.commit()
        return served
