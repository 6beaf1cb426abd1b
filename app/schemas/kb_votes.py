"""Vote contract: helpful or not, and the article's tallies after it."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field, StrictBool

from app.schemas.common import Input, Output
from app.services.kb_votes import VoteOutcome


class ArticleVoteIn(Input):
    helpful: StrictBool = Field(description="true: the article helped (有帮助); false: it did not (没帮助).")


class ArticleVoteOut(Output):
    article_id: UUID
    helpful: bool | None = Field(description="The caller's vote now; null once withdrawn.")
    voted_at: datetime | None
    helpful_votes: int
    unhelpful_votes: int

    @classmethod
    def of(cls, outcome: VoteOutcome) -> ArticleVoteOut:
        vote = outcome.vote
        return cls(
            article_id=outcome.article_id,
            helpful=None if vote is None else vote.helpful,
            voted_at=None if vote is None else vote.voted_at,
            helpful_votes=outcome.tally.helpful_votes,
            unhelpful_votes=outcome.tally.unhelpful_votes,
        )
