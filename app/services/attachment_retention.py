"""Retention of stored files: uploads never attached to a record are deleted after
AFTERSALES_ATTACHMENT_UNATTACHED_HOURS; attached files, when AFTERSALES_ATTACHMENT_RETENTION_DAYS is set, that many
days after every record they are on finished. A file under legal hold (set by an admin) is kept either way.

A deleted file's row stays, marked deleted (records keep its snapshot; its id answers 404 from then on). Its bytes go
with it unless another live attachment names the same digest: the store keeps one blob per content."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from app.domain.attachments import StoredAttachment
from app.domain.clock import Clock
from app.domain.errors import NotFound
from app.domain.unit_of_work import UnitOfWork, UnitOfWorkFactory
from app.integrations.storage import BlobStore

RETENTION_BATCH = 100
"""Files one transaction of the job deletes (each batch's rows stay locked while their blobs are deleted)."""

Claim = Callable[[UnitOfWork], Awaitable[list[StoredAttachment]]]
"""One batch of files due for deletion, locked, from the job's queue."""


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    unattached: timedelta
    retention: timedelta | None  # None: attached files are kept for good


class AttachmentRetention:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, store: BlobStore, policy: RetentionPolicy) -> None:
        self._uow = uow
        self._clock = clock
        self._store = store
        self._policy = policy

    async def run(self) -> int:
        """One pass of the `attachment_retention` job: abandoned uploads first, then expired attached files, in
        batches claimed with SKIP LOCKED (workers running it at once share the work); answers how many went."""
        now = self._clock.now()
        unattached_before = now - self._policy.unattached
        removed = await self._sweep(
            lambda uow: uow.attachment_links.claim_unattached(unattached_before, RETENTION_BATCH)
        )
        retention = self._policy.retention
        if retention is not None:
            finished_before = now - retention
            removed += await self._sweep(
                lambda uow: uow.attachment_links.claim_retained(finished_before, RETENTION_BATCH)
            )
        return removed

    async def _sweep(self, claim: Claim) -> int:
        removed = 0
        while True:
            async with self._uow.write() as uow:
                files = await claim(uow)
                if not files:
                    return removed
                await uow.attachment_links.mark_deleted([file.id for file in files], self._clock.now())
                # Under each digest's lock, as a refused upload deletes its blob: an upload of the same bytes either
                # committed its row first (and the blob stays) or finds the blob gone and is refused. The store's
                # delete runs inside the transaction for this reason.
                for sha256 in sorted({file.sha256 for file in files}):
                    await uow.attachments.lock_digest(sha256)
                    if not await uow.attachments.uses_digest(sha256):
                        await self._store.delete(sha256)
                await uow.commit()
            removed += len(files)

    async def set_legal_hold(self, attachment_id: UUID, hold: bool) -> StoredAttachment:
        """法律保全: a held file is never deleted by retention; clearing the hold lets retention take it again."""
        async with self._uow.write() as uow:
            attachment = await uow.attachment_links.set_legal_hold(attachment_id, hold)
            if attachment is None:
                raise NotFound("No attachment with this id", code="attachment_not_found")
            await uow.commit()
        return attachment
