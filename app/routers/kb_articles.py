"""/v1/kb/articles (知识库): staff write articles and managers approve them; everyone reads what they may (customers:
published public articles only)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Body, Depends, Path, Query, Response, status

from app.domain.kb_articles import ArticleFilter, ArticleSort, Language, Visibility
from app.domain.pagination import PageRequest
from app.schemas.common import PageOut, problems
from app.schemas.kb_articles import ArticleEditIn, ArticleIn, ArticleOut, ArticleVersionOut
from app.schemas.workflows import ActionIn, action_payloads
from app.web.auth import Anyone, Staff, Worker
from app.web.pagination import page_out, page_request
from app.web.preconditions import Guarded, set_etag
from app.web.query_params import one_of
from app.web.routes import api_router
from app.web.wiring import Svc
from app.workflows.kb_article import KB_ARTICLE, Name

router = api_router(prefix="/v1/kb/articles", tags=["knowledge base"])
Page = Annotated[PageRequest, Depends(page_request)]
ArticleId = Annotated[UUID, Path(description="The article's id.")]
Render = Annotated[
    str | None, Query(pattern="^html$", description="`html`: also answer `body_html`, the body as sanitised HTML.")
]


@router.post("", status_code=status.HTTP_201_CREATED, responses=problems(422))
async def create_kb_article(body: ArticleIn, principal: Worker, response: Response, svc: Svc) -> ArticleOut:
    """Write a new article as a draft (version 1); `submit` it for a manager's approval to publish it."""
    view = await svc.kb_articles.create(principal, body.to_draft())
    set_etag(response, view.article.version)
    response.headers["Location"] = f"/v1/kb/articles/{view.article.id}"
    return ArticleOut.of(view, principal)


@router.get("", responses=problems(422))
async def list_kb_articles(
    principal: Anyone,
    page: Page,
    svc: Svc,
    status_: Annotated[list[str] | None, Query(alias="status", description="Staff: any of these states.")] = None,
    language: Annotated[Language | None, Query(description="Only articles in this language.")] = None,
    category: Annotated[Name | None, Query(description="Only articles of this category.")] = None,
    visibility: Annotated[Visibility | None, Query(description="Staff: only internal or only public articles.")] = None,
    sort: Annotated[
        ArticleSort,
        Query(description="`-created_at`: newest first; `-views` (staff): most read first, what customers ask most."),
    ] = ArticleSort.NEWEST,
) -> PageOut[ArticleOut]:
    """Articles newest first, or most read first (`sort=-views`, staff only). Customers see published public articles
    only (their live version); staff see every article of their business lines as its current version."""
    states = one_of(status_, (state.name for state in KB_ARTICLE.states), "status")
    where = ArticleFilter(
        statuses=frozenset(states) if states else None,
        language=language,
        category=category,
        visibility=visibility,
        sort=sort,
    )
    found = await svc.kb_articles.list(principal, where, page)
    return page_out(found, lambda view: ArticleOut.of(view, principal))


@router.get("/{article_id}", responses=problems(404, 422))
async def get_kb_article(
    article_id: ArticleId, principal: Anyone, response: Response, svc: Svc, render: Render = None
) -> ArticleOut:
    """One article as its reader sees it; an internal or unpublished article is not found (404) for customers."""
    view = await svc.kb_articles.get(principal, article_id)
    set_etag(response, view.article.version)
    return ArticleOut.of(view, principal, html=render is not None)


@router.patch("/{article_id}", responses=problems(404, 409, 412, 422, 428))
async def edit_kb_article(
    article_id: ArticleId, body: ArticleEditIn, principal: Worker, precondition: Guarded, response: Response, svc: Svc
) -> ArticleOut:
    """Write a new version (the `edit` action): a draft's or reviewed article's in place of its current version; a
    published article's goes to review while the published version stays live. An archived article is not edited
    (409)."""
    sent = body.model_dump(mode="json", exclude_unset=True)
    view = await svc.kb_articles.act(principal, article_id, "edit", sent, precondition)
    set_etag(response, view.article.version)
    return ArticleOut.of(view, principal)


@router.post(
    "/{article_id}/actions/{action}",
    responses=problems(404, 409, 412, 422, 428),
    openapi_extra=action_payloads("KbArticle"),
)
async def act_on_kb_article(
    article_id: ArticleId,
    action: Annotated[str, Path(pattern=r"^[a-z_]{1,32}$", description="One of the article workflow's actions.")],
    principal: Staff,
    precondition: Guarded,
    response: Response,
    svc: Svc,
    body: Annotated[ActionIn, Body()],
) -> ArticleOut:
    """submit, approve (a manager or admin who did not write the version), reject (reason) or archive. Not possible
    now → 409, nothing written."""
    view = await svc.kb_articles.act(principal, article_id, action, body.model_dump(exclude_unset=True), precondition)
    set_etag(response, view.article.version)
    return ArticleOut.of(view, principal)


@router.get("/{article_id}/versions", responses=problems(404, 422))
async def list_kb_article_versions(
    article_id: ArticleId, principal: Staff, page: Page, svc: Svc
) -> PageOut[ArticleVersionOut]:
    """Every version of the article, newest first, with its author and time."""
    found = await svc.kb_articles.versions(principal, article_id, page)
    return page_out(found, ArticleVersionOut.of)
