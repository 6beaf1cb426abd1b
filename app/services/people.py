"""Agents and groups: upserts by user id / key from HR or admin, and reads for staff."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from app.domain.clock import Clock
from app.domain.errors import FieldError, InvalidInput, NotFound
from app.domain.ids import new_id
from app.domain.pagination import Page, PageRequest
from app.domain.people import Agent, AgentData, Group, GroupData, may_take_more
from app.domain.preconditions import Precondition
from app.domain.unit_of_work import UnitOfWork, UnitOfWorkFactory
from app.services.revisions import Saved, save_revision

OnDeactivated = Callable[[UnitOfWork, str], Awaitable[object]]
"""Called in the transaction that deactivates an agent (their open work goes to others)."""
OnRoomGained = Callable[[UnitOfWork, Agent], Awaitable[object]]
"""Called in the transaction of an edit that may let an agent take more work (the backlog waiting for them)."""


class PeopleService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock
        self._on_deactivated: list[OnDeactivated] = []
        self._on_room_gained: list[OnRoomGained] = []

    def when_deactivated(self, hook: OnDeactivated) -> None:
        self._on_deactivated.append(hook)

    def when_room_gained(self, hook: OnRoomGained) -> None:
        self._on_room_gained.append(hook)

    async def upsert_agent(self, user_id: str, data: AgentData, precondition: Precondition) -> Saved[Agent]:
        async with self._uow.write() as uow:
            existing = await uow.agents.get(user_id, for_update=True)
            precondition.check(existing.version if existing else None)
            unknown = set(data.groups) - await uow.groups.existing_keys(set(data.groups))
            errors = [
                FieldError(f"/groups/{i}", f"unknown group '{g}'") for i, g in enumerate(data.groups) if g in unknown
            ]
            errors += await _unknown_calendar(uow, data.calendar)
            if errors:
                raise InvalidInput(
                    "The agent names groups or a calendar that do not exist", code="unknown_reference", errors=errors
                )
            now = self._clock.now()
            saved = await save_revision(
                uow.agents, existing, data, now, lambda: Agent(new_id(), user_id, data, 1, now, now)
            )
            if existing is not None and existing.data.active and not data.active:
                for hook in self._on_deactivated:
                    await hook(uow, user_id)
            elif may_take_more(existing.data if existing else None, data):
                for gained in self._on_room_gained:
                    await gained(uow, saved.entity)
            await uow.commit()
        return saved

    async def get_agent(self, user_id: str) -> Agent:
        async with self._uow.read() as uow:
            agent = await uow.agents.get(user_id)
        if agent is None:
            raise NotFound(f"No agent '{user_id}'", code="agent_not_found")
        return agent

    async def list_agents(self, page: PageRequest, *, active: bool | None) -> Page[Agent]:
        async with self._uow.read() as uow:
            return await uow.agents.list(page, active=active)

    async def upsert_group(self, key: str, data: GroupData, precondition: Precondition) -> Saved[Group]:
        async with self._uow.write() as uow:
            existing = await uow.groups.get(key, for_update=True)
            precondition.check(existing.version if existing else None)
            errors = await _unknown_calendar(uow, data.calendar)
            if errors:
                raise InvalidInput(
                    "The group names a calendar that does not exist", code="unknown_reference", errors=errors
                )
            now = self._clock.now()
            saved = await save_revision(
                uow.groups, existing, data, now, lambda: Group(new_id(), key, data, 1, now, now)
            )
            await uow.commit()
        return saved

    async def get_group(self, key: str) -> Group:
        async with self._uow.read() as uow:
            group = await uow.groups.get(key)
        if group is None:
            raise NotFound(f"No group '{key}'", code="group_not_found")
        return group

    async def list_groups(self, page: PageRequest) -> Page[Group]:
        async with self._uow.read() as uow:
            return await uow.groups.list(page)


async def _unknown_calendar(uow: UnitOfWork, key: str | None) -> list[FieldError]:
    """A shift must be a business calendar that exists."""
    if key is None or await uow.business_calendars.get(key) is not None:
        return []
    return [FieldError("/calendar", f"unknown business calendar '{key}'")]
