"""Knowledge base search: the live articles a query finds, best first, each with a highlighted snippet. Customers
search published public articles; staff internal ones too, within their business lines."""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.domain.invariants import present
from app.domain.kb_articles import Visibility
from app.domain.kb_search import SearchQuery
from app.domain.kb_snippets import snippet
from app.domain.kb_tokens import fold
from app.domain.pagination import Page, PageRequest
from app.domain.principal import Principal
from app.domain.unit_of_work import UnitOfWorkFactory
from app.services.kb_articles import ArticleView


@dataclass(frozen=True, slots=True)
class Hit:
    view: ArticleView
    score: int
    snippet: str


class SearchService:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def search(self, principal: Principal, query: SearchQuery, page: PageRequest) -> Page[Hit]:
        if principal.is_customer:
            query = replace(query, visibility=Visibility.PUBLIC, business_lines=None)
        else:
            query = replace(query, business_lines=principal.business_line_scope)
        async with self._uow.read() as uow:
            found = await uow.kb_search.search(query, page)
            live = await uow.kb_articles.live([hit.article_id for hit in found.items])
        hits = []
        for hit in found.items:
            article, version = present(live.get(hit.article_id), "a searched article's live version")
            text = fold(f"{version.content.title} {version.content.body}")
            hits.append(Hit(ArticleView(article, version, []), hit.score, snippet(text, query.spans)))
        return Page(hits, found.next_key)
