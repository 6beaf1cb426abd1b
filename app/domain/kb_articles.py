"""Knowledge base articles (知识库): solved cases written down so that agents and customers find the answer again.

An article keeps every version of its content with who wrote it and when. `current_version` is the latest one, the
one under work and review; `live_version` is the one readers see (None until first published). Editing a published
article writes a new current version under review while the live one stays as it was, until that version is
approved. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from app.domain.pagination import Page, PageRequest

MAX_TITLE = 200
MAX_BODY = 50_000
"""Characters of Markdown an article body holds at most: a long guide, not a pasted manual."""
MAX_TAGS = 20
MAX_PRODUCT_LINES = 20


class Visibility(StrEnum):
    INTERNAL = "internal"
    PUBLIC = "public"


class Language(StrEnum):
    ZH_CN = "zh-CN"
    EN = "en"


@dataclass(frozen=True, slots=True)
class Content:
    """What one version of an article says, and to whom."""

    title: str
    body: str
    category: str | None
    tags: tuple[str, ...]
    product_lines: tuple[str, ...]
    visibility: Visibility


@dataclass(frozen=True, slots=True)
class ArticleVersion:
    article_id: UUID
    number: int
    content: Content
    author: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ArticleTally:
    """What readers did with an article: reads of it while live (views) and their helpful / not-helpful votes. Kept by
    atomic counter updates, never by writing an article back, so that no edit loses a count."""

    views: int = 0
    helpful_votes: int = 0
    unhelpful_votes: int = 0

    @property
    def net_helpful(self) -> int:
        """What search ranks by (`kb_search.helpful`): helpful minus not-helpful votes, capped there to
        0..HELPFUL_CAP."""
        return self.helpful_votes - self.unhelpful_votes


@dataclass(frozen=True, slots=True)
class Article:
    id: UUID
    status: str
    language: Language
    business_line: str | None
    translation_of: UUID | None
    created_by: str
    current_version: int
    live_version: int | None
    version: int
    created_at: datetime
    updated_at: datetime
    approved_by: str | None = None
    published_at: datetime | None = None
    source_ticket_id: UUID | None = None
    tally: ArticleTally = ArticleTally()

    @property
    def is_live(self) -> bool:
        """Readers (customers included, when its live version is public) see it: published once, not archived."""
        return self.live_version is not None and self.status != "archived"


class ArticleSort(StrEnum):
    NEWEST = "-created_at"
    MOST_READ = "-views"


@dataclass(frozen=True, slots=True)
class ArticleFilter:
    """Lists narrowed by every field set. `live_public` keeps only what customers may read; `business_lines` is the
    caller's scope (None: every line). `sort`: newest first, or most read first (staff: the frequent problems)."""

    statuses: frozenset[str] | None = None
    language: Language | None = None
    category: str | None = None
    visibility: Visibility | None = None
    live_public: bool = False
    business_lines: frozenset[str] | None = None
    sort: ArticleSort = ArticleSort.NEWEST


class ArticleRepository(Protocol):
    async def add(self, article: Article, version: ArticleVersion) -> None: ...
    async def get(self, article_id: UUID, *, for_update: bool = False) -> Article | None: ...
    async def update(self, article: Article) -> None: ...
    async def add_version(self, version: ArticleVersion) -> None: ...
    async def version(self, article_id: UUID, number: int) -> ArticleVersion | None: ...
    async def live(self, article_ids: Sequence[UUID]) -> dict[UUID, tuple[Article, ArticleVersion]]:
        """Those of the articles that have a live version, each with it, in one read (a page of search hits)."""
        ...

    async def versions(self, article_id: UUID, page: PageRequest) -> Page[ArticleVersion]:
        """Newest first."""
        ...

    async def count_view(self, article_id: UUID) -> ArticleTally:
        """One more read, as one atomic increment; the tally after it."""
        ...

    async def add_votes(self, article_id: UUID, helpful: int, unhelpful: int) -> ArticleTally:
        """Add to the vote tallies atomically; the tally after it."""
        ...

    async def list(self, where: ArticleFilter, page: PageRequest) -> Page[tuple[Article, ArticleVersion]]:
        """Newest first, each with the version its reader sees (live for customers, current for staff)."""
        ...
