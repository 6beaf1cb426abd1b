"""/v1/queues: the claim pool (待领取池) and my open work."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.domain.pagination import PageRequest
from app.schemas.common import PageOut, problems
from app.schemas.tickets import PoolOut, TicketOut
from app.web.auth import Worker
from app.web.language import Lang
from app.web.pagination import encode_cursor, page_out, page_request
from app.web.routes import api_router
from app.web.wiring import Svc
from app.workflows.ticket import TICKET

router = api_router(prefix="/v1/queues", tags=["queues"])


@router.get("/pool", responses=problems(422))
async def claim_pool(
    principal: Worker, language: Lang, page: Annotated[PageRequest, Depends(page_request)], svc: Svc
) -> PoolOut:
    """Unassigned tickets of the caller's groups and business lines, oldest first, with the pool's size and the
    age of its oldest ticket. Claim one with `POST /v1/tickets/{id}/actions/claim`."""
    found, stats = await svc.tickets.pool(principal, page)
    now = svc.clock.now()
    return PoolOut(
        items=[TicketOut.of(v.ticket, v.available_actions, principal, TICKET, language, v.sla) for v in found.items],
        next_cursor=encode_cursor(found.next_key),
        total=stats.total,
        oldest_age_seconds=int((now - stats.oldest_created_at).total_seconds()) if stats.oldest_created_at else None,
    )


@router.get("/mine", responses=problems(422))
async def my_queue(
    principal: Worker, language: Lang, page: Annotated[PageRequest, Depends(page_request)], svc: Svc
) -> PageOut[TicketOut]:
    """My open tickets (assigned, in progress, waiting on the customer, pending follow-up), latest activity first."""
    found = await svc.tickets.mine(principal, page)
    return page_out(found, lambda v: TicketOut.of(v.ticket, v.available_actions, principal, TICKET, language, v.sla))
