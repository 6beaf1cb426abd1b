"""Search rows of live articles, found through each database's own index of our tokens and ranked by one portable
SQL score (see app/domain/kb_search.py), so that SQLite and PostgreSQL answer the same hits in the same order.

SQLite: the FTS5 table kb_search_fts (external content, kept in step by triggers) matches
`(("t1" AND "t2") OR ("synonym")) AND (("word" *))`. PostgreSQL: the GIN index of
`array_to_tsvector(string_to_array(tokens, ' '))` matches the tsquery `(('t1' & 't2') | ('synonym')) & (('word':*))`,
cast from text so that no parser of PostgreSQL's touches our tokens. A ticket's suggestions OR its spans instead."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
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

from app.domain.kb_articles import Language, Visibility
from app.domain.kb_search import BODY, HELPFUL_CAP, TAGS, TITLE, SearchDocument, SearchHit, SearchQuery, TitleHit
from app.domain.kb_suggestions import (
    BODY_HIT,
    CATEGORY_BOOST,
    PRODUCT_LINE_BOOST,
    TAGS_HIT,
    TITLE_HIT,
    RelatedQuery,
)
from app.domain.kb_tokens import Span
from app.domain.pagination import Page, PageRequest
from app.persistence.keyset import fetch_page
from app.persistence.scope import in_business_lines
from app.persistence.tables import kb_article_versions, kb_articles, kb_search

_HELPFUL = update(kb_search).where(kb_search.c.article_id == bindparam("id")).values(helpful=bindparam("helpful"))
_DELETE = delete(kb_search).where(kb_search.c.article_id == bindparam("id"))
_FTS = "SELECT rowid FROM kb_search_fts WHERE kb_search_fts MATCH :match"
_TITLE_FTS = "SELECT rowid FROM kb_title_fts WHERE kb_title_fts MATCH :match"
_LEXEMES = func.array_to_tsvector(func.string_to_array(kb_search.c.tokens, literal_column("' '")))
"""The indexed expression exactly (its separator a literal, not a parameter, or the planner cannot use the index)."""
_TITLE_LEXEMES = func.array_to_tsvector(func.string_to_array(kb_search.c.title_tokens, literal_column("' '")))


def _fts_terms(span: Span) -> str:
    """One span in FTS5's query syntax: a word as a prefix, a Chinese span as all of its tokens."""
    return f'"{span.text}" *' if not span.chinese else " AND ".join(f'"{token}"' for token in span.tokens)


def _ts_terms(span: Span) -> str:
    return f"'{span.text}':*" if not span.chinese else " & ".join(f"'{token}'" for token in span.tokens)


def _fts_any(spans: Sequence[Span]) -> str:
    return " OR ".join(f"({_fts_terms(span)})" for span in spans)


def _ts_any(spans: Sequence[Span]) -> str:
    return " | ".join(f"({_ts_terms(span)})" for span in spans)


def _in_index(match: str, tsquery: str, dialect: str, *, title: bool = False) -> ColumnElement[bool]:
    """In the index of every token of the article, or (`title`) of its title's tokens only."""
    if dialect == "postgresql":
        return (_TITLE_LEXEMES if title else _LEXEMES).op("@@")(cast(literal(tsquery), TSQUERY))
    # Unique: a statement may ask both indexes, or one several times (a word's title weight in the score).
    fts = text(_TITLE_FTS if title else _FTS).bindparams(bindparam("match", match, unique=True)).columns(rowid=Integer)
    return kb_search.c.doc.in_(select(fts.subquery().c.rowid))


def _found(groups: Sequence[Sequence[Span]], dialect: str, *, title: bool = False) -> ColumnElement[bool]:
    """Some span of every group in the index (each word as a prefix)."""
    match = " AND ".join(f"({_fts_any(group)})" for group in groups)  # FTS5 joins parentheses by explicit AND only
    tsquery = " & ".join(f"({_ts_any(group)})" for group in groups)
    return _in_index(match, tsquery, dialect, title=title)


