"""Search's title tier is exact: on both databases, walking every page of every labelled query (with and without
synonyms, small pages so that pages fall on both sides of the tier's bound) answers exactly what scoring every
article answers, and the tier does serve pages (the test would pass vacuously otherwise)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from app.domain.kb_articles import Content, Language, Visibility
from app.domain.kb_search import SearchHit, SearchQuery
from app.domain.kb_synonyms import Thesaurus
from app.domain.pagination import PageRequest
from app.domain.preconditions import NO_PRECONDITION
from app.domain.principal import Principal, Role
from app.main import create_app
from app.persistence.kb_search import SqlSearchRepository, _conditions, _title_conditions, rest_bound
from app.persistence.tables import kb_search
from app.persistence.unit_of_work import SqlUnitOfWorkFactory
from app.services.kb_articles import ArticleDraft
from tests.api.kb_corpus import corpus, queries
from tests.conftest import MovableClock, make_settings
from tests.databases import create_postgres_database, drop_postgres_database, migrate, sqlite_url

AGENT = Principal("agent-1", frozenset({Role.AGENT}))
MANAGER = Principal("manager-1", frozenset({Role.MANAGER}))
THESAURUS = Thesaurus.of([("退款", "退钱", "refund"), ("漏水", "渗水", "leak"), ("异响", "noise")])
LIMIT = 3
CRAFTED = (  # title, tags, body, helpful votes: articles that outrank title hits of lower score from outside the tier
    ("退款说明", (), "说明。", 0),
    ("退款漏水说明", (), "说明。", 0),
    ("退钱多久到账", ("退款",), "退款原路退回。", 20),
    ("退款和换货", ("退款", "漏水"), "退款漏水都可申请。", 20),
)
EXTRA_QUERIES = ("退款", "退款 漏水", "漏水 退款", "退钱")


@pytest.fixture(params=["sqlite", "postgres"])
async def published(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlUnitOfWorkFactory]:
    url = sqlite_url(tmp_path) if request.param == "sqlite" else await create_postgres_database()
    try:
        await migrate(url)
        clock = MovableClock()
        app = create_app(make_settings(url), clock=clock)
        services = app.state.services
        try:
            for n, article in enumerate(corpus()):
                visibility = Visibility.INTERNAL if n % 7 == 3 else Visibility.PUBLIC
                content = Content(article.title, article.body, None, article.tags, (), visibility)
                view = await services.kb_articles.create(AGENT, ArticleDraft(Language(article.language), content))
                await services.kb_articles.act(AGENT, view.article.id, "submit", {}, NO_PRECONDITION)
                await services.kb_articles.act(MANAGER, view.article.id, "approve", {}, NO_PRECONDITION)
                clock.advance(timedelta(seconds=1))
            for title, tags, body, helpful in CRAFTED:
                content = Content(title, body, None, tags, (), Visibility.PUBLIC)
                view = await services.kb_articles.create(AGENT, ArticleDraft(Language.ZH_CN, content))
                await services.kb_articles.act(AGENT, view.article.id, "submit", {}, NO_PRECONDITION)
                await services.kb_articles.act(MANAGER, view.article.id, "approve", {}, NO_PRECONDITION)
                clock.advance(timedelta(seconds=1))
                async with services.database.write_engine.begin() as conn:
                    await conn.execute(
                        update(kb_search).where(kb_search.c.article_id == view.article.id).values(helpful=helpful)
                    )
            yield SqlUnitOfWorkFactory(services.database)
        finally:
            await services.aclose()
    finally:
        if request.param == "postgres":
            await drop_postgres_database(url)


async def _walk(repo: SqlSearchRepository, query: SearchQuery, *, every_article: bool) -> list[SearchHit]:
    dialect, found, page = repo._conn.dialect.name, [], PageRequest(limit=LIMIT)
    while True:
        if every_article:
            items, after = await repo._page(query, _conditions(query, dialect), page)
        else:
            result = await repo.search(query, page)
            items, after = result.items, result.next_key
        found += items
        if after is None:
            return found
        page = PageRequest(limit=LIMIT, after=after)


async def test_every_page_of_the_title_tier_is_the_page_of_scoring_every_article(published):
    served_by_tier = 0
    async with published.read() as uow:
        repo = uow.kb_search
        for text in (*EXTRA_QUERIES, *(labelled.text for labelled in queries())):
            for query in (SearchQuery.parse(text), SearchQuery.parse(text).with_synonyms(THESAURUS)):
                assert await _walk(repo, query, every_article=False) == await _walk(repo, query, every_article=True)
                first, more = await repo._page(
                    query, _title_conditions(query, repo._conn.dialect.name), PageRequest(limit=LIMIT)
                )
                served_by_tier += more is not None and len(first) == LIMIT and first[-1].score > rest_bound(query)
    assert served_by_tier > 50
