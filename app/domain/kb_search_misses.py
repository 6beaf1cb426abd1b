"""知识缺口: searches that found nothing, so that managers see which knowledge is missing. A miss is kept as the
query's folded spans (never the raw text a customer typed), bounded in length, one row per query and business line
with how often and when it was first and last asked. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from app.domain.kb_tokens import Span
from app.domain.pagination import Page, PageRequest

MAX_MISS = 200
NO_LINE = ""
"""The business line of misses by callers of none (customers, unscoped staff)."""


def miss_text(spans: tuple[Span, ...]) -> str:
    """The folded query as stored: its spans, space-joined, cut to MAX_MISS characters."""
    return " ".join(span.text for span in spans)[:MAX_MISS]


@dataclass(frozen=True, slots=True)
class SearchMiss:
    query: str
    business_line: str | None
    count: int
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class MissFilter:
    """Misses last seen in [since, until), of these business lines (and of none); None: every line."""

    since: datetime | None = None
    until: datetime | None = None
    business_lines: frozenset[str] | None = None


class SearchMissRepository(Protocol):
    async def record(self, query: str, business_lines: frozenset[str], at: datetime) -> None:
        """Count one miss of `query` under each line (NO_LINE for none), in one statement."""
        ...

    async def list(self, where: MissFilter, page: PageRequest) -> Page[SearchMiss]:
        """Most frequent first, then by query."""
        ...
