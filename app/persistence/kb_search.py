"""Search rows of live articles, found through each database's own index of our tokens and ranked by one portable
SQL score (see app/domain/kb_search.py), so that SQLite and PostgreSQL answer the same hits in the same order.

SQLite: the FTS5 table kb_search_fts (external content, kept in step by triggers) matches `"t1" "t2" "word" *`.
PostgreSQL: the GIN index of `array_to_tsvector(string_to_array(tokens, ' '))` matches the tsquery
`'t1' & 't2' & 'word':*`, cast from text so that no parser of PostgreSQL's touches our tokens."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Integer,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.kb_search import BODY, HELPFUL_CAP, TAGS, TITLE, SearchDocument, SearchHit, SearchQuery
from app.domain.kb_tokens import Span
from app.domain.pagination import Page, PageRequest
from app.persistence.keyset import fetch_page
from app.persistence.scope import in_business_lines
from app.persistence.tables import kb_search

_HELPFUL = update(kb_search).where(kb_search.c.article_id == bindparam("id")).values(helpful=bindparam("helpful"))
_DELETE = delete(kb_search).where(kb_search.c.article_id == bindparam("id"))
_FTS = "SELECT rowid FROM kb_search_fts WHERE kb_search_fts MATCH :match"
_LEXEMES = func.array_to_tsvector(func.string_to_array(kb_search.c.tokens, literal_column("' '")))
"""The indexed expression exactly (its separator a literal, not a parameter, or the planner cannot use the index)."""


def _fts_match(spans: tuple[Span, ...]) -> str:
    terms = [f'"{token}"' for span in spans for token in span.tokens if span.chinese]
    terms += [f'"{span.text}" *' for span in spans if not span.chinese]
    return " ".join(terms)


def _tsquery(spans: tuple[Span, ...]) -> str:
    terms = [f"'{token}'" for span in spans for token in span.tokens if span.chinese]
    terms += [f"'{span.text}':*" for span in spans if not span.chinese]
    return " & ".join(terms)


def _found(spans: tuple[Span, ...], dialect: str) -> ColumnElement[bool]:
    """Every token of the query in the index (each word as a prefix)."""
    if dialect == "postgresql":
        return _LEXEMES.op("@@")(cast(literal(_tsquery(spans)), TSQUERY))
    match = text(_FTS).bindparams(match=_fts_match(spans)).columns(rowid=Integer)
    return kb_search.c.doc.in_(select(match.subquery().c.rowid))


def _holds(column: Any, span: Span) -> ColumnElement[bool]:
    return column.contains(span.text, autoescape=True)


def _score(spans: tuple[Span, ...]) -> ColumnElement[int]:
    points: ColumnElement[int] = literal(0, Integer)
    for span in spans:
        for column, weight in ((kb_search.c.title, TITLE), (kb_search.c.tags, TAGS), (kb_search.c.body, BODY)):
            points = points + case((_holds(column, span), weight), else_=0)
    helpful = case(
        (kb_search.c.helpful > HELPFUL_CAP, HELPFUL_CAP), (kb_search.c.helpful < 0, 0), else_=kb_search.c.helpful
    )
    return points + helpful


def _conditions(query: SearchQuery, dialect: str) -> list[ColumnElement[bool]]:
    conditions = [_found(query.spans, dialect)]
    conditions += [
        or_(*(_holds(column, span) for column in (kb_search.c.title, kb_search.c.tags, kb_search.c.body)))
        for span in query.spans
        if span.chinese and len(span.text) > 1
    ]
    if query.language is not None:
        conditions.append(kb_search.c.language == query.language.value)
    if query.category is not None:
        conditions.append(kb_search.c.category == query.category)
    if query.visibility is not None:
        conditions.append(kb_search.c.visibility == query.visibility.value)
    if query.product_line is not None:
        conditions.append(kb_search.c.product_lines.contains(f"|{query.product_line}|", autoescape=True))
    conditions += in_business_lines(kb_search.c.business_line, query.business_lines)
    return conditions


class SqlSearchRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def put(self, document: SearchDocument) -> None:
        values = asdict(document)
        values.update(language=document.language.value, visibility=document.visibility.value)
        await self._conn.execute(_DELETE, {"id": document.article_id})
        await self._conn.execute(insert(kb_search), values)

    async def remove(self, article_id: UUID) -> None:
        await self._conn.execute(_DELETE, {"id": article_id})

    async def set_helpful(self, article_id: UUID, helpful: int) -> None:
        await self._conn.execute(_HELPFUL, {"id": article_id, "helpful": helpful})

    async def search(self, query: SearchQuery, page: PageRequest) -> Page[SearchHit]:
        scored = (
            select(kb_search.c.article_id, kb_search.c.published_at, _score(query.spans).label("score"))
            .where(*_conditions(query, self._conn.dialect.name))
            .subquery()
        )
        key = [scored.c.score, scored.c.published_at, scored.c.article_id]
        rows, next_key = await fetch_page(self._conn, select(scored), key, page)
        return Page([SearchHit(row.article_id, row.score) for row in rows], next_key)
