"""/v1/kb/search: the knowledge base's live articles a query finds, in Chinese and English alike; /v1/kb/suggest
for type-ahead; /v1/kb/search-misses, the searches that found nothing."""

from __future__ import annotations

from typing import Annotated

from fastapi import BackgroundTasks, Depends, Query, Request

from app.domain.errors import FieldError, InvalidInput
from app.domain.kb_articles import Language, Visibility
from app.domain.kb_search import MAX_QUERY, SearchQuery
from app.domain.kb_search_misses import MissFilter
from app.domain.kb_tokens import fold
from app.domain.pagination import PageRequest
from app.schemas.common import PageOut, QueryInstant, problems
from app.schemas.kb_search import SearchHitOut
from app.schemas.kb_suggestions import SearchMissOut, TitleSuggestionOut, TitleSuggestionsOut
from app.web.auth import Anyone, ReportReader
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
    background: BackgroundTasks,
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
    articles only. A query word in a synonym group also searches as the group's other terms (ranked below the word
    itself). A first page that finds nothing is counted for the search misses report, after the answer. A query with
    nothing to search for, or an unknown parameter, is a 422 naming it."""
    refuse_unknown_parameters(request)
    query = SearchQuery.parse(
        q,
        language=language,
        category=category,
        product_line=fold(product_line) if product_line else None,
        visibility=visibility,
    )
    found = await svc.kb_search.search(principal, query, page)
    if not found.items and page.after is None:
        background.add_task(svc.kb_search.record_miss, principal, query)
    return page_out(found, lambda hit: SearchHitOut.of(hit, principal))


@router.get("/suggest", responses=problems(422))
async def suggest_kb_titles(
    request: Request,
    principal: Anyone,
    svc: Svc,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY, description="What was typed so far.")],
    language: Annotated[Language | None, Query(description="Only articles in this language.")] = None,
) -> TitleSuggestionsOut:
    """Type-ahead: up to 10 live article titles holding every word typed (the last one as a prefix, a Chinese run as
    a phrase, a partial one too), titles starting with it first, then the shorter ones. Customers get published
    public articles only. Searches here are not counted as misses."""
    refuse_unknown_parameters(request)
    query = SearchQuery.parse(q, language=language)
    hits = await svc.kb_suggestions.titles(principal, query)
    return TitleSuggestionsOut(items=[TitleSuggestionOut.of(hit) for hit in hits])


@router.get("/search-misses", responses=problems(422))
async def list_kb_search_misses(
    request: Request,
    principal: ReportReader,
    page: Page,
    svc: Svc,
    from_: Annotated[QueryInstant | None, Query(alias="from", description="Last seen at or after this time.")] = None,
    to: Annotated[QueryInstant | None, Query(description="Last seen before this time.")] = None,
) -> PageOut[SearchMissOut]:
    """知识缺口: searches that found nothing, the most frequent first, each as its folded query with how often and
    when it was first and last asked, within the caller's business lines (and searches by callers of none)."""
    refuse_unknown_parameters(request)
    if from_ is not None and to is not None and not from_ < to:
        raise InvalidInput(
            "The range ends before it starts",
            code="validation_failed",
            errors=[FieldError("to", "must be later than `from`", "query")],
        )
    found = await svc.kb_search.misses(principal, MissFilter(since=from_, until=to), page)
    return page_out(found, SearchMissOut.of)
