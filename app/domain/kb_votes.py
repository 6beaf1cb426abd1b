"""Helpful / not-helpful votes on knowledge base articles (文章是否有帮助): one per reader and article, changed or
withdrawn at will, counted on the article. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from app.domain.principal import Principal


@dataclass(frozen=True, slots=True)
class Vote:
    article_id: UUID
    voter: str
    helpful: bool
    voted_at: datetime


def voter_of(principal: Principal) -> str:
    """Who votes: a customer's and a staff member's subject live in different namespaces, so each gets a prefix and
    the two never share one vote."""
    side = "customer" if principal.is_customer else "staff"
    return f"{side}:{principal.subject}"


def tally_change(before: bool | None, after: bool | None) -> tuple[int, int]:
    """What the article's (helpful, unhelpful) tallies gain when a reader's vote goes from `before` to `after`
    (None: no vote)."""

    def counts(vote: bool | None) -> tuple[int, int]:
        return (0, 0) if vote is None else ((1, 0) if vote else (0, 1))

    (h0, u0), (h1, u1) = counts(before), counts(after)
    return h1 - h0, u1 - u0


class VoteRepository(Protocol):
    async def get(self, article_id: UUID, voter: str) -> Vote | None: ...
    async def put(self, vote: Vote) -> None:
        """Store the vote in place of the voter's earlier one."""
        ...

    async def remove(self, article_id: UUID, voter: str) -> None: ...
