"""/v1/inbound/{source}: signed events from the payment centre, the WMS/logistics system, the ERP and the CRM; and
/v1/inbound-events, what arrived and what became of it."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Query, Response, status

from app.domain.inbound import InboundFilter, InboundSource, InboundStatus
from app.domain.pagination import PageRequest
from app.schemas.common import PageOut, problems
from app.schemas.inbound import (
    EVENT_TYPE_PATTERN,
    InboundEventDetailOut,
    InboundEventIn,
    InboundEventOut,
    InboundReceiptOut,
)
from app.web.auth import Integrator, SignedBySource
from app.web.pagination import page_out, page_request
from app.web.routes import api_router
from app.web.wiring import Svc

router = api_router(tags=["inbound events"])
Page = Annotated[PageRequest, Depends(page_request)]

_SIGNED_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": InboundEventIn.model_json_schema()}},
    }
}
"""The body is read only once its signature matched, so it is documented here rather than parsed by FastAPI."""
_RECEIVE_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"model": InboundReceiptOut, "description": "A type not handled from this source: kept for inspection."},
    **{code: spec for code, spec in problems(404, 409, 413, 422).items() if code != 403},
}


@router.post("/v1/inbound/{source}", responses=_RECEIVE_RESPONSES, openapi_extra=_SIGNED_BODY)
async def receive_inbound_event(message: SignedBySource, response: Response, svc: Svc) -> InboundReceiptOut:
    """An event from another system, signed as Standard Webhooks with the source's secret (no token: a bad or missing
    signature is 401 `invalid_signature`, a timestamp more than 5 minutes off 401 `stale_timestamp`, an unconfigured
    source 404). The body is `{"type", "data"}`. Each event is kept once per webhook-id: a replay of a processed
    event answers 200 `duplicate` and does nothing; a type not handled from this source is kept as `unknown` (202);
    a domain error while processing (404, 409, 422 with pointers into `data`) is answered and kept as `failed`, and
    the next delivery with the same webhook-id is processed again."""
    event = InboundEventIn.parse(message.body)
    receipt = await svc.inbound.receive(message.source, message.webhook_id, event.type, event.data, event.payload)
    if receipt.event.status is InboundStatus.UNKNOWN and not receipt.duplicate:
        response.status_code = status.HTTP_202_ACCEPTED
    return InboundReceiptOut.of(receipt)


@router.get("/v1/inbound-events", responses=problems(422))
async def list_inbound_events(
    _: Integrator,
    page: Page,
    svc: Svc,
    source: Annotated[InboundSource | None, Query(description="Only events from this source. Not with `type`.")] = None,
    status_: Annotated[InboundStatus | None, Query(alias="status")] = None,
    type_: Annotated[
        str | None,
        Query(alias="type", pattern=EVENT_TYPE_PATTERN, description="Only events of this type. Not with `source`."),
    ] = None,
) -> PageOut[InboundEventOut]:
    """Inbound events, newest first, by source, status and type (admins and integrations)."""
    where = InboundFilter(source=source.value if source else None, status=status_, type=type_)
    return page_out(await svc.inbound.list(where, page), InboundEventOut.of)


@router.get("/v1/inbound-events/{id}", responses=problems(404, 422))
async def get_inbound_event(id: UUID, _: Integrator, svc: Svc) -> InboundEventDetailOut:
    """One inbound event with its body as sent and the outcome of processing it."""
    return InboundEventDetailOut.of(await svc.inbound.get(id))
