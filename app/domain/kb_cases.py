"""Solved cases in the knowledge base (seeds 002/003: 解决方案和优秀案例沉淀为知识): an article drafted from a resolved
ticket, and the tickets an article solved. Pure: no I/O.

A draft takes what the customer told us and what fixed it: the ticket's title, description, fault description,
category, tags, business line (its product's line) and the resolution's solution. Never the internal note of the
resolution, internal comments, costs, contact details or the customer's number: the draft is internal until a
reviewer publishes it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from app.domain.errors import Conflict
from app.domain.kb_articles import MAX_TAGS, MAX_TITLE, Content, Language, Visibility
from app.domain.pagination import Page, PageRequest
from app.domain.tickets import Ticket

RESOLVED_STATES = ("pending_follow_up", "completed", "closed")
"""Ticket states whose solution is known: resolved (待回访), completed or closed."""

_HEADINGS = {
    Language.ZH_CN: ("问题描述", "故障现象", "解决方案"),
    Language.EN: ("Problem", "Fault", "Solution"),
}


def unresolved(ticket: Ticket) -> Conflict | None:
    """Why no article can be drafted from the ticket yet, or None: it must be resolved and carry a solution."""
    if ticket.status in RESOLVED_STATES and ticket.resolution is not None:
        return None
    why = "it has no solution recorded" if ticket.status in RESOLVED_STATES else f"it is {ticket.status}"
    return Conflict(
        f"Ticket {ticket.number} is not resolved: {why}; draft an article from a resolved ticket",
        code="ticket_not_resolved",
        extra={"current_state": ticket.status},
    )


def case_content(ticket: Ticket, language: Language, visibility: Visibility, title: str | None) -> Content:
    """The draft's content from a resolved ticket (see the module's docstring for what is never copied)."""
    problem, fault, solution = _HEADINGS[language]
    sections = [(problem, ticket.description), (fault, ticket.fault_description)]
    sections.append((solution, ticket.resolution.solution if ticket.resolution else None))
    body = "\n\n".join(f"## {heading}\n\n{text.strip()}" for heading, text in sections if text and text.strip())
    return Content(
        title=(title or ticket.title)[:MAX_TITLE],
        body=body,
        category=ticket.category,
        tags=tuple(dict.fromkeys(ticket.tags))[:MAX_TAGS],
        product_lines=(ticket.business_line,) if ticket.business_line else (),
        visibility=visibility,
    )


@dataclass(frozen=True, slots=True)
class TicketLink:
    """关联工单: an article used to solve a ticket, who said so and when."""

    article_id: UUID
    ticket_id: UUID
    linked_by: str
    linked_at: datetime


@dataclass(frozen=True, slots=True)
class LinkedTicket:
    """A ticket an article solved, as its list shows it."""

    link: TicketLink
    number: str
    title: str
    status: str


@dataclass(frozen=True, slots=True)
class LinkedArticle:
    """An article linked to a ticket, as its list shows it (the article's current title and state)."""

    link: TicketLink
    title: str
    status: str
    language: Language


class TicketLinkRepository(Protocol):
    async def add(self, link: TicketLink) -> tuple[TicketLink, bool]:
        """Link, unless linked already: the link as stored (the first one's author and time) and whether it is new."""
        ...

    async def remove(self, article_id: UUID, ticket_id: UUID) -> None: ...
    async def tickets(
        self, article_id: UUID, business_lines: frozenset[str] | None, page: PageRequest
    ) -> Page[LinkedTicket]:
        """Newest link first, tickets of these business lines only."""
        ...

    async def articles(
        self, ticket_id: UUID, business_lines: frozenset[str] | None, page: PageRequest
    ) -> Page[LinkedArticle]:
        """Newest link first, articles of these business lines only."""
        ...
