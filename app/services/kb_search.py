"""Knowledge base search: the live articles a query finds, best first, each with a highlighted snippet. Customers
search published public articles; staff internal ones too, within their business lines. A query's words also search
as their synonyms. A search that finds nothing is counted as a miss (知识缺口) for the managers' report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import structlog

from app.domain.clock import Clock
from app.domain.invariants import present
from app.domain.kb_articles import Visibility
from app.domain.kb_search import SearchHit, SearchQuery
from app.domain.kb_search_misses import MissFilter, SearchMiss, miss_text
from app.domain.kb_snippets import snippet
from app.domain.kb_tokens import Span, fold
from app.domain.pagination import Page, PageRequest
from app.domain.principal import Principal
from app.domain.unit_of_work import UnitOfWork, UnitOfWorkFactory
from app.services.kb_articles import ArticleView
from app.services.kb_synonyms import SynonymService

_log = structlog.get_logger("aftersales.kb_search")


@dataclass(frozen=True, slots=True)
class Hit:
    view: ArticleView
    score: int
    snippet: str


def within_reach(principal: Principal, query: SearchQuery) -> SearchQuery:
    """Customers reach published public articles only; staff those of their business lines."""
    if principal.is_customer:
        return replace(query, visibility=Visibility.PUBLIC, business_lines=None)
    return replace(query, business_lines=principal.business_line_scope)


class SearchService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, synonyms: SynonymService) -> None:
        self._uow = uow
        self._clock = clock
        self._synonyms = synonyms

    async def search(self, principal: Principal, query: SearchQuery, page: PageRequest) -> Page[Hit]:
        query = within_reach(principal, query).with_synonyms(await self._synonyms.thesaurus())
        async with self._uow.read() as uow:
            found = await uow.kb_search.search(query, page)
            hits = await article_hits(uow, found.items, query.marked)
        return Page(hits, found.next_key)

    async def record_miss(self, principal: Principal, query: SearchQuery) -> None:
        """Count a search that found nothing, under each business line of the caller's scope. Runs after the answer is
        sent and never fails it: a miss not counted is logged and dropped."""
        lines = principal.business_line_scope or frozenset()
        try:
            async with self._uow.write() as uow:
                await uow.kb_search_misses.record(miss_text(query.spans), lines, self._clock.now())
                await uow.commit()
        except Exception:  # the report may lose a count; the search never fails for it
            _log.warning("kb_search_miss_not_recorded", exc_info=True)

    async def misses(self, principal: Principal, where: MissFilter, page: PageRequest) -> Page[SearchMiss]:
        """Most frequent first, within the caller's business lines (and misses of none)."""
        where = replace(where, business_lines=principal.business_line_scope)
        async with self._uow.read() as uow:
            return await uow.kb_search_misses.list(where, page)


async def article_hits(uow: UnitOfWork, found: Sequence[SearchHit], marked: tuple[Span, ...]) -> list[Hit]:
    """Each hit with its article's live version and a snippet marking `marked`."""
    live = await uow.kb_articles.live([hit.article_id for hit in found])
    hits = []
    for hit in found:
        article, version = present(live.get(hit.article_id), "a searched article's live version")
        text = fold(f"{version.content.title} {version.content.body}")
        hits.append(Hit(ArticleView(article, version, []), hit.score, snippet(text, marked)))
    return hits
