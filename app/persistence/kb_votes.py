"""Votes on knowledge base articles: one row per article and voter."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.kb_votes import Vote
from app.persistence.tables import kb_article_votes
from app.persistence.upserts import insert_or_ignore

_WHERE = (kb_article_votes.c.article_id == bindparam("a"), kb_article_votes.c.voter == bindparam("v"))
_GET = select(kb_article_votes.c.helpful, kb_article_votes.c.voted_at).where(*_WHERE)
_CHANGE = update(kb_article_votes).where(*_WHERE).values(helpful=bindparam("h"), voted_at=bindparam("at"))
_DELETE = delete(kb_article_votes).where(*_WHERE)


class SqlVoteRepository:
    """The caller holds the article's row lock (the tallies change with the vote), so a voter's rows never race."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, article_id: UUID, voter: str) -> Vote | None:
        row = (await self._conn.execute(_GET, {"a": article_id, "v": voter})).first()
        return Vote(article_id, voter, row.helpful, row.voted_at) if row else None

    async def put(self, vote: Vote) -> None:
        values = {
            "article_id": vote.article_id,
            "voter": vote.voter,
            "helpful": vote.helpful,
            "voted_at": vote.voted_at,
        }
        stmt = insert_or_ignore(self._conn, kb_article_votes, "article_id", "voter")
        if (await self._conn.execute(stmt, values)).rowcount == 0:
            await self._conn.execute(
                _CHANGE, {"a": vote.article_id, "v": vote.voter, "h": vote.helpful, "at": vote.voted_at}
            )

    async def remove(self, article_id: UUID, voter: str) -> None:
        await self._conn.execute(_DELETE, {"a": article_id, "v": voter})
