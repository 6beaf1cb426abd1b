"""/v1/review-queues (审核队列) with each queue's claim pool, and /v1/queues/reviews: the reviews I have claimed.
Admins and business-line managers configure queues; staff read them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Response

from app.domain.pagination import PageRequest
from app.domain.principal import Principal
from app.schemas.after_sales import AfterSalesOut
from app.schemas.common import KeyPath, PageOut, problems, upserted
from app.schemas.review_queues import ReviewPoolOut, ReviewQueueIn, ReviewQueueOut
from app.services.after_sales import AfterSalesView
from app.web.auth import SettingsWriter, Staff
from app.web.language import Lang
from app.web.pagination import encode_cursor, page_out, page_request
from app.web.preconditions import Guarded
from app.web.responses import saved, versioned
from app.web.routes import api_router
from app.web.wiring import Svc

router = api_router(tags=["review queues"])
Page = Annotated[PageRequest, Depends(page_request)]


def _order(view: AfterSalesView, principal: Principal, language: str) -> AfterSalesOut:
    return AfterSalesOut.of(view.order, view.available_actions, principal, language, view.sla, view.approval)


@router.put("/v1/review-queues/{key}", responses=upserted(ReviewQueueOut, 412, 422, 428))
async def put_review_queue(
    key: KeyPath, body: ReviewQueueIn, principal: SettingsWriter, precondition: Guarded, response: Response, svc: Svc
) -> ReviewQueueOut:
    """Create (201) or replace (200) a queue. Admins configure every queue; a manager scoped to business lines only
    queues whose every line (as sent, and as stored before) is theirs, so a queue naming no line needs an admin or an
    unscoped manager (403). Reviewers must be registered, active agents (422 `invalid_review_queue` naming
    `#/reviewers/<i>`); an amount range needs `min` < `max`. It applies to orders entering review from now on."""
    return saved(
        response, await svc.review_queues.upsert(principal, key, body.to_data(), precondition), ReviewQueueOut.of
    )


@router.get("/v1/review-queues/{key}", responses=problems(404, 422))
async def get_review_queue(key: KeyPath, _: Staff, response: Response, svc: Svc) -> ReviewQueueOut:
    """One queue, with its ETag."""
    return versioned(response, await svc.review_queues.get(key), ReviewQueueOut.of)


@router.get("/v1/review-queues", responses=problems(422))
async def list_review_queues(_: Staff, page: Page, svc: Svc) -> PageOut[ReviewQueueOut]:
    """Every queue in the order orders are matched against them: by position, then key."""
    return page_out(await svc.review_queues.list(page), ReviewQueueOut.of)


@router.delete("/v1/review-queues/{key}", status_code=204, responses=problems(404, 409, 412, 422, 428))
async def delete_review_queue(key: KeyPath, principal: SettingsWriter, precondition: Guarded, svc: Svc) -> Response:
    """Delete a queue; `If-Match` with its ETag is required (428 without). Refused (409 `review_queue_in_use`) while an
    order waits unclaimed in it; orders already claimed from it keep its key and their holder."""
    await svc.review_queues.delete(principal, key, precondition)
    return Response(status_code=204)


@router.get("/v1/review-queues/{key}/pool", responses=problems(404, 422))
async def review_queue_pool(key: KeyPath, principal: Staff, language: Lang, page: Page, svc: Svc) -> ReviewPoolOut:
    """待领取: the queue's unclaimed orders under review in the caller's business lines, oldest first, with the pool's
    size and the age of its oldest order. The queue's reviewers (and managers) claim one with
    `POST /v1/after-sales/{id}/actions/claim`; `available_actions` says who may."""
    found, stats = await svc.review_queues.pool(principal, key, page)
    now = svc.clock.now()
    return ReviewPoolOut(
        items=[_order(view, principal, language) for view in found.items],
        next_cursor=encode_cursor(found.next_key),
        total=stats.total,
        oldest_age_seconds=int((now - stats.oldest_created_at).total_seconds()) if stats.oldest_created_at else None,
    )


@router.get("/v1/queues/reviews", responses=problems(422))
async def my_reviews(principal: Staff, language: Lang, page: Page, svc: Svc) -> PageOut[AfterSalesOut]:
    """The orders under review I have claimed (from any queue or the general pool), latest activity first."""
    found = await svc.review_queues.held(principal, page)
    return page_out(found, lambda view: _order(view, principal, language))
