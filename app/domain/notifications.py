"""The in-app inbox (站内消息): what a member of staff must look at, each also an outbox event for SMS/IM gateways."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

from app.domain.events import OutboxEvent
from app.domain.pagination import Page, PageRequest


class NotificationKind(StrEnum):
    ASSIGNMENT = "assignment"
    TRANSFER = "transfer"
    TASK_DUE_SOON = "task_due_soon"
    TASK_OVERDUE = "task_overdue"
    APPROVAL_NEEDED = "approval_needed"
    APPROVAL_DECIDED = "approval_decided"
    ESCALATION = "escalation"
    SLA_WARNING = "sla_warning"  # a clock reached its warning point (即将超时)
    SLA_BREACHED = "sla_breached"  # a clock missed its deadline (已超时)
    IDLE_REMINDER = "idle_reminder"  # a ticket went without an update for its policy's time (长时间未更新)
    CUSTOMER_REPLY = "customer_reply"
    CHURN_WARNING = "churn_warning"  # a customer's churn score crossed the warning threshold (流失预警)
    RISK_FLAGGED = "risk_flagged"  # a ticket was flagged high-risk (高风险客诉): managers step in at once
    COMPLAINT_SPIKE = "complaint_spike"  # a product's tickets of one type surged in a region (客诉激增)
    DISPATCH_WAITING = "dispatch_waiting"  # nobody could take a ticket now: it waits in the dispatch backlog (待派)


TITLE_LANGUAGES = ("zh-CN", "en")
"""Every notification title is written in each of these (the inbox shows the caller's Accept-Language)."""


@dataclass(frozen=True, slots=True)
class Subject:
    """What a notification is about: `type` is ticket, task, approval, after_sales, customer or complaint_spike; `ref`
    its human number (a customer's: its customer_no; a complaint spike's: its product)."""

    type: str
    id: UUID
    ref: str


@dataclass(frozen=True, slots=True)
class Notification:
    """`title` holds the text in each language (`zh-CN`, `en`); `dedupe_key` makes a reminder happen once."""

    id: UUID
    recipient: str
    kind: NotificationKind
    subject: Subject
    title: dict[str, str]
    created_at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    read_at: datetime | None = None
    dedupe_key: str | None = None

    @property
    def unread(self) -> bool:
        return self.read_at is None


class NotificationRepository(Protocol):
    async def add(self, notification: Notification, event: OutboxEvent) -> bool:
        """The notification and its outbox `event`; False (and nothing written) when a notification with the same
        `dedupe_key` exists."""
        ...

    async def get(self, recipient: str, notification_id: UUID, *, for_update: bool = False) -> Notification | None:
        """The recipient's notification; None when there is none or it is someone else's."""
        ...

    async def mark_read(self, notification: Notification, at: datetime) -> Notification:
        """Read at `at`; one already read keeps its `read_at`."""
        ...

    async def mark_all_read(self, recipient: str, at: datetime) -> int:
        """How many of the recipient's unread notifications were marked read."""
        ...

    async def inbox(self, recipient: str, page: PageRequest, *, unread_only: bool) -> Page[Notification]:
        """Unread first, then newest first."""
        ...

    async def unread_count(self, recipient: str) -> int: ...
