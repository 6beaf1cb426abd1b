"""Solved cases in the knowledge base: draft an article from a resolved ticket in one step, and link articles to the
tickets they solved. Staff only; a ticket or article the caller may not see is not found."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from app.domain.clock import Clock
from app.domain.kb_articles import Language, Visibility
from app.domain.kb_cases import LinkedArticle, LinkedTicket, TicketLink, case_content, unresolved
from app.domain.pagination import Page, PageRequest
from app.domain.principal import Principal
from app.domain.unit_of_work import UnitOfWorkFactory
from app.services.kb_articles import ArticleDraft, ArticleService, ArticleView, visible_article
from app.services.tickets import visible_ticket


@dataclass(frozen=True, slots=True)
class CaseDraft:
    """What the caller may set on a draft from a ticket; the rest comes from the ticket."""

    ticket: UUID | str
    language: Language = Language.ZH_CN
    visibility: Visibility = Visibility.INTERNAL
    title: str | None = None


@dataclass(frozen=True, slots=True)
class LinkOutcome:
    link: TicketLink
    ticket_number: str
    created: bool


class CaseService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, articles: ArticleService) -> None:
        self._uow = uow
        self._clock = clock
        self._articles = articles

    async def draft_from_ticket(self, principal: Principal, draft: CaseDraft) -> ArticleView:
        """A draft article prefilled from a resolved ticket, its source, and linked to it, in one transaction."""
        now = self._clock.now()
        async with self._uow.write() as uow:
            ticket = await visible_ticket(uow, principal, draft.ticket)
            if (refusal := unresolved(ticket)) is not None:
                raise refusal
            content = case_content(ticket, draft.language, draft.visibility, draft.title)
            article_draft = ArticleDraft(draft.language, content, ticket.business_line)
            article, version = await self._articles.add_in(uow, principal, article_draft, now, ticket.id)
            await uow.kb_links.add(TicketLink(article.id, ticket.id, principal.subject, now))
            await uow.commit()
        return self._articles.view(article, version, principal)

    async def link(self, principal: Principal, article_id: UUID, ticket_ref: UUID | str) -> LinkOutcome:
        """Idempotent: linking again keeps the first link's author and time."""
        async with self._uow.write() as uow:
            article, _ = await visible_article(uow, principal, article_id)
            ticket = await visible_ticket(uow, principal, ticket_ref)
            link, created = await uow.kb_links.add(
                TicketLink(article.id, ticket.id, principal.subject, self._clock.now())
            )
            await uow.commit()
        return LinkOutcome(link, ticket.number, created)

    async def unlink(self, principal: Principal, article_id: UUID, ticket_ref: UUID | str) -> None:
        """Idempotent: no link left, whether there was one or not."""
        async with self._uow.write() as uow:
            article, _ = await visible_article(uow, principal, article_id)
            ticket = await visible_ticket(uow, principal, ticket_ref)
            await uow.kb_links.remove(article.id, ticket.id)
            await uow.commit()

    async def tickets_of(self, principal: Principal, article_id: UUID, page: PageRequest) -> Page[LinkedTicket]:
        """The tickets the article solved that the caller may see, newest link first."""
        async with self._uow.read() as uow:
            await visible_article(uow, principal, article_id)
            return await uow.kb_links.tickets(article_id, principal.business_line_scope, page)

    async def articles_of(self, principal: Principal, ticket_ref: UUID | str, page: PageRequest) -> Page[LinkedArticle]:
        """The articles linked to the ticket that the caller may see, newest link first."""
        async with self._uow.read() as uow:
            ticket = await visible_ticket(uow, principal, ticket_ref)
            return await uow.kb_links.articles(ticket.id, principal.business_line_scope, page)
