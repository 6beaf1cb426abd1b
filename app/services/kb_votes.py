"""Helpful / not-helpful votes on live knowledge base articles, one per reader and article.

The vote row and the article's tallies change in one transaction under the article's row lock, so that tallies stay
exact when voters race, and the search row's `helpful` follows them (`ArticleTally.net_helpful`). A customer votes
on the live public articles they may read (others are not found); staff on live articles of their business lines (a
draft or an archived article is a 409: nobody reads it)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from app.domain.clock import Clock
from app.domain.errors import Conflict
from app.domain.kb_articles import Article, ArticleTally
from app.domain.kb_votes import Vote, tally_change, voter_of
from app.domain.principal import Principal
from app.domain.unit_of_work import UnitOfWork, UnitOfWorkFactory
from app.services.kb_articles import visible_article


@dataclass(frozen=True, slots=True)
class VoteOutcome:
    """The caller's vote after the change (None: withdrawn) and the article's tallies."""

    article_id: UUID
    vote: Vote | None
    tally: ArticleTally


class VoteService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def vote(self, principal: Principal, article_id: UUID, helpful: bool) -> VoteOutcome:
        """Cast or change the caller's vote."""
        async with self._uow.write() as uow:
            article = await _votable(uow, principal, article_id)
            voter = voter_of(principal)
            before = await uow.kb_votes.get(article_id, voter)
            vote = Vote(article_id, voter, helpful, self._clock.now())
            await uow.kb_votes.put(vote)
            tally = await _retally(uow, article, before, vote)
            await uow.commit()
        return VoteOutcome(article_id, vote, tally)

    async def withdraw(self, principal: Principal, article_id: UUID) -> VoteOutcome:
        """Take the caller's vote back; nothing to take back is not an error."""
        async with self._uow.write() as uow:
            article = await _votable(uow, principal, article_id)
            voter = voter_of(principal)
            before = await uow.kb_votes.get(article_id, voter)
            if before is not None:
                await uow.kb_votes.remove(article_id, voter)
            tally = await _retally(uow, article, before, None)
            await uow.commit()
        return VoteOutcome(article_id, None, tally)


async def _votable(uow: UnitOfWork, principal: Principal, article_id: UUID) -> Article:
    """The article, locked (its tallies change), if the caller may read it and it is live."""
    article, _ = await visible_article(uow, principal, article_id, for_update=True)
    if not article.is_live:
        raise Conflict(
            f"Article {article_id} is {article.status} and not published: only a live article takes votes",
            code="article_not_live",
            extra={"current_state": article.status},
        )
    return article


async def _retally(uow: UnitOfWork, article: Article, before: Vote | None, after: Vote | None) -> ArticleTally:
    helpful, unhelpful = tally_change(
        None if before is None else before.helpful, None if after is None else after.helpful
    )
    if (helpful, unhelpful) == (0, 0):
        return article.tally
    tally = await uow.kb_articles.add_votes(article.id, helpful, unhelpful)
    await uow.kb_search.set_helpful(article.id, tally.net_helpful)
    return tally
