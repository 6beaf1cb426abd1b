"""Knowledge base article contract: writing an article, reading it (Markdown, and sanitised HTML on request), its
versions."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import ConfigDict, Field

from app.domain.kb_articles import (
    MAX_BODY,
    MAX_PRODUCT_LINES,
    MAX_TAGS,
    MAX_TITLE,
    ArticleVersion,
    Content,
    Language,
    Visibility,
)
from app.domain.kb_markdown import render
from app.domain.principal import Principal
from app.schemas.common import KEY_PATTERN, Input, Line, Output
from app.schemas.workflows import AvailableActionOut
from app.services.kb_articles import ArticleDraft, ArticleView
from app.workflows.kb_article import EditPayload, Name


class ArticleIn(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "title": "退款多久到账？",
                    "body": "退款审核通过后，原路退回：\n\n1. 微信、支付宝：1-3 个工作日\n2. 银行卡：3-7 个工作日",
                    "category": "退款",
                    "tags": ["退款", "到账时间"],
                    "product_lines": ["air-purifier"],
                    "visibility": "public",
                    "language": "zh-CN",
                }
            ]
        }
    )

    title: Line = Field(min_length=1, max_length=MAX_TITLE)
    body: str = Field(min_length=1, max_length=MAX_BODY, description="Markdown; raw HTML in it is shown as text.")
    category: Name | None = None
    tags: list[Name] = Field(default_factory=list, max_length=MAX_TAGS)
    product_lines: list[Name] = Field(default_factory=list, max_length=MAX_PRODUCT_LINES)
    visibility: Visibility = Field(Visibility.INTERNAL, description="`public`: customers may read it once published.")
    language: Language = Language.ZH_CN
    business_line: str | None = Field(None, pattern=KEY_PATTERN, max_length=64)
    translation_of: UUID | None = Field(None, description="The article (in the other language) this one translates.")

    def to_draft(self) -> ArticleDraft:
        content = Content(
            title=self.title,
            body=self.body,
            category=self.category,
            tags=tuple(dict.fromkeys(self.tags)),
            product_lines=tuple(dict.fromkeys(self.product_lines)),
            visibility=self.visibility,
        )
        return ArticleDraft(self.language, content, self.business_line, self.translation_of)


class ArticleEditIn(EditPayload):
    """The fields that change (at least one); the others keep their value in the new version."""


class ArticleOut(Output):
    id: UUID
    status: str
    language: Language
    business_line: str | None
    translation_of: UUID | None
    title: str
    body: str = Field(description="Markdown.")
    body_html: str | None = Field(description="Sanitised HTML of `body`, with `?render=html`; otherwise null.")
    category: str | None
    tags: list[str]
    product_lines: list[str]
    visibility: Visibility
    version_number: int = Field(description="The version shown: the live one for customers, the current for staff.")
    current_version: int | None = Field(description="Staff: the latest version, under work or review.")
    live_version: int | None = Field(description="The version readers see; null until first published.")
    author: str | None = Field(description="Staff: who wrote the version shown.")
    created_by: str | None = Field(description="Staff: who created the article.")
    approved_by: str | None = Field(description="Staff: who approved the live version.")
    source_ticket_id: UUID | None = Field(description="Staff: the resolved ticket the article was drafted from.")
    views: int | None = Field(
        description="Staff: reads of the article while live (customers' and staff's); what readers look up most."
    )
    helpful_votes: int = Field(description="Readers who found it helpful (有帮助).")
    unhelpful_votes: int = Field(description="Readers who did not (没帮助).")
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime
    available_actions: list[AvailableActionOut]

    @classmethod
    def of(cls, view: ArticleView, principal: Principal, *, html: bool = False) -> ArticleOut:
        article, shown = view.article, view.shown
        content = shown.content
        staff = not principal.is_customer
        return cls(
            id=article.id,
            status=article.status if staff else "published",
            language=article.language,
            business_line=article.business_line,
            translation_of=article.translation_of,
            title=content.title,
            body=content.body,
            body_html=render(content.body) if html else None,
            category=content.category,
            tags=list(content.tags),
            product_lines=list(content.product_lines),
            visibility=content.visibility,
            version_number=shown.number,
            current_version=article.current_version if staff else None,
            live_version=article.live_version,
            author=shown.author if staff else None,
            created_by=article.created_by if staff else None,
            approved_by=article.approved_by if staff else None,
            source_ticket_id=article.source_ticket_id if staff else None,
            views=article.tally.views if staff else None,
            helpful_votes=article.tally.helpful_votes,
            unhelpful_votes=article.tally.unhelpful_votes,
            published_at=article.published_at,
            created_at=article.created_at,
            updated_at=article.updated_at,
            available_actions=[AvailableActionOut.of(a) for a in view.available_actions],
        )


class ArticleVersionOut(Output):
    number: int
    title: str
    body: str
    category: str | None
    tags: list[str]
    product_lines: list[str]
    visibility: Visibility
    author: str
    created_at: datetime

    @classmethod
    def of(cls, version: ArticleVersion) -> ArticleVersionOut:
        content = version.content
        return cls(
            number=version.number,
            title=content.title,
            body=content.body,
            category=content.category,
            tags=list(content.tags),
            product_lines=list(content.product_lines),
            visibility=content.visibility,
            author=version.author,
            created_at=version.created_at,
        )
