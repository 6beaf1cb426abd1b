"""Knowledge base article rows ↔ Article entities, and their versions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import Row, and_, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.kb_articles import (
    Article,
    ArticleFilter,
    ArticleSort,
    ArticleTally,
    ArticleVersion,
    Content,
    Language,
    Visibility,
)
from app.domain.pagination import Page, PageRequest
from app.persistence.keyset import fetch_page
from app.persistence.scope import in_business_lines
from app.persistence.tables import kb_article_versions, kb_articles

_VERSIONS = kb_article_versions
_SHOWN = _VERSIONS.alias("shown")


def _article(row: Row[Any]) -> Article:
    m = row._mapping
    return Article(
        id=m[kb_articles.c.id],
        status=m[kb_articles.c.status],
        language=Language(m[kb_articles.c.language]),
        business_line=m[kb_articles.c.business_line],
        translation_of=m[kb_articles.c.translation_of],
        created_by=m[kb_articles.c.created_by],
        current_version=m[kb_articles.c.current_version],
        live_version=m[kb_articles.c.live_version],
        version=m[kb_articles.c.version],
        created_at=m[kb_articles.c.created_at],
        updated_at=m[kb_articles.c.updated_at],
        approved_by=m[kb_articles.c.approved_by],
        published_at=m[kb_articles.c.published_at],
        source_ticket_id=m[kb_articles.c.source_ticket_id],
        tally=_tally(row),
    )


def _tally(row: Row[Any]) -> ArticleTally:
    m = row._mapping
    return ArticleTally(m[kb_articles.c.views], m[kb_articles.c.helpful_votes], m[kb_articles.c.unhelpful_votes])


def _version(row: Row[Any], table: Any = _VERSIONS) -> ArticleVersion:
    m = row._mapping
    return ArticleVersion(
        article_id=m[table.c.article_id],
        number=m[table.c.number],
        content=Content(
            title=m[table.c.title],
            body=m[table.c.body],
            category=m[table.c.category],
            tags=tuple(m[table.c.tags]),
            product_lines=tuple(m[table.c.product_lines]),
            visibility=Visibility(m[table.c.visibility]),
        ),
        author=m[table.c.author],
        created_at=m[table.c.created_at],
    )


def _article_values(article: Article) -> dict[str, Any]:
    return {
        "status": article.status,
        "language": article.language.value,
        "business_line": article.business_line,
        "translation_of": article.translation_of,
        "created_by": article.created_by,
        "current_version": article.current_version,
        "live_version": article.live_version,
        "approved_by": article.approved_by,
        "published_at": article.published_at,
        "source_ticket_id": article.source_ticket_id,
        "version": article.version,
        "created_at": article.created_at,
        "updated_at": article.updated_at,
    }


def _version_values(version: ArticleVersion) -> dict[str, Any]:
    content = version.content
    return {
        "article_id": version.article_id,
        "number": version.number,
        "title": content.title,
        "body": content.body,
        "category": content.category,
        "tags": list(content.tags),
        "product_lines": list(content.product_lines),
        "visibility": content.visibility.value,
        "author": version.author,
        "created_at": version.created_at,
    }


_GET = select(kb_articles).where(kb_articles.c.id == bindparam("article_id"))
_UPDATE = update(kb_articles).where(kb_articles.c.id == bindparam("article_id"))
_TALLY = (kb_articles.c.views, kb_articles.c.helpful_votes, kb_articles.c.unhelpful_votes)
_COUNT_VIEW = _UPDATE.values(views=kb_articles.c.views + 1).returning(*_TALLY)
_ADD_VOTES = _UPDATE.values(
    helpful_votes=kb_articles.c.helpful_votes + bindparam("helpful"),
    unhelpful_votes=kb_articles.c.unhelpful_votes + bindparam("unhelpful"),
).returning(*_TALLY)
_VERSION = select(_VERSIONS).where(
    _VERSIONS.c.article_id == bindparam("article_id"), _VERSIONS.c.number == bindparam("number")
)

_LIVE = (
    select(kb_articles, _SHOWN)
    .join(_SHOWN, and_(_SHOWN.c.article_id == kb_articles.c.id, _SHOWN.c.number == kb_articles.c.live_version))
    .where(kb_articles.c.id.in_(bindparam("ids", expanding=True)))
)


class SqlArticleRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, article: Article, version: ArticleVersion) -> None:
        await self._conn.execute(insert(kb_articles), {"id": article.id, **_article_values(article)})
        await self.add_version(version)

    async def get(self, article_id: UUID, *, for_update: bool = False) -> Article | None:
        stmt = _GET.with_for_update() if for_update else _GET
        row = (await self._conn.execute(stmt, {"article_id": article_id})).first()
        return _article(row) if row else None

    async def update(self, article: Article) -> None:
        values = _article_values(article)
        await self._conn.execute(_UPDATE, {"article_id": article.id, **values})

    async def count_view(self, article_id: UUID) -> ArticleTally:
        row = (await self._conn.execute(_COUNT_VIEW, {"article_id": article_id})).one()
        return _tally(row)

    async def add_votes(self, article_id: UUID, helpful: int, unhelpful: int) -> ArticleTally:
        values = {"article_id": article_id, "helpful": helpful, "unhelpful": unhelpful}
        return _tally((await self._conn.execute(_ADD_VOTES, values)).one())

    async def add_version(self, version: ArticleVersion) -> None:
        await self._conn.execute(insert(_VERSIONS), _version_values(version))

    async def version(self, article_id: UUID, number: int) -> ArticleVersion | None:
        row = (await self._conn.execute(_VERSION, {"article_id": article_id, "number": number})).first()
        return _version(row) if row else None

    async def live(self, article_ids: Sequence[UUID]) -> dict[UUID, tuple[Article, ArticleVersion]]:
        if not article_ids:
            return {}
        rows = await self._conn.execute(_LIVE, {"ids": list(article_ids)})
        return {article.id: (article, _version(row, _SHOWN)) for row in rows for article in (_article(row),)}

    async def versions(self, article_id: UUID, page: PageRequest) -> Page[ArticleVersion]:
        stmt = select(_VERSIONS).where(_VERSIONS.c.article_id == article_id)
        rows, next_key = await fetch_page(self._conn, stmt, _VERSIONS.c.number, page)
        return Page([_version(row) for row in rows], next_key)

    async def list(self, where: ArticleFilter, page: PageRequest) -> Page[tuple[Article, ArticleVersion]]:
        shown_number = kb_articles.c.live_version if where.live_public else kb_articles.c.current_version
        stmt = select(kb_articles, _SHOWN).join(
            _SHOWN, and_(_SHOWN.c.article_id == kb_articles.c.id, _SHOWN.c.number == shown_number)
        )
        conditions: list[Any] = []
        if where.live_public:
            conditions += [kb_articles.c.status != "archived", _SHOWN.c.visibility == Visibility.PUBLIC.value]
        if where.statuses is not None:
            conditions.append(kb_articles.c.status.in_(sorted(where.statuses)))
        if where.language is not None:
            conditions.append(kb_articles.c.language == where.language.value)
        if where.category is not None:
            conditions.append(_SHOWN.c.category == where.category)
        if where.visibility is not None:
            conditions.append(_SHOWN.c.visibility == where.visibility.value)
        conditions += in_business_lines(kb_articles.c.business_line, where.business_lines)
        by = kb_articles.c.views if where.sort is ArticleSort.MOST_READ else kb_articles.c.created_at
        rows, next_key = await fetch_page(self._conn, stmt.where(*conditions), [by, kb_articles.c.id], page)
        return Page([(_article(row), _version(row, _SHOWN)) for row in rows], next_key)
