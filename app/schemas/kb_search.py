"""Knowledge base search contract: hits with their article, score and highlighted snippet."""

from __future__ import annotations

from pydantic import Field

from app.domain.principal import Principal
from app.schemas.common import Output
from app.schemas.kb_articles import ArticleOut
from app.services.kb_search import Hit


class SearchHitOut(Output):
    article: ArticleOut = Field(description="The live version found.")
    score: int = Field(description="Higher is better: title over tags over body, helpful votes up.")
    snippet: str = Field(description="Folded text around the match, HTML-escaped, the query's words in <mark>.")

    @classmethod
    def of(cls, hit: Hit, principal: Principal) -> SearchHitOut:
        return cls(article=ArticleOut.of(hit.view, principal), score=hit.score, snippet=hit.snippet)
