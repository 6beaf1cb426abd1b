"""Solved cases (seeds 002/003): draft a knowledge base article from a resolved ticket, and link articles to the
tickets they solved. Staff only: customers never see which tickets an article solved."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Path, Response, status

from app.domain.pagination import PageRequest
from app.schemas.common import PageOut, problems
from app.schemas.kb_articles import ArticleOut
from app.schemas.kb_cases import CaseDraftIn, LinkedArticleOut, LinkedTicketOut, TicketLinkOut
from app.services.kb_cases import CaseDraft
from app.web.auth import Staff, Worker
from app.web.pagination import page_out, page_request
from app.web.preconditions import set_etag
from app.web.refs import uuid_or_number
from app.web.routes import api_router
from app.web.wiring import Svc

router = api_router(tags=["knowledge base"])
Page = Annotated[PageRequest, Depends(page_request)]
ArticleId = Annotated[UUID, Path(description="The article's id.")]


async def _ticket_ref(
    ticket_id: Annotated[str, Path(description="The ticket's UUID or its number, e.g. T-2026-000123.")],
) -> UUID | str:
    return uuid_or_number(ticket_id)


TicketRef = Annotated[UUID | str, Depends(_ticket_ref)]


@router.post("/v1/kb/articles/from-ticket", status_code=status.HTTP_201_CREATED, responses=problems(404, 409, 422))
async def draft_kb_article(body: CaseDraftIn, principal: Worker, response: Response, svc: Svc) -> ArticleOut:
    """沉淀案例: a draft article from a resolved ticket (pending follow-up, completed or closed, with a solution) in one
    step: the ticket's title, description, fault description and solution as sections, its category, tags and
    business line; linked to the ticket as its source. The resolution's internal note, internal comments, costs and
    the customer's details are never copied. A ticket not resolved → 409 `ticket_not_resolved`; unknown or out of the
    caller's scope → 404."""
    draft = CaseDraft(uuid_or_number(body.ticket_id), body.language, body.visibility, body.title)
    view = await svc.kb_cases.draft_from_ticket(principal, draft)
    set_etag(response, view.article.version)
    response.headers["Location"] = f"/v1/kb/articles/{view.article.id}"
    return ArticleOut.of(view, principal)


@router.put("/v1/kb/articles/{article_id}/tickets/{ticket_id}", responses=problems(404, 422))
async def link_kb_article_ticket(
    article_id: ArticleId, ticket: TicketRef, principal: Worker, response: Response, svc: Svc
) -> TicketLinkOut:
    """Record that the article solved the ticket (201); linking again changes nothing and answers the first link
    (200). An unknown ticket or article → 404 naming it."""
    outcome = await svc.kb_cases.link(principal, article_id, ticket)
    response.status_code = status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK
    return TicketLinkOut.of(outcome)


@router.delete("/v1/kb/articles/{article_id}/tickets/{ticket_id}", status_code=204, responses=problems(404, 422))
async def unlink_kb_article_ticket(article_id: ArticleId, ticket: TicketRef, principal: Worker, svc: Svc) -> Response:
    """Remove the link (204, whether there was one or not)."""
    await svc.kb_cases.unlink(principal, article_id, ticket)
    return Response(status_code=204)


@router.get("/v1/kb/articles/{article_id}/tickets", responses=problems(404, 422))
async def list_kb_article_tickets(
    article_id: ArticleId, principal: Staff, page: Page, svc: Svc
) -> PageOut[LinkedTicketOut]:
    """The tickets this article solved, newest link first (tickets of the caller's business lines)."""
    return page_out(await svc.kb_cases.tickets_of(principal, article_id, page), LinkedTicketOut.of)


@router.get("/v1/tickets/{ticket_id}/kb-articles", tags=["tickets"], responses=problems(404, 422))
async def list_ticket_kb_articles(
    ticket: TicketRef, principal: Staff, page: Page, svc: Svc
) -> PageOut[LinkedArticleOut]:
    """The knowledge base articles linked to this ticket, newest link first."""
    return page_out(await svc.kb_cases.articles_of(principal, ticket, page), LinkedArticleOut.of)
