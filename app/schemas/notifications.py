"""Inbox contract: a member of staff's notifications, titled in the caller's language."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from app.domain.notifications import Notification, NotificationKind


class SubjectOut(BaseModel):
    type: str = Field(
        description="ticket, task, approval, after_sales, customer or complaint_spike.", examples=["ticket"]
    )
    id: UUID
    ref: str = Field(
        description="The subject's human number (a customer's customer_no, a complaint spike's product).",
        examples=["T-2026-000123"],
    )


class NotificationOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "01936d2e-7c4a-7c1e-9a51-3f0e4b2d8a10",
                    "kind": "assignment",
                    "subject": {"type": "ticket", "id": "01936d2e-6b10-7f3a-8c2d-1a9e5f4b3c21", "ref": "T-2026-000123"},
                    "title": "工单 T-2026-000123 已派给您",
                    "data": {"action": "assign", "actor": "manager-liu", "status": "assigned"},
                    "unread": True,
                    "created_at": "2026-03-02T08:15:00Z",
                    "read_at": None,
                }
            ]
        }
    )

    id: UUID
    kind: NotificationKind
    subject: SubjectOut
    title: str = Field(description="In the caller's Accept-Language (zh-CN by default, or en).")
    data: dict[str, Any] = Field(description="Details for the client, by kind (e.g. the action and who took it).")
    unread: bool
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def of(cls, notification: Notification, language: str) -> NotificationOut:
        title = notification.title
        text = title.get("en" if language == "en" else "zh-CN") or next(iter(title.values()), "")
        subject = notification.subject
        return cls(
            id=notification.id,
            kind=notification.kind,
            subject=SubjectOut(type=subject.type, id=subject.id, ref=subject.ref),
            title=text,
            data=notification.data,
            unread=notification.unread,
            created_at=notification.created_at,
            read_at=notification.read_at,
        )


class InboxOut(BaseModel):
    """A page of my notifications, unread first then newest first, with how many of all of them are unread."""

    items: list[NotificationOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")
    unread_count: int = Field(ge=0, description="Unread notifications in the whole inbox, not only this page.")


class ReadAllOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"marked_read": 3}]})

    marked_read: int = Field(ge=0, description="How many were unread until this call (0 the second time).")
