"""Attachment links: the files a record has, whether a customer reaches a file through a record of theirs, the
evidence counts a scan moves, and the retention job's queues."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, exists, false, func, insert, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.attachment_links import AttachmentLink, SubjectType
from app.domain.attachments import StoredAttachment
from app.domain.ids import new_id
from app.persistence.attachments import attachment_entity
from app.persistence.tables import after_sales_orders, attachment_links, attachments, tasks, tickets

_a, _l = attachments.c, attachment_links.c
_TICKET, _TASK, _ORDER = (literal(t.value) for t in SubjectType)


def _of_customer(customer_no: str) -> object:
    """A link whose record (a ticket, an after-sales order) is this customer's; tasks are staff-only records."""
    ticket = select(tickets.c.id).where(tickets.c.id == _l.subject_id, tickets.c.customer_no == customer_no)
    order = select(after_sales_orders.c.id).where(
        after_sales_orders.c.id == _l.subject_id, after_sales_orders.c.customer_no == customer_no
    )
    return or_(
        and_(_l.subject_type == _TICKET, exists(ticket)),
        and_(_l.subject_type == _ORDER, exists(order)),
    )


def _finished_before(when: datetime) -> object:
    """The link's record finished before `when` (a task's record is its ticket)."""
    ticket = select(tickets.c.id).where(tickets.c.id == _l.subject_id, tickets.c.finished_at < when)
    task = (
        select(tasks.c.id)
        .join(tickets, tickets.c.id == tasks.c.ticket_id)
        .where(tasks.c.id == _l.subject_id, tickets.c.finished_at < when)
    )
    order = select(after_sales_orders.c.id).where(
        after_sales_orders.c.id == _l.subject_id, after_sales_orders.c.finished_at < when
    )
    return or_(
        and_(_l.subject_type == _TICKET, exists(ticket)),
        and_(_l.subject_type == _TASK, exists(task)),
        and_(_l.subject_type == _ORDER, exists(order)),
    )


def _orders_of(attachment_id: UUID) -> Any:
    return select(_l.subject_id).where(_l.attachment_id == attachment_id, _l.subject_type == _ORDER)


class SqlAttachmentLinkRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def usable(self, attachment_ids: Collection[UUID]) -> dict[UUID, StoredAttachment]:
        stmt = (
            select(attachments)
            .where(_a.id.in_(list(attachment_ids)), _a.deleted_at.is_(None))
            .order_by(_a.id)  # locks taken in one order, whatever order the ids came in
            .with_for_update()
        )
        return {row.id: attachment_entity(row) for row in await self._conn.execute(stmt)}

    async def add(self, links: Sequence[AttachmentLink]) -> None:
        await self._conn.execute(
            insert(attachment_links),
            [
                {
                    "id": new_id(),
                    "attachment_id": link.attachment_id,
                    "subject_type": link.subject_type.value,
                    "subject_id": link.subject_id,
                    "timeline_entry_id": link.timeline_entry_id,
                    "public": link.public,
                    "linked_by": link.linked_by,
                    "linked_at": link.linked_at,
                }
                for link in links
            ],
        )
        await self._conn.execute(
            update(attachments)
            .where(_a.id.in_([link.attachment_id for link in links]), _a.attached_at.is_(None))
            .values(attached_at=links[0].linked_at)
        )

    async def count(self, subject_type: SubjectType, subject_id: UUID) -> int:
        stmt = select(func.count()).where(_l.subject_type == subject_type.value, _l.subject_id == subject_id)
        return int((await self._conn.execute(stmt)).scalar_one())

    async def already_linked(
        self, subject_type: SubjectType, subject_id: UUID, attachment_ids: Collection[UUID]
    ) -> set[UUID]:
        stmt = select(_l.attachment_id).where(
            _l.subject_type == subject_type.value,
            _l.subject_id == subject_id,
            _l.attachment_id.in_(list(attachment_ids)),
        )
        return set((await self._conn.execute(stmt)).scalars())

    async def public_to(self, attachment_id: UUID, customer_no: str) -> bool:
        stmt = select(exists().where(_l.attachment_id == attachment_id, _l.public.is_(True), _of_customer(customer_no)))
        return bool((await self._conn.execute(stmt)).scalar_one())

    async def lock_evidence_orders(self, attachment_id: UUID) -> None:
        o = after_sales_orders.c
        await self._conn.execute(
            select(o.id).where(o.id.in_(_orders_of(attachment_id))).order_by(o.id).with_for_update()
        )

    async def evidence_scanned(self, attachment_id: UUID, *, clean: bool) -> None:
        orders = _orders_of(attachment_id)
        o = after_sales_orders.c
        await self._conn.execute(
            update(after_sales_orders)
            .where(o.id.in_(orders))
            .values(evidence_pending=o.evidence_pending - 1, evidence_clean=o.evidence_clean + int(clean))
        )

    async def claim_unattached(self, before: datetime, limit: int) -> list[StoredAttachment]:
        stmt = (
            select(attachments)
            .where(_a.attached_at.is_(None), _a.deleted_at.is_(None), _a.legal_hold == false(), _a.created_at < before)
            .order_by(_a.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [attachment_entity(row) for row in await self._conn.execute(stmt)]

    async def claim_retained(self, finished_before: datetime, limit: int) -> list[StoredAttachment]:
        """Files first attached before the bound (a file attached later cannot be on records all finished before it,
        but by a late comment: it waits until a later pass) whose every link's record finished before it."""
        unfinished = select(_l.id).where(_l.attachment_id == _a.id, ~_finished_before(finished_before))
        stmt = (
            select(attachments)
            .where(
                _a.attached_at < finished_before,
                _a.deleted_at.is_(None),
                _a.legal_hold == false(),
                ~exists(unfinished),
            )
            .order_by(_a.attached_at)
            .limit(limit)
            .with_for_update(of=attachments, skip_locked=True)
        )
        return [attachment_entity(row) for row in await self._conn.execute(stmt)]

    async def mark_deleted(self, attachment_ids: Collection[UUID], at: datetime) -> None:
        """Deleted, and off the scan queue (a file still pending has no bytes left to scan)."""
        stmt = update(attachments).where(_a.id.in_(list(attachment_ids)))
        await self._conn.execute(stmt.values(deleted_at=at, scan_after=None))

    async def set_legal_hold(self, attachment_id: UUID, hold: bool) -> StoredAttachment | None:
        await self._conn.execute(
            update(attachments).where(_a.id == attachment_id, _a.deleted_at.is_(None)).values(legal_hold=hold)
        )
        row = (
            await self._conn.execute(select(attachments).where(_a.id == attachment_id, _a.deleted_at.is_(None)))
        ).first()
        return attachment_entity(row) if row else None
