"""Agents (客服/工程师) and groups (小组): who works tickets, with the skills and limits assignment reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from app.domain.pagination import Page, PageRequest
from app.domain.principal import Role


class Availability(StrEnum):
    """Whether the agent takes new work now (在线/离开/离线), set by the agent: dispatch gives work only to `available`
    ones; going `offline` returns their not yet started tickets to dispatch."""

    AVAILABLE = "available"
    AWAY = "away"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class AgentData:
    name: str
    roles: frozenset[Role]
    groups: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    product_lines: tuple[str, ...] = ()
    supervisor: str | None = None
    active: bool = True
    max_open_tickets: int | None = None
    calendar: str | None = None  # the shift (a business calendar); None: their group's, else always on


def may_take_more(before: AgentData | None, after: AgentData) -> bool:
    """Whether an edit of an active agent can let them take work they could not before (activated, a higher or no
    limit, another group, another shift): the backlog of their groups is then served at once."""
    if not after.active:
        return False
    if before is None or not before.active:
        return True
    raised = after.max_open_tickets is None or (
        before.max_open_tickets is not None and after.max_open_tickets > before.max_open_tickets
    )
    return raised or bool(set(after.groups) - set(before.groups)) or after.calendar != before.calendar


@dataclass(frozen=True, slots=True)
class Agent:
    """`availability` and `last_assigned_at` are the agent's own state, kept across upserts of their record."""

    id: UUID
    user_id: str
    data: AgentData
    version: int
    created_at: datetime
    updated_at: datetime
    availability: Availability = Availability.AVAILABLE
    last_assigned_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class GroupData:
    name: str
    description: str | None = None
    business_line: str | None = None
    calendar: str | None = None  # the members' shift when they name none of their own


@dataclass(frozen=True, slots=True)
class Group:
    id: UUID
    key: str
    data: GroupData
    version: int
    created_at: datetime
    updated_at: datetime


class AgentRepository(Protocol):
    async def get(self, user_id: str, *, for_update: bool = False) -> Agent | None: ...
    async def workload(self, user_id: str) -> tuple[Agent, int | None] | None:
        """The agent and, when they have an open-ticket limit, how many tickets they hold now (one round trip)."""
        ...

    async def add(self, agent: Agent) -> None: ...
    async def update(self, agent: Agent) -> None: ...
    async def set_availability(self, user_id: str, availability: Availability) -> None: ...
    async def list(self, page: PageRequest, *, active: bool | None = None) -> Page[Agent]: ...
    async def active_members(self, group_key: str) -> list[str]: ...
    async def active_with_role(self, role: Role) -> list[str]: ...


class GroupRepository(Protocol):
    async def get(self, key: str, *, for_update: bool = False) -> Group | None: ...
    async def add(self, group: Group) -> None: ...
    async def update(self, group: Group) -> None: ...
    async def existing_keys(self, keys: set[str]) -> set[str]: ...
    async def list(self, page: PageRequest) -> Page[Group]: ...
