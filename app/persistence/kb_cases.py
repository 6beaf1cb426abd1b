"""Links between knowledge base articles and the tickets they solved, read from either side in link order."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Row, and_, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.kb_articles import Language
from app.domain.kb_cases import LinkedArticle, LinkedTicket, TicketLink
from app.domain.pagination import Page, PageRequest
from app.persistence.keyset import fetch_page
from app.persistence.scope import in_business_lines
from app.persistence.tables import kb_article_tickets, kb_article_versions, kb_articles, tickets
from app.persistence.upserts import insert_or_ignore

_LINKS = kb_article_tickets
_GET = select(_LINKS).where(_LINKS.c.article_id == bindparam("a"), _LINKS.c.ticket_id == bindparam("t"))
_DELETE = delete(_LINKS).where(_LINKS.c.article_id == bindparam("a"), _LINKS.c.ticket_id == bindparam("t"))


def _link(row: Row[Any]) -> TicketLink:
    m = row._mapping
    return TicketLink(m[_LINKS.c.article_id], m[_LINKS.c.ticket_id], m[_LINKS.c.linked_by], m[_LINKS.c.linked_at])


class SqlTicketLinkRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, link: TicketLink) -> tuple[TicketLink, bool]:
        values = {
            "article_id": link.article_id,
            "ticket_id": link.ticket_id,
            "linked_by": link.linked_by,
            "linked_at": link.linked_at,
        }
        stmt = insert_or_ignore(self._conn, _LINKS, "article_id", "ticket_id")
        if (await self._conn.execute(stmt, values)).rowcount == 1:
            return link, True
        return _link((await self._conn.execute(_GET, {"a": link.article_id, "t": link.ticket_id})).one()), False

    async def remove(self, article_id: UUID, ticket_id: UUID) -> None:
        await self._conn.execute(_DELETE, {"a": article_id, "t": ticket_id})

    async def tickets(
        self, article_id: UUID, business_lines: frozenset[str] | None, page: PageRequest
    ) -> Page[LinkedTicket]:
        stmt = (
            select(_LINKS, tickets.c.number, tickets.c.title, tickets.c.status)
            .join(tickets, tickets.c.id == _LINKS.c.ticket_id)
            .where(_LINKS.c.article_id == article_id, *in_business_lines(tickets.c.business_line, business_lines))
        )
        rows, next_key = await fetch_page(self._conn, stmt, [_LINKS.c.linked_at, _LINKS.c.ticket_id], page)
        return Page([LinkedTicket(_link(row), row.number, row.title, row.status) for row in rows], next_key)

    async def articles(
        self, ticket_id: UUID, business_lines: frozenset[str] | None, page: PageRequest
    ) -> Page[LinkedArticle]:
        current = kb_article_versions
        stmt = (
            select(_LINKS, current.c.title, kb_articles.c.status, kb_articles.c.language)
            .join(kb_articles, kb_articles.c.id == _LINKS.c.article_id)
            .join(
                current,
                and_(current.c.article_id == kb_articles.c.id, current.c.number == kb_articles.c.current_version),
            )
            .where(_LINKS.c.ticket_id == ticket_id, *in_business_lines(kb_articles.c.business_line, business_lines))
        )
        rows, next_key = await fetch_page(self._conn, stmt, [_LINKS.c.linked_at, _LINKS.c.article_id], page)
        found = [LinkedArticle(_link(row), row.title, row.status, Language(row.language)) for row in rows]
        return Page(found, next_key)
