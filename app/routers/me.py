"""/v1/me: who the service thinks the caller is."""

from __future__ import annotations

from app.schemas.common import problems
from app.schemas.ops import MeOut
from app.web.auth import Anyone
from app.web.routes import api_router

router = api_router(prefix="/v1/me", tags=["people"])


@router.get("", responses=problems())
async def get_me(principal: Anyone) -> MeOut:
    """The authenticated caller: subject, roles, customer number and business lines."""
    return MeOut(
        subject=principal.subject,
        roles=sorted(principal.roles),
        customer_no=principal.customer_no,
        business_lines=sorted(principal.business_lines),
        authenticated_by="api_key" if principal.api_key_id else "token",
    )
