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
            hits = []
            for hit in found.items:
                article = present(await uow.kb_articles.get(hit.article_id), "a searched article")
                live = await uow.kb_articles.version(article.id, present(article.live_version, "its live version"))
                live = present(live, "its live version")
                text = fold(f"{live.content.title} {live.content.body}")
                hits.append(Hit(ArticleView(article, live, []), hit.score, snippet(text, query.spans)))
        return Page(hits, found.next_key)
