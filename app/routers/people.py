"""/v1/agents and /v1/groups: who works tickets; HR/admin systems upsert them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Response

from app.domain.pagination import PageRequest
from app.schemas.common import KeyPath, PageOut, problems, upserted
from app.schemas.people import USER_ID_PATTERN, AgentIn, AgentOut, GroupIn, GroupOut
from app.web.auth import PeopleWriter, StaffOrIntegration
from app.web.pagination import page_out, page_request
from app.web.preconditions import Guarded
from app.web.responses import saved, versioned
from app.web.routes import api_router
from app.web.wiring import Svc

router = api_router(tags=["people"])

UserIdPath = Annotated[str, Path(pattern=USER_ID_PATTERN, description="The agent's user id (JWT `sub`).")]


@router.put("/v1/agents/{user_id}", responses=upserted(AgentOut, 412, 422, 428))
async def put_agent(
    user_id: UserIdPath, body: AgentIn, _: PeopleWriter, precondition: Guarded, response: Response, svc: Svc
) -> AgentOut:
    """Create (201) or replace (200) an agent: roles, groups, skills, regions, product lines, capacity."""
    return saved(response, await svc.people.upsert_agent(user_id, body.to_data(), precondition), AgentOut.of)


@router.get("/v1/agents/{user_id}", responses=problems(404, 422))
async def get_agent(user_id: UserIdPath, _: StaffOrIntegration, response: Response, svc: Svc) -> AgentOut:
    """One agent."""
    return versioned(response, await svc.people.get_agent(user_id), AgentOut.of)


@router.get("/v1/agents", responses=problems(422))
async def list_agents(
    _: StaffOrIntegration,
    page: Annotated[PageRequest, Depends(page_request)],
    svc: Svc,
    active: Annotated[bool | None, Query(description="Only active (true) or inactive (false) agents.")] = None,
) -> PageOut[AgentOut]:
    """Agents, newest first."""
    return page_out(await svc.people.list_agents(page, active=active), AgentOut.of)


@router.put("/v1/groups/{key}", responses=upserted(GroupOut, 412, 422, 428))
async def put_group(
    key: KeyPath, body: GroupIn, _: PeopleWriter, precondition: Guarded, response: Response, svc: Svc
) -> GroupOut:
    """Create (201) or replace (200) a group; its unassigned tickets form its claim pool."""
    return saved(response, await svc.people.upsert_group(key, body.to_data(), precondition), GroupOut.of)


@router.get("/v1/groups/{key}", responses=problems(404, 422))
async def get_group(key: KeyPath, _: StaffOrIntegration, response: Response, svc: Svc) -> GroupOut:
    """One group."""
    return versioned(response, await svc.people.get_group(key), GroupOut.of)


@router.get("/v1/groups", responses=problems(422))
async def list_groups(
    _: StaffOrIntegration, page: Annotated[PageRequest, Depends(page_request)], svc: Svc
) -> PageOut[GroupOut]:
    """Groups, newest first."""
    return page_out(await svc.people.list_groups(page), GroupOut.of)
