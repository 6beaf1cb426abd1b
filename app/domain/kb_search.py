"""Knowledge base search: what is indexed of a live article, what a query asks, and how hits rank.

Both databases find the candidates through their index of our tokens (every token of the query present) and then
rank them by the same integer score in portable SQL, so that SQLite and PostgreSQL answer the same top 10: for each
query span, a title holding it counts TITLE, the tags TAGS, the body BODY; helpful votes minus not-helpful ones
(`ArticleTally.net_helpful`) add one point each, from 0 up to HELPFUL_CAP; ties go to the most recently published. A
Chinese span of two characters or more must occur in the article as a phrase. A span in a synonym group searches as
any of its group's terms (each as a span itself: a Chinese one a phrase); an article holding only a synonym scores
half its field's weight, so the words typed rank first. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol
from uuid import UUID

from app.domain.errors import FieldError, InvalidInput
from app.domain.kb_articles import Article, ArticleVersion, Language, Visibility
from app.domain.kb_suggestions import RelatedQuery
from app.domain.kb_synonyms import Thesaurus
from app.domain.kb_tokens import Span, fold, index_tokens, query_spans
from app.domain.pagination import Page, PageRequest

TITLE, TAGS, BODY = 100, 30, 10
HELPFUL_CAP = 20
"""Helpful votes lift an article by one point each, at most this many: never above a better textual match."""
MAX_QUERY = 200
MAX_SPANS = 12
TAG_SEPARATOR = " | "


@dataclass(frozen=True, slots=True)
class SearchDocument:
    """The search row of a live article: folded text per field, our tokens space-joined, and what filters read."""

    article_id: UUID
    language: Language
    category: str | None
    visibility: Visibility
    business_line: str | None
    product_lines: str
    title: str
    tags: str
    body: str
    tokens: str
    title_tokens: str
    helpful: int
    published_at: datetime

    @classmethod
    def of(cls, article: Article, live: ArticleVersion, helpful: int) -> SearchDocument:
        content = live.content
        title, tags, body = fold(content.title), fold(TAG_SEPARATOR.join(content.tags)), fold(content.body)
        return cls(
            article_id=article.id,
            language=article.language,
            category=content.category,
            visibility=content.visibility,
            business_line=article.business_line,
            product_lines=product_line_list(content.product_lines),
            title=title,
            tags=tags,
            body=body,
            tokens=" ".join(index_tokens(f"{title} {tags} {body}")),
            title_tokens=" ".join(index_tokens(title)),
            helpful=helpful,
            published_at=article.published_at or live.created_at,
        )


def product_line_list(product_lines: tuple[str, ...]) -> str:
    """`|a|b|`: one product line is matched as `|x|` within it."""
    return "|" + "".join(f"{fold(line)}|" for line in product_lines)


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """What to find and where: the query's spans, the filters sent, and the caller's reach (customers: public
    only; staff: their business-line scope)."""

    spans: tuple[Span, ...]
    language: Language | None = None
    category: str | None = None
    product_line: str | None = None
    visibility: Visibility | None = None
    business_lines: frozenset[str] | None = None
    synonyms: tuple[tuple[Span, ...], ...] = ()
    """Per span (same order), the other terms it also searches as; empty: no synonyms."""

    def alternatives(self) -> tuple[tuple[Span, tuple[Span, ...]], ...]:
        """Each span with its synonyms."""
        synonyms = self.synonyms or tuple(() for _ in self.spans)
        return tuple(zip(self.spans, synonyms, strict=True))

    def with_synonyms(self, thesaurus: Thesaurus) -> SearchQuery:
        return replace(self, synonyms=tuple(thesaurus.others(span) for span in self.spans))

    @property
    def marked(self) -> tuple[Span, ...]:
        """What a snippet highlights: the spans and their synonyms."""
        return tuple(dict.fromkeys((*self.spans, *(s for group in self.synonyms for s in group))))

    @classmethod
    def parse(cls, text: str, **filters: object) -> SearchQuery:
        """Raises InvalidInput naming `q` when the text holds nothing to search for or too much."""
        spans = query_spans(text)
        if not spans:
            raise InvalidInput(
                "The query holds no letter, digit or Chinese character",
                code="validation_failed",
                errors=[FieldError("q", "holds no letter, digit or Chinese character", "query")],
            )
        if len(spans) > MAX_SPANS:
            raise InvalidInput(
                "The query holds too many words",
                code="validation_failed",
                errors=[FieldError("q", f"at most {MAX_SPANS} words or Chinese phrases", "query")],
            )
        return cls(spans, **filters)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class SearchHit:
    article_id: UUID
    score: int


@dataclass(frozen=True, slots=True)
class TitleHit:
    """A type-ahead suggestion: the article and its live title as written."""

    article_id: UUID
    title: str
    language: Language


class SearchRepository(Protocol):
    async def put(self, document: SearchDocument) -> None:
        """Index the article's live version in place of what was indexed of it."""
        ...

    async def remove(self, article_id: UUID) -> None: ...
    async def set_helpful(self, article_id: UUID, helpful: int) -> None:
        """Keep the article's row (if live) in step with its votes: `ArticleTally.net_helpful`."""
        ...

    async def search(self, query: SearchQuery, page: PageRequest) -> Page[SearchHit]:
        """Best first (score, then the most recently published, then the article id)."""
        ...

    async def related(self, query: RelatedQuery) -> list[SearchHit]:
        """A ticket's suggestions: articles holding any of its spans, most matches first."""
        ...

    async def titles(self, query: SearchQuery, limit: int) -> list[TitleHit]:
        """Type-ahead: live articles whose title holds every span as typed."""
        ...
