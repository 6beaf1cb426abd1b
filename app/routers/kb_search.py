"""/v1/kb/search: the knowledge base's live articles a query finds, in Chinese and English alike."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from app.domain.kb_articles import Language, Visibility
from app.domain.kb_search import MAX_QUERY, SearchQuery
from app.domain.kb_tokens import fold
from app.domain.pagination import PageRequest
from app.schemas.common import PageOut, problems
from app.schemas.kb_search import SearchHitOut
from app.web.auth import Anyone
from app.web.pagination import page_out, page_request
from app.web.query_params import refuse_unknown_parameters
from app.web.routes import api_router
from app.web.wiring import Svc
from app.workflows.kb_article import Name

router = api_router(prefix="/v1/kb", tags=["knowledge base"])
Page = Annotated[PageRequest, Depends(page_request)]


@router.get("/search", responses=problems(422))
async def search_kb(
    request: Request,
    principal: Anyone,
    page: Page,
    svc: Svc,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY, description="Words or Chinese text, any mix.")],
    language: Annotated[Language | None, Query(description="Only articles in this language.")] = None,
    category: Annotated[Name | None, Query(description="Only articles of this category.")] = None,
    product_line: Annotated[Name | None, Query(description="Only articles for this product line.")] = None,
    visibility: Annotated[Visibility | None, Query(description="Staff: only internal or only public articles.")] = None,
) -> PageOut[SearchHitOut]:
    """Live articles holding every word of `q` (a Latin word also as the start of a longer one; a Chinese run as a
    phrase, one character included), after folding full-width, case and Traditional characters. Best first: title
    over tags over body, helpful articles up, then the most recently published. Customers find published public
    articles only. A query with nothing to search for, or an unknown parameter, is a 422 naming it."""
    refuse_unknown_parameters(request)
    query = SearchQuery.parse(
        q,
        language=language,
        category=category,
        product_line=fold(product_line) if product_line else None,
        visibility=visibility,
    )
    found = await svc.kb_search.search(principal, query, page)
    return page_out(found, lambda hit: SearchHitOut.of(hit, principal))
