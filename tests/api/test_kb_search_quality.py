"""Search quality on a generated after-sales corpus (tests/api/kb_corpus.py): recall@10 and nDCG@10 over every
labelled query on SQLite and on PostgreSQL (synonym queries included, with the corpus's synonym groups configured),
and the same top 10 from both. The corpus is published through the
article service on a clock that moves one second per article, so that ties fall the same way on both databases."""

from __future__ import annotations

import math
from datetime import timedelta

from app.domain.clock import SystemClock
from app.domain.kb_articles import Content, Language, Visibility
from app.domain.preconditions import NO_PRECONDITION
from app.domain.principal import Principal, Role
from app.main import create_app
from app.services.kb_articles import ArticleDraft
from tests.api.kb_corpus import SYNONYMS, corpus, queries
from tests.conftest import MovableClock, client_for, make_settings
from tests.databases import create_postgres_database, drop_postgres_database, migrate, sqlite_url

AGENT = Principal("agent-1", frozenset({Role.AGENT}))
MANAGER = Principal("manager-1", frozenset({Role.MANAGER}))
RECALL_TARGET, NDCG_TARGET = 0.95, 0.80


async def _top_tens(url: str) -> dict[str, list[str]]:
    """Each query's text → the titles of its top 10 on the database at `url`."""
    await migrate(url)
    clock = MovableClock()
    app = create_app(make_settings(url), clock=clock)
    async with client_for(app) as client:
        articles = app.state.services.kb_articles
        for article in corpus():
            content = Content(article.title, article.body, None, article.tags, (), Visibility.PUBLIC)
            view = await articles.create(AGENT, ArticleDraft(Language(article.language), content))
            await articles.act(AGENT, view.article.id, "submit", {}, NO_PRECONDITION)
            await articles.act(MANAGER, view.article.id, "approve", {}, NO_PRECONDITION)
            clock.advance(timedelta(seconds=1))
        for terms in SYNONYMS:
            await app.state.services.kb_synonyms.create(list(terms))
        token = app.state.services.tokens.issue(
            subject="agent-1", roles=[Role.AGENT], customer_no=None, business_lines=(), now=SystemClock().now(),
            ttl=timedelta(hours=1),
        )  # fmt: skip
        headers = {"Authorization": f"Bearer {token}"}
        found = {}
        for query in queries():
            response = await client.get("/v1/kb/search", params={"q": query.text, "limit": 10}, headers=headers)
            assert response.status_code == 200, (query, response.text)
            found[query.text] = [hit["article"]["title"] for hit in response.json()["items"]]
        return found


def recall_at_10(top: list[str], relevant: frozenset[str]) -> float:
    return len(relevant.intersection(top[:10])) / min(len(relevant), 10)


def ndcg_at_10(top: list[str], relevant: frozenset[str]) -> float:
    dcg = sum(1 / math.log2(rank + 2) for rank, title in enumerate(top[:10]) if title in relevant)
    ideal = sum(1 / math.log2(rank + 2) for rank in range(min(len(relevant), 10)))
    return dcg / ideal


def _scores(found: dict[str, list[str]]) -> tuple[float, float]:
    labelled = queries()
    recall = sum(recall_at_10(found[q.text], q.relevant) for q in labelled) / len(labelled)
    ndcg = sum(ndcg_at_10(found[q.text], q.relevant) for q in labelled) / len(labelled)
    return recall, ndcg


async def test_search_meets_its_quality_targets_and_answers_the_same_top_ten_on_both_databases(tmp_path):
    assert len(queries()) >= 300 and sum(q.kind.startswith("synonym") for q in queries()) >= 80
    on_sqlite = await _top_tens(sqlite_url(tmp_path))
    postgres = await create_postgres_database()
    try:
        on_postgres = await _top_tens(postgres)
    finally:
        await drop_postgres_database(postgres)
    for name, found in (("sqlite", on_sqlite), ("postgres", on_postgres)):
        recall, ndcg = _scores(found)
        print(f"{name}: {len(found)} queries, recall@10 {recall:.3f}, nDCG@10 {ndcg:.3f}")
        assert recall >= RECALL_TARGET and ndcg >= NDCG_TARGET, (name, recall, ndcg)
    assert on_sqlite == on_postgres
