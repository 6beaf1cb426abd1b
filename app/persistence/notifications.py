"""Notification rows ↔ entities: the inbox, keyset-paged unread first, and inserts that a dedupe key makes happen
once."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.events import OutboxEvent
from app.domain.notifications import Notification, NotificationKind, Subject
from app.domain.pagination import Page, PageRequest
from app.persistence.events import SqlOutboxRepository, outbox_placeholders, outbox_values
from app.persistence.keyset import fetch_page
from app.persistence.lookups import Lookup
from app.persistence.tables import notifications, outbox
from app.persistence.upserts import insert_or_ignore

# (unread DESC, id DESC): unread first, and ids are time-ordered (UUIDv7), so newest first within each.
INBOX_KEY = [notifications.c.unread, notifications.c.id]


def _entity(row: Row[Any]) -> Notification:
    return Notification(
        id=row.id,
        recipient=row.recipient,
        kind=NotificationKind(row.kind),
        subject=Subject(row.subject_type, row.subject_id, row.subject_ref),
        title=row.title,
        created_at=row.created_at,
        data=row.data,
        read_at=row.read_at,
        dedupe_key=row.dedupe_key,
    )


_BY_ID = Lookup(notifications, notifications.c.id, notifications.c.recipient)
_COLUMNS = {
    name: bindparam(f"n_{name}", type_=notifications.c[name].type)
    for name in (
        "id",
        "recipient",
        "kind",
        "subject_type",
        "subject_id",
        "subject_ref",
        "title",
        "data",
        "unread",
        "created_at",
        "read_at",
        "dedupe_key",
    )
}
_CREATED = (
    postgresql.insert(notifications)
    .values(_COLUMNS)
    .on_conflict_do_nothing(index_elements=[notifications.c.dedupe_key])
    .returning(notifications.c.id)
    .cte("created")
)
_EVENT = outbox_placeholders("o_")
_ADD_WITH_EVENT = (
    insert(outbox)
    .from_select(list(_EVENT), select(*_EVENT.values()).select_from(_CREATED))
    .add_cte(_CREATED)
    .returning(outbox.c.id)
)
"""A deduplicated notification inserts nothing, so its event selects no row: written together or not at all."""


def _row(notification: Notification) -> dict[str, Any]:
    subject = notification.subject
    return {
        "id": notification.id,
        "recipient": notification.recipient,
        "kind": notification.kind.value,
        "subject_type": subject.type,
        "subject_id": subject.id,
        "subject_ref": subject.ref,
        "title": notification.title,
        "data": notification.data,
        "unread": 1 if notification.unread else 0,
        "created_at": notification.created_at,
        "read_at": notification.read_at,
        "dedupe_key": notification.dedupe_key,
    }


class SqlNotificationRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, notification: Notification, event: OutboxEvent) -> bool:
        """PostgreSQL: the notification and its event in one statement, the event only when the row was inserted."""
        values = {f"n_{k}": v for k, v in _row(notification).items()}
        if self._conn.dialect.name == "postgresql":
            params = values | outbox_values(event, "o_")
            return (await self._conn.execute(_ADD_WITH_EVENT, params)).first() is not None
        stmt = insert_or_ignore(self._conn, notifications, "dedupe_key").values(_COLUMNS).returning(notifications.c.id)
        if (await self._conn.execute(stmt, values)).first() is None:
            return False
        await SqlOutboxRepository(self._conn).add(event)
        return True

    async def get(self, recipient: str, notification_id: UUID, *, for_update: bool = False) -> Notification | None:
        row = await _BY_ID.row(self._conn, notification_id, recipient, for_update=for_update)
        return _entity(row) if row else None

    async def mark_read(self, notification: Notification, at: datetime) -> Notification:
        stmt = (
            update(notifications)
            .where(notifications.c.id == notification.id, notifications.c.unread == 1)
            .values(unread=0, read_at=at)
            .returning(notifications)
        )
        row = (await self._conn.execute(stmt)).first()
        if row is not None:
            return _entity(row)
        current = await self.get(notification.recipient, notification.id)
        return current or notification

    async def mark_all_read(self, recipient: str, at: datetime) -> int:
        stmt = (
            update(notifications)
            .where(notifications.c.recipient == recipient, notifications.c.unread == 1)
            .values(unread=0, read_at=at)
        )
        return (await self._conn.execute(stmt)).rowcount

    async def inbox(self, recipient: str, page: PageRequest, *, unread_only: bool) -> Page[Notification]:
        stmt = select(notifications).where(notifications.c.recipient == recipient)
        if unread_only:
            stmt = stmt.where(notifications.c.unread == 1)
        rows, next_key = await fetch_page(self._conn, stmt, INBOX_KEY, page)
        return Page([_entity(row) for row in rows], next_key)

    async def unread_count(self, recipient: str) -> int:
        stmt = select(func.count()).where(notifications.c.recipient == recipient, notifications.c.unread == 1)
        return (await self._conn.execute(stmt)).scalar_one()
