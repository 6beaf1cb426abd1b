"""Knowledge base suggestions: the articles that may answer a ticket (for its handler, and for its customer in the
self-service app: public articles only, as search gives them), and article titles for type-ahead."""

from __future__ import annotations

from uuid import UUID

from app.domain.kb_articles import Visibility
from app.domain.kb_search import SearchQuery, TitleHit
from app.domain.kb_suggestions import MAX_TITLES, RelatedQuery, ticket_spans
from app.domain.kb_tokens import fold
from app.domain.principal import Principal
from app.domain.unit_of_work import UnitOfWorkFactory
from app.services.kb_search import Hit, article_hits, within_reach
from app.services.kb_synonyms import SynonymService
from app.services.tickets import visible_ticket


class SuggestionService:
    def __init__(self, uow: UnitOfWorkFactory, synonyms: SynonymService) -> None:
        self._uow = uow
        self._synonyms = synonyms

    async def for_ticket(self, principal: Principal, ref: UUID | str, limit: int) -> list[Hit]:
        """The ticket's best articles, by its title and description, boosted for its product line and category; a
        ticket the caller may not see is not found (404)."""
        thesaurus = await self._synonyms.thesaurus()
        async with self._uow.read() as uow:
            ticket = await visible_ticket(uow, principal, ref)
            product = await uow.products.get(ticket.sku) if ticket.sku else None
            lines = principal.business_line_scope
            if ticket.business_line is not None:
                lines = frozenset({ticket.business_line}) if lines is None else lines & {ticket.business_line}
            query = RelatedQuery(
                spans=ticket_spans(ticket.title, ticket.description, thesaurus),
                product_line=fold(product.data.product_line) if product and product.data.product_line else None,
                category=ticket.category,
                visibility=Visibility.PUBLIC if principal.is_customer else None,
                business_lines=lines,
                limit=limit,
            )
            found = await uow.kb_search.related(query)
            return await article_hits(uow, found, query.spans)

    async def titles(self, principal: Principal, query: SearchQuery) -> list[TitleHit]:
        """Up to MAX_TITLES live titles holding what was typed so far."""
        async with self._uow.read() as uow:
            return await uow.kb_search.titles(within_reach(principal, query), MAX_TITLES)
