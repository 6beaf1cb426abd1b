"""Agents and groups contract."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import ConfigDict, Field, StrictInt

from app.domain.people import Agent, AgentData, Availability, Group, GroupData
from app.domain.principal import Role
from app.schemas.common import KEY_PATTERN, Input, Line, Output

USER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$"
Tag = Annotated[str, Field(pattern=KEY_PATTERN)]


class AgentIn(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "王工",
                    "roles": ["agent"],
                    "groups": ["east-repair"],
                    "skills": ["purifier"],
                    "regions": ["CN-31"],
                    "product_lines": ["home-appliance"],
                    "supervisor": "manager-liu",
                    "active": True,
                    "max_open_tickets": 30,
                    "calendar": "cn-workdays",
                }
            ]
        }
    )

    name: Line = Field(min_length=1, max_length=200)
    roles: list[Role] = Field(min_length=1, max_length=6)
    groups: list[Tag] = Field(default_factory=list, max_length=50)
    skills: list[Tag] = Field(default_factory=list, max_length=50)
    regions: list[Tag] = Field(default_factory=list, max_length=50)
    product_lines: list[Tag] = Field(default_factory=list, max_length=50)
    supervisor: str | None = Field(None, pattern=USER_ID_PATTERN)
    active: bool = True
    max_open_tickets: StrictInt | None = Field(None, ge=1, le=10_000, description="No new assignments beyond this.")
    calendar: Tag | None = Field(
        None, description="The agent's shift, a business calendar; none: their group's, else always on shift."
    )

    def to_data(self) -> AgentData:
        return AgentData(
            name=self.name,
            roles=frozenset(self.roles),
            groups=tuple(dict.fromkeys(self.groups)),
            skills=tuple(dict.fromkeys(self.skills)),
            regions=tuple(dict.fromkeys(self.regions)),
            product_lines=tuple(dict.fromkeys(self.product_lines)),
            supervisor=self.supervisor,
            active=self.active,
            max_open_tickets=self.max_open_tickets,
            calendar=self.calendar,
        )


class AgentOut(Output):
    id: UUID
    user_id: str
    name: str
    roles: list[Role]
    groups: list[str]
    skills: list[str]
    regions: list[str]
    product_lines: list[str]
    supervisor: str | None
    active: bool
    max_open_tickets: int | None
    calendar: str | None
    availability: Availability = Field(description="Set by the agent: dispatch gives work to `available` ones only.")
    last_assigned_at: datetime | None = Field(description="When work was last assigned to them (round robin).")
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, agent: Agent) -> AgentOut:
        data = agent.data
        return cls(
            id=agent.id,
            user_id=agent.user_id,
            name=data.name,
            roles=sorted(data.roles),
            groups=list(data.groups),
            skills=list(data.skills),
            regions=list(data.regions),
            product_lines=list(data.product_lines),
            supervisor=data.supervisor,
            active=data.active,
            max_open_tickets=data.max_open_tickets,
            calendar=data.calendar,
            availability=agent.availability,
            last_assigned_at=agent.last_assigned_at,
            version=agent.version,
            created_at=agent.created_at,
            updated_at=agent.updated_at,
        )


class GroupIn(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "华东维修组", "business_line": "home-appliance", "calendar": "cn-workdays"}]
        }
    )

    name: Line = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=1000)
    business_line: Tag | None = None
    calendar: Tag | None = Field(None, description="The members' shift, a business calendar, when they name none.")

    def to_data(self) -> GroupData:
        return GroupData(
            name=self.name, description=self.description, business_line=self.business_line, calendar=self.calendar
        )


class GroupOut(Output):
    id: UUID
    key: str
    name: str
    description: str | None
    business_line: str | None
    calendar: str | None
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, group: Group) -> GroupOut:
        return cls(
            id=group.id,
            key=group.key,
            name=group.data.name,
            description=group.data.description,
            business_line=group.data.business_line,
            calendar=group.data.calendar,
            version=group.version,
            created_at=group.created_at,
            updated_at=group.updated_at,
        )


class AvailabilityIn(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"availability": "away"}]})

    availability: Availability = Field(
        description="`available` takes new work; `away` (a break) keeps what they hold; `offline` also returns their "
        "not yet started tickets to dispatch."
    )
