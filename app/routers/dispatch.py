"""/v1/dispatch-rules (派单规则): which agent new and returned work goes to; managers and admins change the rules and
try them (simulate), staff read them. And the agent's side of dispatch: availability (在线/离开/离线) and a manager's
rebalance of an absent agent's work."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Response

from app.domain.pagination import PageRequest
from app.schemas.common import PageOut, problems, upserted
from app.schemas.dispatch import (
    RULE_KEY_PATTERN,
    DecisionOut,
    DispatchRuleIn,
    DispatchRuleOut,
    RebalanceOut,
    SimulationIn,
)
from app.schemas.people import USER_ID_PATTERN, AgentOut, AvailabilityIn
from app.web.auth import SettingsWriter, Staff
from app.web.pagination import page_out, page_request
from app.web.preconditions import Guarded
from app.web.responses import saved, versioned
from app.web.routes import api_router
from app.web.wiring import Svc

router = api_router(tags=["dispatch"])

RuleKey = Annotated[str, Path(pattern=RULE_KEY_PATTERN, description="The rule's key.")]
UserIdPath = Annotated[str, Path(pattern=USER_ID_PATTERN, description="The agent's user id (JWT `sub`).")]


@router.put("/v1/dispatch-rules/{key}", responses=upserted(DispatchRuleOut, 412, 422, 428))
async def put_dispatch_rule(
    key: RuleKey, body: DispatchRuleIn, _: SettingsWriter, precondition: Guarded, response: Response, svc: Svc
) -> DispatchRuleOut:
    """Create (201) or replace (200) a rule. Rules are tried by `position` (then key); the first whose conditions
    all hold decides with its strategy among its group's eligible agents (active, available, on shift, below
    capacity, holding the required skills). Unknown groups or skills (no agent holds them), values a field never
    holds and optional skills for another strategy are a 422 `invalid_dispatch_rule` naming each field."""
    return saved(response, await svc.dispatch_rules.upsert(body.to_rule(key), precondition), DispatchRuleOut.of)


@router.get("/v1/dispatch-rules/{key}", responses=problems(404, 422))
async def get_dispatch_rule(key: RuleKey, _: Staff, response: Response, svc: Svc) -> DispatchRuleOut:
    """One rule, with its ETag."""
    return versioned(response, await svc.dispatch_rules.get(key), DispatchRuleOut.of)


@router.get("/v1/dispatch-rules", responses=problems(422))
async def list_dispatch_rules(
    _: Staff, page: Annotated[PageRequest, Depends(page_request)], svc: Svc
) -> PageOut[DispatchRuleOut]:
    """The rules in the order they are tried."""
    return page_out(await svc.dispatch_rules.list(page), DispatchRuleOut.of)


@router.delete("/v1/dispatch-rules/{key}", status_code=204, responses=problems(404, 412, 422, 428))
async def delete_dispatch_rule(key: RuleKey, _: SettingsWriter, precondition: Guarded, svc: Svc) -> Response:
    """Delete a rule; `If-Match` with its ETag is required (428 without)."""
    await svc.dispatch_rules.delete(key, precondition)
    return Response(status_code=204)


@router.post("/v1/dispatch-rules/simulate", responses=problems(404, 422))
async def simulate_dispatch(body: SimulationIn, principal: SettingsWriter, svc: Svc) -> DecisionOut:
    """派单试算: the decision dispatch would take now for an existing ticket (`ticket_id`) or a ticket as intake would
    take it in (`ticket`, checked as intake checks it: a 422 names each bad field), with every candidate and why;
    nothing is assigned or stored. No rule at all: `rule` null, `pool_reason` says so."""
    draft = body.ticket.to_draft() if body.ticket is not None else None
    decision, now = await svc.tickets.simulate(principal, body.ticket_id, draft)
    return DecisionOut.simulated(decision, now)


@router.put("/v1/agents/{user_id}/availability", responses=problems(403, 404, 422))
async def set_availability(user_id: UserIdPath, body: AvailabilityIn, principal: Staff, svc: Svc) -> AgentOut:
    """在线状态, set by the agent themselves (or a manager): `available` takes new work; `away` keeps what they hold;
    `offline` also returns their not yet started tickets to dispatch. Becoming available serves the backlog of their
    groups first, up to their free capacity."""
    return AgentOut.of(await svc.availability.set(principal, user_id, body.availability))


@router.post("/v1/agents/{user_id}/actions/rebalance", responses=problems(404, 409, 422))
async def rebalance_agent(user_id: UserIdPath, principal: SettingsWriter, svc: Svc) -> RebalanceOut:
    """Every open ticket of an agent who is away or offline goes through dispatch again: to another eligible agent,
    or into the backlog (each decision on the ticket's timeline). An available agent: 409 `agent_available`."""
    moved = await svc.availability.rebalance(principal, user_id)
    return RebalanceOut(moved=moved.moved, assigned=moved.assigned, skipped=moved.skipped)
