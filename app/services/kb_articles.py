"""Knowledge base article use cases: write, review, publish and archive articles, and read them as their reader may.

Staff read an article's current version (the one under work); customers read only live, public versions, and an
internal or unpublished article is not found for them. Publishing puts the live version into search and archiving
takes it out, in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from app.domain.clock import Clock
from app.domain.errors import FieldError, InvalidInput, NotFound
from app.domain.ids import new_id
from app.domain.invariants import of_type, present
from app.domain.kb_articles import Article, ArticleFilter, ArticleSort, ArticleVersion, Content, Language
from app.domain.kb_search import SearchDocument
from app.domain.pagination import Page, PageRequest
from app.domain.preconditions import Precondition
from app.domain.principal import Principal
from app.domain.unit_of_work import UnitOfWork, UnitOfWorkFactory
from app.workflows.engine import AvailableAction
from app.workflows.kb_article import KB_ARTICLE, ArticleContext, EditPayload, apply


@dataclass(frozen=True, slots=True)
class ArticleDraft:
    language: Language
    content: Content
    business_line: str | None = None
    translation_of: UUID | None = None


@dataclass(frozen=True, slots=True)
class ArticleView:
    """An article with the version its reader sees and the actions they may take."""

    article: Article
    shown: ArticleVersion
    available_actions: list[AvailableAction]


def article_not_found(article_id: UUID) -> NotFound:
    return NotFound(f"No article {article_id}", code="article_not_found")


def _edited(content: Content, payload: EditPayload) -> Content:
    sent = payload.model_dump(exclude_unset=True, exclude={"remark"})
    for many in ("tags", "product_lines"):
        if many in sent:
            sent[many] = tuple(dict.fromkeys(sent[many]))
    return replace(content, **sent)


class ArticleService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def create(self, principal: Principal, draft: ArticleDraft) -> ArticleView:
        async with self._uow.write() as uow:
            article, version = await self.add_in(uow, principal, draft, self._clock.now())
            await uow.commit()
        return self.view(article, version, principal)

    async def add_in(
        self,
        uow: UnitOfWork,
        principal: Principal,
        draft: ArticleDraft,
        now: datetime,
        source_ticket_id: UUID | None = None,
    ) -> tuple[Article, ArticleVersion]:
        """A new draft (version 1) written in the caller's transaction."""
        if draft.translation_of is not None:
            await self._check_translation(uow, principal, draft)
        article = Article(
            id=new_id(),
            status=KB_ARTICLE.initial,
            language=draft.language,
            business_line=draft.business_line,
            translation_of=draft.translation_of,
            created_by=principal.subject,
            current_version=1,
            live_version=None,
            version=1,
            created_at=now,
            updated_at=now,
            source_ticket_id=source_ticket_id,
        )
        version = ArticleVersion(article.id, 1, draft.content, principal.subject, now)
        await uow.kb_articles.add(article, version)
        return article, version

    async def get(self, principal: Principal, article_id: UUID) -> ArticleView:
        """The article as its reader sees it; a read of a live article counts one view (an atomic increment)."""
        async with self._uow.write() as uow:
            article, shown = await visible_article(uow, principal, article_id)
            if article.is_live:
                article = replace(article, tally=await uow.kb_articles.count_view(article_id))
                await uow.commit()
        return self.view(article, shown, principal)

    async def list(self, principal: Principal, where: ArticleFilter, page: PageRequest) -> Page[ArticleView]:
        if principal.is_customer and where.sort is ArticleSort.MOST_READ:
            raise InvalidInput(
                "Most read is a staff view",
                code="validation_failed",
                errors=[FieldError("sort", "-views is for staff", "query")],
            )
        where = replace(where, live_public=principal.is_customer, business_lines=principal.business_line_scope)
        async with self._uow.read() as uow:
            found = await uow.kb_articles.list(where, page)
        return Page([self.view(article, shown, principal) for article, shown in found.items], found.next_key)

    async def versions(self, principal: Principal, article_id: UUID, page: PageRequest) -> Page[ArticleVersion]:
        async with self._uow.read() as uow:
            await visible_article(uow, principal, article_id)
            return await uow.kb_articles.versions(article_id, page)

    async def act(
        self,
        principal: Principal,
        article_id: UUID,
        action: str,
        body: dict[str, Any],
        precondition: Precondition,
    ) -> ArticleView:
        """Run a workflow action (`edit` included): nothing is written unless it is allowed now."""
        now = self._clock.now()
        async with self._uow.write() as uow:
            article, current = await visible_article(uow, principal, article_id, for_update=True)
            precondition.check(article.version)
            ctx = ArticleContext(article, now, current.author)
            move = KB_ARTICLE.decide(ctx, principal, action, body)
            after = apply(ctx, principal, move)
            shown = current
            if action == "edit":
                content = _edited(current.content, of_type(move.payload, EditPayload))
                shown = ArticleVersion(article.id, after.current_version, content, principal.subject, now)
                await uow.kb_articles.add_version(shown)
            await uow.kb_articles.update(after)
            if action == "approve":
                await uow.kb_search.put(SearchDocument.of(after, shown, after.tally.net_helpful))
            elif action == "archive":
                await uow.kb_search.remove(article.id)
            await uow.commit()
        return self.view(after, shown, principal)

    async def _check_translation(self, uow: UnitOfWork, principal: Principal, draft: ArticleDraft) -> None:
        original = await uow.kb_articles.get(present(draft.translation_of, "the original"))
        problem = None
        if original is None or not principal.can_see_business_line(original.business_line):
            problem = "no such article"
        elif original.language == draft.language:
            problem = f"the original is in {original.language.value} too: a translation is in another language"
        if problem:
            raise InvalidInput(
                "The article cannot be a translation of that one",
                code="validation_failed",
                errors=[FieldError("/translation_of", problem)],
            )

    def view(self, article: Article, shown: ArticleVersion, principal: Principal) -> ArticleView:
        if principal.is_customer:
            return ArticleView(article, shown, [])
        ctx = ArticleContext(article, self._clock.now(), shown.author)
        return ArticleView(article, shown, KB_ARTICLE.available(ctx, principal))


async def visible_article(
    uow: UnitOfWork, principal: Principal, article_id: UUID, *, for_update: bool = False
) -> tuple[Article, ArticleVersion]:
    """The article and the version this caller reads, or not found: customers read live public versions only, staff
    articles of their business lines."""
    article = await uow.kb_articles.get(article_id, for_update=for_update)
    if article is None:
        raise article_not_found(article_id)
    if principal.is_customer:
        if not article.is_live:
            raise article_not_found(article_id)
        live = present(await uow.kb_articles.version(article_id, present(article.live_version, "live")), "live")
        if live.content.visibility != "public":
            raise article_not_found(article_id)
        return article, live
    if not principal.can_see_business_line(article.business_line):
        raise article_not_found(article_id)
    current = await uow.kb_articles.version(article_id, article.current_version)
    return article, present(current, "the article's current version")
