"""Knowledge base suggestion contract: a ticket's suggested articles, type-ahead titles, and the search misses
report."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from app.domain.kb_articles import Language
from app.domain.kb_search import TitleHit
from app.domain.kb_search_misses import SearchMiss
from app.schemas.common import Output
from app.schemas.kb_search import SearchHitOut


class TicketSuggestionsOut(BaseModel):
    items: list[SearchHitOut] = Field(description="Best first: the most of the ticket's words, product line up.")


class TitleSuggestionOut(Output):
    article_id: UUID
    title: str
    language: Language

    @classmethod
    def of(cls, hit: TitleHit) -> TitleSuggestionOut:
        return cls(article_id=hit.article_id, title=hit.title, language=hit.language)


class TitleSuggestionsOut(BaseModel):
    items: list[TitleSuggestionOut] = Field(description="At most 10: titles starting with the text first.")


class SearchMissOut(Output):
    query: str = Field(description="The query as search folded it: its words and Chinese runs, space-joined.")
    business_line: str | None = Field(description="The searching caller's business line; null: none.")
    count: int
    first_seen: datetime
    last_seen: datetime

    @classmethod
    def of(cls, miss: SearchMiss) -> SearchMissOut:
        return cls(
            query=miss.query,
            business_line=miss.business_line,
            count=miss.count,
            first_seen=miss.first_seen,
            last_seen=miss.last_seen,
        )
