"""/v1/sla-rederivations: the progress of deriving open tickets' SLA timers again after a policy or calendar change;
staff read it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.domain.pagination import PageRequest
from app.schemas.common import PageOut, problems
from app.schemas.sla import SlaRederivationOut
from app.web.auth import Staff
from app.web.pagination import page_out, page_request
from app.web.routes import api_router
from app.web.wiring import Svc

router = api_router(prefix="/v1/sla-rederivations", tags=["sla policies"])


@router.get("", responses=problems(422))
async def list_sla_rederivations(
    _: Staff, page: Annotated[PageRequest, Depends(page_request)], svc: Svc
) -> PageOut[SlaRederivationOut]:
    """Re-derivations, newest first, in keyset pages: every committed policy or calendar change requests one, and
    the `sla_rederive` job walks the open tickets' timers in batches, counting them in `done`."""
    return page_out(await svc.sla.rederivations(page), SlaRederivationOut.of)
