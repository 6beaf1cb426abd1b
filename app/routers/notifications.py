"""/v1/me/notifications: the caller's inbox (站内消息): assignments, transfers, escalations, replies, reminders."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Path, Query

from app.domain.pagination import PageRequest
from app.schemas.common import problems
from app.schemas.notifications import InboxOut, NotificationOut, ReadAllOut
from app.web.auth import Staff
from app.web.language import Lang
from app.web.pagination import encode_cursor, page_request
from app.web.routes import api_router
from app.web.wiring import Svc

router = api_router(prefix="/v1/me/notifications", tags=["notifications"])


@router.get("", responses=problems(422))
async def my_notifications(
    principal: Staff,
    language: Lang,
    page: Annotated[PageRequest, Depends(page_request)],
    svc: Svc,
    unread: Annotated[bool, Query(description="Only unread notifications.")] = False,
) -> InboxOut:
    """My notifications, unread first and then newest first, titled in my Accept-Language, with how many of all
    of them are unread (the badge count)."""
    inbox = await svc.notifications.inbox(principal, page, unread_only=unread)
    return InboxOut(
        items=[NotificationOut.of(n, language) for n in inbox.page.items],
        next_cursor=encode_cursor(inbox.page.next_key),
        unread_count=inbox.unread_count,
    )


@router.post("/read-all", responses=problems())
async def read_all_notifications(principal: Staff, svc: Svc) -> ReadAllOut:
    """Mark every one of my unread notifications read; answers how many were unread."""
    return ReadAllOut(marked_read=await svc.notifications.mark_all_read(principal))


@router.post("/{id}/read", responses=problems(404, 422))
async def read_notification(
    id: Annotated[UUID, Path(description="The notification's id.")], principal: Staff, language: Lang, svc: Svc
) -> NotificationOut:
    """Mark one of my notifications read. Reading it again answers the same notification with its first
    `read_at`; another person's notification answers 404."""
    return NotificationOut.of(await svc.notifications.mark_read(principal, id), language)
