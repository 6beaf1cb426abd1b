"""/v1/webhook-endpoints and /v1/webhook-deliveries: where our events go, and what happened to each."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Query, Response, status

from app.domain.pagination import PageRequest
from app.domain.webhooks import DeliveryStatus
from app.schemas.common import PageOut, problems
from app.schemas.webhooks import (
    DeliveryOut,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    EndpointWithSecretOut,
    ReplayIn,
    ReplayOut,
)
from app.services.event_types import event_types
from app.services.webhooks import EndpointDraft, NewSecret
from app.web.auth import Integrator
from app.web.pagination import page_out, page_request
from app.web.preconditions import Guarded, set_etag
from app.web.responses import extended
from app.web.routes import api_router
from app.web.wiring import Svc

router = api_router(tags=["webhooks"])
Page = Annotated[PageRequest, Depends(page_request)]


def _with_secret(created: NewSecret) -> EndpointWithSecretOut:
    return extended(EndpointOut.of(created.endpoint), EndpointWithSecretOut, secret=created.secret)


@router.post("/v1/webhook-endpoints", status_code=status.HTTP_201_CREATED, responses=problems(422))
async def create_webhook_endpoint(
    body: EndpointIn, principal: Integrator, response: Response, svc: Svc
) -> EndpointWithSecretOut:
    """Subscribe a URL to event types. The answer carries the signing secret (`whsec_…`) this once. Deliveries
    are Standard Webhooks: `webhook-id`, `webhook-timestamp` and `webhook-signature` (`v1,<base64 HMAC-SHA256 of
    id.timestamp.body>`). URLs of loopback, private, link-local or metadata addresses are refused."""
    draft = EndpointDraft(body.url, tuple(dict.fromkeys(body.event_types)), body.description, body.enabled)
    created = await svc.webhooks.create(principal, draft)
    set_etag(response, created.endpoint.version)
    response.headers["Location"] = f"/v1/webhook-endpoints/{created.endpoint.id}"
    return _with_secret(created)


@router.get("/v1/webhook-endpoints", responses=problems(422))
async def list_webhook_endpoints(principal: Integrator, page: Page, svc: Svc) -> PageOut[EndpointOut]:
    """Admins see every endpoint; an integration sees those it registered."""
    return page_out(await svc.webhooks.list(principal, page), EndpointOut.of)


@router.get("/v1/webhook-endpoints/{id}", responses=problems(404, 422))
async def get_webhook_endpoint(id: UUID, principal: Integrator, response: Response, svc: Svc) -> EndpointOut:
    """One endpoint (never its secret)."""
    endpoint = await svc.webhooks.get(principal, id)
    set_etag(response, endpoint.version)
    return EndpointOut.of(endpoint)


@router.patch("/v1/webhook-endpoints/{id}", responses=problems(404, 412, 422, 428))
async def patch_webhook_endpoint(
    id: UUID, body: EndpointPatch, principal: Integrator, precondition: Guarded, response: Response, svc: Svc
) -> EndpointOut:
    """Change the URL, event types, description, or enable/disable it (enabling clears why it was disabled)."""
    changes: dict[str, object] = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    if "event_types" in changes:
        changes["event_types"] = tuple(dict.fromkeys(body.event_types or ()))
    endpoint = await svc.webhooks.update(principal, id, changes, precondition)
    set_etag(response, endpoint.version)
    return EndpointOut.of(endpoint)


@router.post("/v1/webhook-endpoints/{id}/rotate-secret", responses=problems(404, 412, 428))
async def rotate_webhook_secret(
    id: UUID, principal: Integrator, precondition: Guarded, response: Response, svc: Svc
) -> EndpointWithSecretOut:
    """A new secret, shown this once; for 24 hours deliveries carry signatures with both the new and the old."""
    rotated = await svc.webhooks.rotate_secret(principal, id, precondition)
    set_etag(response, rotated.endpoint.version)
    return _with_secret(rotated)


@router.get("/v1/webhook-endpoints/{id}/deliveries", responses=problems(404, 422))
async def list_webhook_deliveries(
    id: UUID,
    principal: Integrator,
    page: Page,
    svc: Svc,
    status_: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
) -> PageOut[DeliveryOut]:
    """The endpoint's deliveries, newest first, each with every try: status code, error and duration."""
    found = await svc.webhooks.deliveries(principal, id, status_, page)
    return page_out(found, DeliveryOut.of)


@router.post("/v1/webhook-endpoints/{id}/replay", responses=problems(404, 422))
async def replay_webhook_events(id: UUID, body: ReplayIn, principal: Integrator, svc: Svc) -> ReplayOut:
    """Send again every event of a time range the endpoint subscribes to, including events from before it
    existed."""
    return ReplayOut(queued=await svc.webhooks.replay(principal, id, body.from_, body.to))


@router.post("/v1/webhook-deliveries/{id}/retry", responses=problems(404, 422))
async def retry_webhook_delivery(id: UUID, principal: Integrator, svc: Svc) -> DeliveryOut:
    """Send one delivery again now, whether it died, is waiting for its next try, or already succeeded."""
    return DeliveryOut.of(await svc.webhooks.retry(principal, id))


@router.get("/v1/webhook-event-types", responses=problems())
async def list_webhook_event_types(principal: Integrator) -> list[str]:
    """Every event type the service sends, for `event_types` filters."""
    return sorted(event_types())
