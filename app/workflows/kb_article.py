"""The knowledge base article workflow: 草稿 → 待审核 → 已发布 → 已归档, with a manager or admin as approver.

Editing is one of its actions, so that the buttons say whether an article may be edited now: a draft or an article
under review takes the edit as its new current version in place of review; a published article's edit is a new
version under review while the published one stays live. An approver never approves a version they wrote."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from app.domain.kb_articles import MAX_BODY, MAX_PRODUCT_LINES, MAX_TAGS, MAX_TITLE, Article, Visibility
from app.domain.principal import CASE_HANDLERS, MANAGERS, Principal
from app.workflows.engine import Label, Move, Payload, State, Transition, Workflow

KEY = r"^[A-Za-z0-9\u4e00-\u9fff][A-Za-z0-9\u4e00-\u9fff._ -]{0,63}$"
"""Categories, tags and product lines: short names in Latin letters, digits or Chinese."""
Name = Annotated[str, StringConstraints(pattern=KEY, max_length=64)]


@dataclass(frozen=True, slots=True)
class ArticleContext:
    """What guards see: the article, the time and who wrote its current version."""

    article: Article
    now: datetime
    current_author: str


class EditPayload(Payload):
    """The fields that change; those left out keep their value in the new version."""

    title: str | None = Field(None, min_length=1, max_length=MAX_TITLE, pattern=r"^[^\x00-\x1f\x7f]*$")
    body: str | None = Field(None, min_length=1, max_length=MAX_BODY, description="Markdown.")
    category: Name | None = None
    tags: list[Name] | None = Field(None, max_length=MAX_TAGS)
    product_lines: list[Name] | None = Field(None, max_length=MAX_PRODUCT_LINES)
    visibility: Visibility | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> EditPayload:
        if not self.model_fields_set - {"remark"}:
            raise ValueError("send at least one field to change")
        return self


class RejectPayload(Payload):
    reason: str = Field(min_length=1, max_length=500, description="What the author should change.")


def not_own_version(ctx: ArticleContext, principal: Principal, _payload: object) -> str | None:
    if principal.subject == ctx.current_author:
        return "you wrote this version: another manager or admin approves it"
    return None


def _state(name: str, zh: str, en: str, *, final: bool = False) -> State:
    return State(name, Label(zh, en), Label(zh, en), final=final)


KB_ARTICLE = Workflow[ArticleContext](
    name="kb_article",
    title=Label("知识库文章", "Knowledge base article"),
    initial="draft",
    state_of=lambda ctx: ctx.article.status,
    is_own_customer=lambda _ctx, _principal: False,
    states=[
        _state("draft", "草稿", "Draft"),
        _state("in_review", "待审核", "In review"),
        _state("published", "已发布", "Published"),
        _state("archived", "已归档", "Archived", final=True),
    ],
    transitions=[
        Transition(
            "edit",
            ("draft", "in_review"),
            None,
            CASE_HANDLERS,
            EditPayload,
            description="Write a new version of the article.",
        ),
        Transition(
            "edit",
            ("published",),
            "in_review",
            CASE_HANDLERS,
            EditPayload,
            description="Write a new version for review; the published one stays live until it is approved.",
        ),
        Transition("submit", ("draft",), "in_review", CASE_HANDLERS, description="提交审核: ask for approval."),
        Transition(
            "approve",
            ("in_review",),
            "published",
            MANAGERS,
            guards=(not_own_version,),
            description="审核通过: publish the current version.",
        ),
        Transition(
            "reject",
            ("in_review",),
            "draft",
            MANAGERS,
            RejectPayload,
            description="退回: back to its author with a reason; a live version stays live.",
        ),
        Transition(
            "archive",
            ("draft", "in_review", "published"),
            "archived",
            MANAGERS,
            description="归档: nobody reads it any more; it leaves search.",
        ),
    ],
)


def _approve(ctx: ArticleContext, principal: Principal, _payload: Payload) -> dict[str, object]:
    return {
        "live_version": ctx.article.current_version,
        "approved_by": principal.subject,
        "published_at": ctx.now,
    }


def _edit(ctx: ArticleContext, _principal: Principal, _payload: Payload) -> dict[str, object]:
    return {"current_version": ctx.article.current_version + 1}


def _unchanged(_ctx: ArticleContext, _principal: Principal, _payload: Payload) -> dict[str, object]:
    return {}


EFFECTS: dict[str, Callable[[ArticleContext, Principal, Payload], dict[str, object]]] = {
    "edit": _edit,
    "submit": _unchanged,
    "approve": _approve,
    "reject": _unchanged,
    "archive": _unchanged,
}


def apply(ctx: ArticleContext, principal: Principal, move: Move) -> Article:
    """The article after `move`: new state, the action's own changes, next version."""
    changes = EFFECTS[move.transition.action](ctx, principal, move.payload)
    return replace(ctx.article, **changes, status=move.dest, version=ctx.article.version + 1, updated_at=ctx.now)
