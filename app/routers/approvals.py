"""/v1/approvals (审批): what waits for me, one decision at a time; /v1/settings/approval-chains: who approves
what."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Query, Response

from app.domain.approvals import ApprovalFilter, Status, SubjectKind
from app.domain.pagination import PageRequest
from app.schemas.approvals import ApprovalOut, ChainIn, ChainOut, DecisionIn
from app.schemas.common import PageOut, problems
from app.web.auth import SettingsWriter, Staff
from app.web.pagination import page_out, page_request
from app.web.preconditions import Guarded, set_etag
from app.web.routes import api_router
from app.web.wiring import Svc

router = api_router(tags=["approvals"])
Page = Annotated[PageRequest, Depends(page_request)]


@router.get("/v1/approvals", responses=problems(422))
async def list_approvals(
    principal: Staff,
    page: Page,
    svc: Svc,
    mine: Annotated[
        bool, Query(description="Only pending approvals you may decide now (default); false: every approval.")
    ] = True,
    status_: Annotated[list[Status] | None, Query(alias="status")] = None,
    kind: Annotated[SubjectKind | None, Query()] = None,
    subject_id: Annotated[UUID | None, Query(description="Approvals of this task or after-sales order.")] = None,
) -> PageOut[ApprovalOut]:
    """待我审批 by default: pending approvals whose current level you may decide (by name or by role), newest
    first. Your own requests never wait for you."""
    where = ApprovalFilter(
        approver=principal if mine else None, statuses=tuple(status_ or ()), kind=kind, subject_id=subject_id
    )
    found, refused = await svc.approvals.list(principal, where, page)
    return page_out(found, lambda approval: ApprovalOut.of(approval, principal, refused=approval.id in refused))


@router.get("/v1/approvals/{id}", responses=problems(404, 422))
async def get_approval(id: UUID, principal: Staff, response: Response, svc: Svc) -> ApprovalOut:
    """One approval with its levels and every vote."""
    approval, refused = await svc.approvals.get(principal, id)
    set_etag(response, approval.version)
    return ApprovalOut.of(approval, principal, refused=refused)


@router.post("/v1/approvals/{id}/decision", responses=problems(404, 409, 412, 422, 428))
async def decide_approval(
    id: UUID, body: DecisionIn, principal: Staff, precondition: Guarded, response: Response, svc: Svc
) -> ApprovalOut:
    """Approve or reject at the approval's current level. Only its designated approvers may (403 otherwise, and
    for one's own request); deciding twice, or a closed approval, is a 409. Rejection ends the chain; the final
    outcome moves the task or after-sales order on."""
    data = {"approved_hours": body.approved_hours} if body.approved_hours is not None else {}
    approval = await svc.approvals.decide(principal, id, body.decision, body.comment, data, precondition)
    set_etag(response, approval.version)
    return ApprovalOut.of(approval, principal)


@router.get("/v1/settings/approval-chains", tags=["settings"], responses=problems())
async def list_approval_chains(principal: Staff, svc: Svc) -> list[ChainOut]:
    """Every kind of approval with the chain that applies to it now (the default until one is saved)."""
    return [ChainOut.of(await svc.approvals.chain(kind)) for kind in SubjectKind]


@router.get("/v1/settings/approval-chains/{kind}", tags=["settings"], responses=problems(404, 422))
async def get_approval_chain(kind: SubjectKind, principal: Staff, response: Response, svc: Svc) -> ChainOut:
    """The chain for one kind of approval; its ETag guards a change."""
    chain = await svc.approvals.chain(kind)
    set_etag(response, chain.version)
    return ChainOut.of(chain)


@router.put("/v1/settings/approval-chains/{kind}", tags=["settings"], responses=problems(412, 422, 428))
async def put_approval_chain(
    kind: SubjectKind, body: ChainIn, principal: SettingsWriter, precondition: Guarded, response: Response, svc: Svc
) -> ChainOut:
    """Replace a chain. Approvals already requested keep the levels they were given."""
    chain = await svc.approvals.save_chain(
        principal, kind, tuple(level.to_domain() for level in body.levels), precondition
    )
    set_etag(response, chain.version)
    return ChainOut.of(chain)
