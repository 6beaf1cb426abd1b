"""/v1/kb/articles/{id}/vote: was this article helpful? One vote per reader, changed or withdrawn at will."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Path

from app.schemas.common import problems
from app.schemas.kb_votes import ArticleVoteIn, ArticleVoteOut
from app.web.auth import Person
from app.web.routes import api_router
from app.web.wiring import Svc

router = api_router(prefix="/v1/kb/articles", tags=["knowledge base"])
ArticleId = Annotated[UUID, Path(description="The article's id.")]


@router.put("/{article_id}/vote", responses=problems(404, 409, 422))
async def vote_kb_article(article_id: ArticleId, body: ArticleVoteIn, principal: Person, svc: Svc) -> ArticleVoteOut:
    """Cast or change the caller's vote on a live article they may read (customers: published public ones; others are
    not found). A draft or archived article takes no votes (409 `article_not_live`). Search ranks an article up by
    its helpful votes minus its not-helpful ones."""
    return ArticleVoteOut.of(await svc.kb_votes.vote(principal, article_id, body.helpful))


@router.delete("/{article_id}/vote", responses=problems(404, 409, 422))
async def withdraw_kb_article_vote(article_id: ArticleId, principal: Person, svc: Svc) -> ArticleVoteOut:
    """Withdraw the caller's vote (no vote to withdraw is no error); answers the tallies after it."""
    return ArticleVoteOut.of(await svc.kb_votes.withdraw(principal, article_id))
