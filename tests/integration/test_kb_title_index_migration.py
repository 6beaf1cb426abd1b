"""Migration 0032 on both databases: a live article indexed before titles had an index of their own gets its title's
tokens, in the title index too, and search finds it through the title tier as it finds an article published after."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Uuid, bindparam, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from app.domain.kb_search import SearchQuery
from app.domain.kb_tokens import fold, index_tokens
from app.domain.pagination import PageRequest
from app.persistence.kb_search import SqlSearchRepository, _title_conditions
from app.persistence.migrations import alembic_config, upgrade_to_head
from app.persistence.tables import kb_search
from app.persistence.types import UtcDateTime
from tests.databases import create_postgres_database, drop_postgres_database, sqlite_url

TITLE = "洗碗机漏水怎么办 Dishwasher Leaking"
NOW = datetime(2026, 12, 1, tzinfo=UTC)
_TYPED = (bindparam("id", type_=Uuid), bindparam("now", type_=UtcDateTime))


@pytest.fixture(params=["sqlite", "postgres"])
async def before_title_index(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    url = sqlite_url(tmp_path) if request.param == "sqlite" else await create_postgres_database()
    config = alembic_config(url)
    previous = ScriptDirectory.from_config(config).get_revision("0032").down_revision
    try:
        await asyncio.to_thread(command.upgrade, config, str(previous))
        yield url
    finally:
        if request.param == "postgres":
            await drop_postgres_database(url)


async def test_articles_indexed_before_get_their_title_tokens_and_are_found_by_title(before_title_index: str):
    article_id, title = uuid.uuid4(), fold(TITLE)
    engine = create_async_engine(before_title_index)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO kb_articles (id, status, language, created_by, current_version, live_version,"
                    " published_at, version, created_at, updated_at) VALUES (:id, 'published', 'zh-CN', 'agent-1',"
                    " 1, 1, :now, 3, :now, :now)"
                ).bindparams(*_TYPED),
                {"id": article_id, "now": NOW},
            )
            await conn.execute(
                text(
                    "INSERT INTO kb_search (article_id, language, visibility, product_lines, title, tags, body,"
                    " tokens, helpful, published_at) VALUES (:id, 'zh-CN', 'public', '|', :title, '', '', :tokens,"
                    " 0, :now)"
                ).bindparams(*_TYPED),
                {"id": article_id, "title": title, "tokens": " ".join(index_tokens(title)), "now": NOW},
            )
    finally:
        await engine.dispose()

    await asyncio.to_thread(upgrade_to_head, before_title_index)

    engine = create_async_engine(before_title_index)
    try:
        async with engine.connect() as conn:
            stored = (await conn.execute(select(kb_search.c.title_tokens))).scalar_one()
            repo = SqlSearchRepository(conn)
            for typed in ("漏水", "碗", "dishwasher leak"):
                query = SearchQuery.parse(typed)
                hits, _ = await repo._page(query, _title_conditions(query, conn.dialect.name), PageRequest())
                assert [hit.article_id for hit in hits] == [article_id], typed
                assert (await repo.search(query, PageRequest())).items == hits
    finally:
        await engine.dispose()
    assert stored == " ".join(index_tokens(title))
