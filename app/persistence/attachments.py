"""Attachment rows ↔ StoredAttachment entities; the digest lock, the blob-reference check and the scan queue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Row, bindparam, delete, func, insert, literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.attachments import Purpose, ScanStatus, StoredAttachment
from app.domain.file_types import ALLOWED, FileType, Kind
from app.persistence.tables import attachments

_FIELDS = (
    "id",
    "sha256",
    "size",
    "file_name",
    "uploaded_by",
    "uploaded_by_customer",
    "customer_no",
    "created_at",
    "scan_detail",
    "scan_attempts",
    "scan_after",
    "scanned_at",
    "attached_at",
    "legal_hold",
    "deleted_at",
)
_LIVE = select(attachments).where(attachments.c.id == bindparam("attachment_id"), attachments.c.deleted_at.is_(None))
_USES = (
    select(attachments.c.id)
    .where(attachments.c.sha256 == bindparam("sha256"), attachments.c.deleted_at.is_(None))
    .limit(1)
)
_DUE_SCANS = (
    select(attachments)
    .where(
        # A literal, so that the planner matches the partial index ix_attachments_pending_scan_after.
        attachments.c.scan_status == literal_column(f"'{ScanStatus.PENDING.value}'"),
        attachments.c.scan_after <= bindparam("now"),
    )
    .order_by(attachments.c.scan_after)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
_SAVE_SCAN = update(attachments).where(
    attachments.c.id == bindparam("attachment_id"),
    attachments.c.scan_status == literal_column(f"'{ScanStatus.PENDING.value}'"),
)


def _file_type(row: Row[Any]) -> FileType:
    """The allow-list's entry when the row still matches it (whether it is shown inline follows the list as it is
    now); otherwise the type as stored, never inline."""
    allowed = ALLOWED.get(row.extension)
    if allowed is not None and allowed.content_type == row.content_type:
        return allowed
    return FileType(row.extension, row.content_type, Kind(row.kind))


def attachment_entity(row: Row[Any]) -> StoredAttachment:
    """The entity of an `attachments` row (also as other repositories read them)."""
    return StoredAttachment(
        **{name: getattr(row, name) for name in _FIELDS},
        file_type=_file_type(row),
        purpose=Purpose(row.purpose),
        scan_status=ScanStatus(row.scan_status),
    )


def _lock_key(sha256: str) -> int:
    """A digest's advisory lock number: its first 8 bytes as a signed 64-bit integer."""
    return int.from_bytes(bytes.fromhex(sha256[:16]), "big", signed=True)


class SqlAttachmentRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, attachment: StoredAttachment) -> None:
        await self._conn.execute(
            insert(attachments).values(
                **{name: getattr(attachment, name) for name in _FIELDS},
                extension=attachment.file_type.extension,
                content_type=attachment.file_type.content_type,
                kind=attachment.file_type.kind.value,
                purpose=attachment.purpose.value,
                scan_status=attachment.scan_status.value,
            )
        )

    async def get(self, attachment_id: UUID) -> StoredAttachment | None:
        row = (await self._conn.execute(_LIVE, {"attachment_id": attachment_id})).first()
        return attachment_entity(row) if row else None

    async def remove(self, attachment_id: UUID) -> None:
        await self._conn.execute(delete(attachments).where(attachments.c.id == attachment_id))

    async def lock_digest(self, sha256: str) -> None:
        # SQLite runs one write transaction at a time (BEGIN IMMEDIATE): it holds every lock already.
        if self._conn.dialect.name == "postgresql":
            await self._conn.execute(select(func.pg_advisory_xact_lock(_lock_key(sha256))))

    async def live_digests(self) -> AsyncIterator[str]:
        """Every digest a live attachment names, in ascending order, streamed (for `aftersales attachments verify`)."""
        stmt = select(attachments.c.sha256).where(attachments.c.deleted_at.is_(None)).distinct()
        async for (sha256,) in await self._conn.stream(stmt.order_by(attachments.c.sha256)):
            yield sha256

    async def uses_digest(self, sha256: str) -> bool:
        return (await self._conn.execute(_USES, {"sha256": sha256})).first() is not None

    async def claim_scans(self, now: datetime, limit: int, lease: timedelta) -> list[StoredAttachment]:
        rows = (await self._conn.execute(_DUE_SCANS, {"now": now, "limit": limit})).all()
        if rows:
            await self._conn.execute(
                update(attachments).where(attachments.c.id.in_([row.id for row in rows])).values(scan_after=now + lease)
            )
        return [attachment_entity(row) for row in rows]

    async def save_scan(self, attachment: StoredAttachment) -> bool:
        result = await self._conn.execute(
            _SAVE_SCAN,
            {
                "attachment_id": attachment.id,
                "scan_status": attachment.scan_status.value,
                "scan_detail": attachment.scan_detail,
                "scan_attempts": attachment.scan_attempts,
                "scan_after": attachment.scan_after,
                "scanned_at": attachment.scanned_at,
            },
        )
        return result.rowcount == 1
