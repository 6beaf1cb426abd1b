"""Agents and groups contract."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import ConfigDict, Field, StrictInt

from app.domain.people import Agent, AgentData, Group, GroupData
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
            version=agent.version,
            created_at=agent.created_at,
            updated_at=agent.updated_at,
        )


class GroupIn(Input):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "华东维修组", "business_line": "home-appliance"}]}
    )

    name: Line = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=1000)
    business_line: Tag | None = None

    def to_data(self) -> GroupData:
        return GroupData(name=self.name, description=self.description, business_line=self.business_line)


class GroupOut(Output):
    id: UUID
    key: str
    name: str
    description: str | None
    business_line: str | None
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
            version=group.version,
            created_at=group.created_at,
            updated_at=group.updated_at,
        )
