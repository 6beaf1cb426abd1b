"""The inbox (站内消息): `notify` writes notifications inside a caller's transaction; `NotificationService` lets
staff read their own."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from app.domain.clock import Clock, rfc3339
from app.domain.errors import NotFound
from app.domain.events import OutboxEvent
from app.domain.ids import new_id
from app.domain.notifications import TITLE_LANGUAGES, Notification, NotificationKind, Subject
from app.domain.pagination import Page, PageRequest
from app.domain.principal import Principal
from app.domain.unit_of_work import UnitOfWork, UnitOfWorkFactory

NOTIFICATION_CREATED = "notification.created"
DEDUPE_KEY_MAX = 200  # the column's length


async def notify(
    uow: UnitOfWork,
    *,
    recipients: Iterable[str | None],
    kind: NotificationKind,
    subject: Subject,
    title: dict[str, str],
    now: datetime,
    actor: str | None = None,
    data: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> int:
    """Notify each distinct recipient but `actor` (nobody is told of their own action), in `uow`'s transaction;
    returns how many notifications were created.

    Each one is also written as the outbox event `notification.created` (aggregate `notification`) so that SMS/IM
    gateways can deliver it. `recipients` may hold None (an unassigned ticket's assignee, say): it is skipped.
    `title` needs the text in each of TITLE_LANGUAGES (`zh-CN`, `en`); `data` is free JSON for the client.
    `dedupe_key` makes a notification happen at most once: with one recipient named it is the key as given, with
    several each recipient's key is `f"{dedupe_key}:{recipient}"`. A deduplicated notification is not created,
    not counted, and gets no outbox event."""
    missing = [language for language in TITLE_LANGUAGES if not title.get(language)]
    if missing:
        raise ValueError(f"notification title lacks {', '.join(missing)}")
    named = list(dict.fromkeys(r for r in recipients if r))
    created = 0
    for recipient in named:
        if recipient == actor:
            continue
        key = None
        if dedupe_key is not None:
            key = _fit(f"{dedupe_key}:{recipient}" if len(named) > 1 else dedupe_key)
        notification = Notification(
            id=new_id(),
            recipient=recipient,
            kind=kind,
            subject=subject,
            title=dict(title),
            created_at=now,
            data=dict(data or {}),
            dedupe_key=key,
        )
        event = OutboxEvent(new_id(), NOTIFICATION_CREATED, "notification", notification.id, now, _event(notification))
        if await uow.notifications.add(notification, event):
            created += 1
    return created


def _fit(key: str) -> str:
    """Keys longer than the column are replaced by their digest: still one key per notification."""
    return key if len(key) <= DEDUPE_KEY_MAX else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _event(notification: Notification) -> dict[str, Any]:
    subject = notification.subject
    return {
        "notification_id": str(notification.id),
        "recipient": notification.recipient,
        "kind": notification.kind.value,
        "subject": {"type": subject.type, "id": str(subject.id), "ref": subject.ref},
        "title": notification.title,
        "data": notification.data,
        "created_at": rfc3339(notification.created_at),
    }


@dataclass(frozen=True, slots=True)
class Inbox:
    """One page of the caller's notifications and how many of all of them are unread."""

    page: Page[Notification]
    unread_count: int


def notification_not_found(notification_id: UUID) -> NotFound:
    return NotFound(f"No notification '{notification_id}'", code="notification_not_found")


class NotificationService:
    """Staff read only their own inbox: someone else's notification answers 404, as if it did not exist."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def inbox(self, principal: Principal, page: PageRequest, *, unread_only: bool) -> Inbox:
        """Unread first, then newest first."""
        async with self._uow.read() as uow:
            found = await uow.notifications.inbox(principal.subject, page, unread_only=unread_only)
            unread = await uow.notifications.unread_count(principal.subject)
        return Inbox(found, unread)

    async def mark_read(self, principal: Principal, notification_id: UUID) -> Notification:
        """Idempotent: reading a read notification answers it unchanged (its first `read_at`)."""
        async with self._uow.write() as uow:
            notification = await uow.notifications.get(principal.subject, notification_id, for_update=True)
            if notification is None:
                raise notification_not_found(notification_id)
            if not notification.unread:
                return notification
            notification = await uow.notifications.mark_read(notification, self._clock.now())
            await uow.commit()
        return notification

    async def mark_all_read(self, principal: Principal) -> int:
        """How many were unread until now."""
        async with self._uow.write() as uow:
            count = await uow.notifications.mark_all_read(principal.subject, self._clock.now())
            await uow.commit()
        return count
