"""/v1/settings/ticket-auto-close: after how many days a resolved ticket completes itself."""

from __future__ import annotations

from fastapi import Response

from app.schemas.common import problems
from app.schemas.ticket_auto_close import TicketAutoCloseIn, TicketAutoCloseOut
from app.web.auth import SettingsWriter, Staff
from app.web.preconditions import Guarded, set_etag
from app.web.routes import api_router
from app.web.wiring import Svc

router = api_router(prefix="/v1/settings/ticket-auto-close", tags=["settings"])


@router.get("", responses=problems(422))
async def get_ticket_auto_close(_: Staff, response: Response, svc: Svc) -> TicketAutoCloseOut:
    """自动完成 rules in force: a ticket pending follow-up (已解决) for its type's days since its latest resolution is
    completed by the service (`complete`, actor `system`). Off by default, 7 days."""
    rules = await svc.ticket_auto_close.rules()
    set_etag(response, rules.version)
    return TicketAutoCloseOut.of(rules)


@router.put("", responses=problems(412, 422, 428))
async def put_ticket_auto_close(
    body: TicketAutoCloseIn, principal: SettingsWriter, precondition: Guarded, response: Response, svc: Svc
) -> TicketAutoCloseOut:
    """Replace the auto-close rules (managers and admins). Send If-Match with the ETag last read. The next pass of
    the job (within a minute) applies them, to tickets already waiting as well."""
    rules = await svc.ticket_auto_close.set_rules(principal, body.to_domain(), precondition)
    set_etag(response, rules.version)
    return TicketAutoCloseOut.of(rules)