def _in_title(span: Span, dialect: str) -> ColumnElement[bool]:
    """The title holds the span itself: a Chinese span as written, a word as the start of one of its words (through
    the title's own index, so that `fund` is not in a title that says `refund`)."""
    if span.chinese:
        return _holds(kb_search.c.title, span)
    return _found([(span,)], dialect, title=True)


def _holds(column: Any, span: Span) -> ColumnElement[bool]:
    return column.contains(span.text, autoescape=True)


_FIELDS = ((kb_search.c.title, TITLE), (kb_search.c.tags, TAGS), (kb_search.c.body, BODY))


def _helpful() -> ColumnElement[int]:
    return case(
        (kb_search.c.helpful > HELPFUL_CAP, HELPFUL_CAP), (kb_search.c.helpful < 0, 0), else_=kb_search.c.helpful
    )


def _score(query: SearchQuery, dialect: str) -> ColumnElement[int]:
    """Per span and field: the field's weight when it holds the span, half of it when it holds only a synonym."""
    points: ColumnElement[int] = literal(0, Integer)
    for span, synonyms in query.alternatives():
        for column, weight in _FIELDS:
            whens = [(_in_title(span, dialect) if column is kb_search.c.title else _holds(column, span), weight)]
            if synonyms:
                whens.append((or_(*(_holds(column, other) for other in synonyms)), weight // 2))
            points = points + case(*whens, else_=0)
    return points + _helpful()


def _reach(visibility: Visibility | None, business_lines: frozenset[str] | None) -> list[ColumnElement[bool]]:
    conditions = [] if visibility is None else [kb_search.c.visibility == visibility.value]
    return conditions + in_business_lines(kb_search.c.business_line, business_lines)


def _in_product_line(line: str) -> ColumnElement[bool]:
    return kb_search.c.product_lines.contains(f"|{line}|", autoescape=True)


def rest_bound(query: SearchQuery) -> int:
    """The highest score an article can reach whose title lacks one of the query's spans itself: every field holding
    every span, but that span's title weight lost (halved, when a synonym of it may stand in the title)."""
    alternatives = query.alternatives()
    lost = min(TITLE - (TITLE // 2 if synonyms else 0) for _, synonyms in alternatives)
    return len(alternatives) * sum(weight for _, weight in _FIELDS) + HELPFUL_CAP - lost


def _conditions(query: SearchQuery, dialect: str) -> list[ColumnElement[bool]]:
    alternatives = query.alternatives()
    conditions = [_found([(span, *synonyms) for span, synonyms in alternatives], dialect)]
    for span, synonyms in alternatives:
        # A Chinese span of two characters or more is a phrase: it, or one of its synonyms, occurs as written. A
        # synonym that is a word is taken to hold where its text occurs.
        if not any(s.chinese and len(s.text) > 1 for s in (span, *synonyms)):
            continue
        conditions.append(or_(*(_holds(column, s) for s in (span, *synonyms) for column, _ in _FIELDS)))
    return conditions + _filters(query)


def _title_conditions(query: SearchQuery, dialect: str) -> list[ColumnElement[bool]]:
    """Articles whose title holds every span itself: found through the title's index alone (each such article also
    holds every token in its whole index, and each phrase as written)."""
    conditions = [_found([(span,) for span in query.spans], dialect, title=True)]
    conditions += [_holds(kb_search.c.title, span) for span in query.spans if span.chinese and len(span.text) > 1]
    return conditions + _filters(query)


def _filters(query: SearchQuery) -> list[ColumnElement[bool]]:
    conditions = []
    if query.language is not None:
        conditions.append(kb_search.c.language == query.language.value)
    if query.category is not None:
        conditions.append(kb_search.c.category == query.category)
    if query.product_line is not None:
        conditions.append(_in_product_line(query.product_line))
    return conditions + _reach(query.visibility, query.business_lines)


_RELATED_FIELDS = ((kb_search.c.title, TITLE_HIT), (kb_search.c.tags, TAGS_HIT), (kb_search.c.body, BODY_HIT))


def _related_score(query: RelatedQuery) -> ColumnElement[int]:
    points: ColumnElement[int] = literal(0, Integer)
    for span in query.spans:
        for column, weight in _RELATED_FIELDS:
            points = points + case((_holds(column, span), weight), else_=0)
    if query.product_line:
        points = points + case((_in_product_line(query.product_line), PRODUCT_LINE_BOOST), else_=0)
    if query.category:
        points = points + case((kb_search.c.category == query.category, CATEGORY_BOOST), else_=0)
    return points


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
        """Articles whose titles hold the query rank above all others but those of bounded score: when a page of
        them all scores above `rest_bound` and more follow, it is the page, found through the small title index
        without scoring the many articles that hold a common word somewhere. Otherwise every article is scored."""
        dialect, bound = self._conn.dialect.name, rest_bound(query)
        if page.after is None or page.after[0] > bound:
            items, next_key = await self._page(query, _title_conditions(query, dialect), page)
            if next_key is not None and len(items) == page.limit and items[-1].score > bound:
                return Page(items, next_key)
        return Page(*await self._page(query, _conditions(query, dialect), page))

    async def _page(
        self, query: SearchQuery, conditions: list[ColumnElement[bool]], page: PageRequest
    ) -> tuple[list[SearchHit], tuple[Any, ...] | None]:
        score = _score(query, self._conn.dialect.name).label("score")
        scored = select(kb_search.c.article_id, kb_search.c.published_at, score).where(*conditions).subquery()
        key = [scored.c.score, scored.c.published_at, scored.c.article_id]
        rows, next_key = await fetch_page(self._conn, select(scored), key, page)
        return [SearchHit(row.article_id, row.score) for row in rows], next_key

    async def related(self, query: RelatedQuery) -> list[SearchHit]:
        """Live articles holding any of the query's spans, the most matches (and boosts) first."""
        if not query.spans:
            return []
        score = _related_score(query).label("score")
        found = _found([query.spans], self._conn.dialect.name)
        stmt = (
            select(kb_search.c.article_id, score)
            .where(found, *_reach(query.visibility, query.business_lines))
            .order_by(score.desc(), kb_search.c.published_at.desc(), kb_search.c.article_id.desc())
            .limit(query.limit)
        )
        return [SearchHit(row.article_id, row.score) for row in await self._conn.execute(stmt)]

    async def titles(self, query: SearchQuery, limit: int) -> list[TitleHit]:
        """Live articles whose title holds every span as typed (the last word as a prefix, a Chinese run as a phrase),
        found through the index; titles that start with the first span first, then shorter ones."""
        conditions = [_found([(span,) for span in query.spans], self._conn.dialect.name, title=True)]
        conditions += [_holds(kb_search.c.title, span) for span in query.spans if span.chinese]
        if query.language is not None:
            conditions.append(kb_search.c.language == query.language.value)
        starts = case((kb_search.c.title.startswith(query.spans[0].text, autoescape=True), 0), else_=1)
        live = and_(
            kb_articles.c.id == kb_search.c.article_id,
            kb_article_versions.c.article_id == kb_search.c.article_id,
            kb_article_versions.c.number == kb_articles.c.live_version,
        )
        stmt = (
            select(kb_search.c.article_id, kb_article_versions.c.title, kb_search.c.language)
            .where(*conditions, *_reach(query.visibility, query.business_lines), live)
            .order_by(starts, func.length(kb_search.c.title), kb_search.c.published_at.desc(), kb_search.c.article_id)
            .limit(limit)
        )
        return [TitleHit(row.article_id, row.title, Language(row.language)) for row in await self._conn.execute(stmt)]
