"""Solved-case contract: an article drafted from a resolved ticket, and the links between articles and tickets."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import ConfigDict, Field

from app.domain.kb_articles import MAX_TITLE, Language, Visibility
from app.domain.kb_cases import LinkedArticle, LinkedTicket
from app.schemas.common import Input, Line, Output
from app.services.kb_cases import LinkOutcome


class CaseDraftIn(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"ticket_id": "T-2026-000123", "title": "净化器异响：更换风机", "language": "zh-CN"}]
        }
    )

    ticket_id: str = Field(
        min_length=1, max_length=64, description="The resolved ticket's UUID or number, e.g. T-2026-000123."
    )
    title: Line | None = Field(None, min_length=1, max_length=MAX_TITLE, description="Default: the ticket's title.")
    language: Language = Field(Language.ZH_CN, description="The article's language (and its section headings').")
    visibility: Visibility = Field(
        Visibility.INTERNAL, description="Default internal: a reviewer makes a case public once it reads right."
    )


class TicketLinkOut(Output):
    article_id: UUID
    ticket_id: UUID
    ticket_number: str
    linked_by: str
    linked_at: datetime

    @classmethod
    def of(cls, outcome: LinkOutcome) -> TicketLinkOut:
        link = outcome.link
        return cls(
            article_id=link.article_id,
            ticket_id=link.ticket_id,
            ticket_number=outcome.ticket_number,
            linked_by=link.linked_by,
            linked_at=link.linked_at,
        )


class LinkedTicketOut(Output):
    ticket_id: UUID
    number: str
    title: str
    status: str
    linked_by: str
    linked_at: datetime

    @classmethod
    def of(cls, found: LinkedTicket) -> LinkedTicketOut:
        return cls(
            ticket_id=found.link.ticket_id,
            number=found.number,
            title=found.title,
            status=found.status,
            linked_by=found.link.linked_by,
            linked_at=found.link.linked_at,
        )


class LinkedArticleOut(Output):
    article_id: UUID
    title: str = Field(description="The article's current version's title.")
    status: str
    language: Language
    linked_by: str
    linked_at: datetime

    @classmethod
    def of(cls, found: LinkedArticle) -> LinkedArticleOut:
        return cls(
            article_id=found.link.article_id,
            title=found.title,
            status=found.status,
            language=found.language,
            linked_by=found.link.linked_by,
            linked_at=found.link.linked_at,
        )
