"""/v1/sla-policies: what each ticket and after-sales order is promised (服务级别协议), as an ordered list per subject;
managers and admins change it, staff read it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Response

from app.domain.sla_policies import Subject
from app.schemas.common import problems, upserted
from app.schemas.sla_policies import POLICY_KEY_PATTERN, SlaPolicyIn, SlaPolicyListOut, SlaPolicyOrderIn, SlaPolicyOut
from app.web.auth import SettingsWriter, Staff
from app.web.preconditions import Guarded
from app.web.responses import saved, versioned
from app.web.routes import api_router
from app.web.wiring import Svc

router = api_router(prefix="/v1/sla-policies", tags=["sla policies"])

PolicyKey = Annotated[str, Path(pattern=POLICY_KEY_PATTERN, description="The policy's key.")]


@router.put("/{key}", responses=upserted(SlaPolicyOut, 412, 422, 428))
async def put_sla_policy(
    key: PolicyKey, body: SlaPolicyIn, _: SettingsWriter, precondition: Guarded, response: Response, svc: Svc
) -> SlaPolicyOut:
    """Create (201) or replace (200) a policy by key, at `position` in its subject's order: the policy there and
    those after it move one place later (a policy moved within its subject first leaves its own place); a position
    past the end is refused. The subject's whole resulting list is checked: its last policy must have no conditions
    (the default), and metrics, states, priorities, calendars and groups must exist (422 `invalid_sla_policy`, each
    named, e.g. `#/targets/first_reply/high/calendar`). An identical policy keeps its version."""
    return saved(response, await svc.sla_policies.upsert(body.to_policy(key), precondition), SlaPolicyOut.of)


@router.get("/{key}", responses=problems(404, 422))
async def get_sla_policy(key: PolicyKey, _: Staff, response: Response, svc: Svc) -> SlaPolicyOut:
    """One policy, with its ETag."""
    return versioned(response, await svc.sla_policies.get(key), SlaPolicyOut.of)


@router.get("", responses=problems(422))
async def list_sla_policies(
    subject: Annotated[Subject, Query(description="Whose policies: `ticket` or `after_sales`.")], _: Staff, svc: Svc
) -> SlaPolicyListOut:
    """Every policy of a subject in the order they are tried (position 1 first). Not keyset pages: a subject holds
    at most 200 policies, and the order is only meaningful whole."""
    return SlaPolicyListOut.of(subject, await svc.sla_policies.ordered(subject))


@router.post("/order", responses=problems(422))
async def reorder_sla_policies(body: SlaPolicyOrderIn, _: SettingsWriter, svc: Svc) -> SlaPolicyListOut:
    """Put a subject's policies in a new order: `keys` names every one of them exactly once (an unknown, repeated or
    missing key is a 422 naming `#/keys/<i>` or `#/keys`), and positions become 1..n. The order is checked as a
    whole: its last policy must have no conditions. Each policy that moves gets the next version."""
    return SlaPolicyListOut.of(body.subject, await svc.sla_policies.reorder(body.subject, body.keys))


@router.delete("/{key}", status_code=204, responses=problems(404, 409, 412, 422, 428))
async def delete_sla_policy(key: PolicyKey, _: SettingsWriter, precondition: Guarded, svc: Svc) -> Response:
    """Delete a policy; `If-Match` with its ETag is required (428 without), as a deletion cannot be undone. Those
    after it move up. A subject that keeps other policies must keep a default last (409 `sla_default_required`)."""
    await svc.sla_policies.delete(key, precondition)
    return Response(status_code=204)
