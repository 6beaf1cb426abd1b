"""Agent and group rows ↔ entities."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, bindparam, case, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.pagination import Page, PageRequest
from app.domain.people import Agent, AgentData, Availability, Group, GroupData
from app.domain.principal import Role
from app.persistence.keyset import fetch_page
from app.persistence.lookups import Lookup
from app.persistence.tables import agent_group_members, agents, groups

_LISTS = ("groups", "skills", "regions", "product_lines")


def _agent_values(agent: Agent) -> dict[str, Any]:
    data = agent.data
    return {
        "name": data.name,
        "roles": sorted(data.roles),
        **{name: list(getattr(data, name)) for name in _LISTS},
        "supervisor": data.supervisor,
        "active": data.active,
        "max_open_tickets": data.max_open_tickets,
        "calendar": data.calendar,
        "availability": agent.availability.value,
        "last_assigned_at": agent.last_assigned_at,
        "version": agent.version,
        "updated_at": agent.updated_at,
    }


def _agent(row: Row[Any]) -> Agent:
    data = AgentData(
        name=row.name,
        roles=frozenset(Role(r) for r in row.roles),
        **{name: tuple(getattr(row, name)) for name in _LISTS},
        supervisor=row.supervisor,
        active=row.active,
        max_open_tickets=row.max_open_tickets,
        calendar=row.calendar,
    )
    return Agent(
        row.id,
        row.user_id,
        data,
        row.version,
        row.created_at,
        row.updated_at,
        Availability(row.availability),
        row.last_assigned_at,
    )


def _group_values(group: Group) -> dict[str, Any]:
    data = group.data
    return {
        "name": data.name,
        "description": data.description,
        "business_line": data.business_line,
        "calendar": data.calendar,
        "version": group.version,
        "updated_at": group.updated_at,
    }


def _group(row: Row[Any]) -> Group:
    data = GroupData(name=row.name, description=row.description, business_line=row.business_line, calendar=row.calendar)
    return Group(row.id, row.key, data, row.version, row.created_at, row.updated_at)


_AGENT = Lookup(agents, agents.c.user_id)
_GROUP = Lookup(groups, groups.c.key)
_WORKLOAD = select(
    agents, case((agents.c.max_open_tickets.is_not(None), agents.c.open_items)).label("held_tickets")
).where(agents.c.user_id == bindparam("user_id"))
"""The held-ticket count (kept on the agent's row by triggers on tickets) is given only for agents with a limit."""


class SqlAgentRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, user_id: str, *, for_update: bool = False) -> Agent | None:
        row = await _AGENT.row(self._conn, user_id, for_update=for_update)
        return _agent(row) if row else None

    async def workload(self, user_id: str) -> tuple[Agent, int | None] | None:
        row = (await self._conn.execute(_WORKLOAD, {"user_id": user_id})).first()
        return (_agent(row), row.held_tickets) if row else None

    async def add(self, agent: Agent) -> None:
        values = _agent_values(agent)
        await self._conn.execute(
            insert(agents).values(id=agent.id, user_id=agent.user_id, created_at=agent.created_at, **values)
        )
        await self._write_membership(agent)

    async def update(self, agent: Agent) -> None:
        await self._conn.execute(update(agents).where(agents.c.id == agent.id).values(**_agent_values(agent)))
        await self._conn.execute(delete(agent_group_members).where(agent_group_members.c.user_id == agent.user_id))
        await self._write_membership(agent)

    async def set_availability(self, user_id: str, availability: Availability) -> None:
        """The agent's own state: not a revision of their record (its version and ETag stay)."""
        stmt = update(agents).where(agents.c.user_id == user_id).values(availability=availability.value)
        await self._conn.execute(stmt)

    async def active_members(self, group_key: str) -> list[str]:
        """User ids of the group's active agents (an indexed membership table, not a scan of JSON lists)."""
        stmt = (
            select(agents.c.user_id)
            .join(agent_group_members, agent_group_members.c.user_id == agents.c.user_id)
            .where(agent_group_members.c.group_key == group_key, agents.c.active.is_(True))
            .order_by(agents.c.user_id)
        )
        return list((await self._conn.execute(stmt)).scalars())

    async def active_with_role(self, role: Role) -> list[str]:
        """User ids of active agents holding `role`; the directory is small (people, not tickets)."""
        rows = await self._conn.execute(select(agents.c.user_id, agents.c.roles).where(agents.c.active.is_(True)))
        return sorted(user_id for user_id, roles in rows if role.value in roles)

    async def _write_membership(self, agent: Agent) -> None:
        if agent.data.groups:
            await self._conn.execute(
                insert(agent_group_members),
                [{"group_key": key, "user_id": agent.user_id} for key in dict.fromkeys(agent.data.groups)],
            )

    async def list(self, page: PageRequest, *, active: bool | None = None) -> Page[Agent]:
        stmt = select(agents) if active is None else select(agents).where(agents.c.active == active)
        rows, next_key = await fetch_page(self._conn, stmt, agents.c.id, page)
        return Page([_agent(row) for row in rows], next_key)


class SqlGroupRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, key: str, *, for_update: bool = False) -> Group | None:
        row = await _GROUP.row(self._conn, key, for_update=for_update)
        return _group(row) if row else None

    async def add(self, group: Group) -> None:
        values = _group_values(group)
        await self._conn.execute(
            insert(groups).values(id=group.id, key=group.key, created_at=group.created_at, **values)
        )

    async def update(self, group: Group) -> None:
        await self._conn.execute(update(groups).where(groups.c.id == group.id).values(**_group_values(group)))

    async def existing_keys(self, keys: set[str]) -> set[str]:
        return set((await self._conn.execute(select(groups.c.key).where(groups.c.key.in_(keys)))).scalars())

    async def list(self, page: PageRequest) -> Page[Group]:
        rows, next_key = await fetch_page(self._conn, select(groups), groups.c.id, page)
        return Page([_group(row) for row in rows], next_key)
