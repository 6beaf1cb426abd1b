"""Which records a stored file is on: one link per time it was attached (a ticket's intake, a public reply, an
internal note, a task report, an after-sales order or one of its actions), and whether the record's customer may
read it there.

A customer reaches a file through a public link on a record of theirs; internal notes and staff-only records (task
reports) link privately. Links also decide retention: a file no link names is an abandoned upload."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from app.domain.attachments import StoredAttachment


class SubjectType(StrEnum):
    TICKET = "ticket"
    TASK = "task"
    AFTER_SALES = "after_sales"


@dataclass(frozen=True, slots=True)
class AttachmentLink:
    attachment_id: UUID
    subject_type: SubjectType
    subject_id: UUID
    timeline_entry_id: UUID | None  # the comment or action that attached it; None: the record itself (intake)
    public: bool
    linked_by: str
    linked_at: datetime


class AttachmentLinkRepository(Protocol):
    async def usable(self, attachment_ids: Collection[UUID]) -> dict[UUID, StoredAttachment]:
        """The live attachments among `attachment_ids`, locked to the end of the transaction so that a scan finishing
        or the retention job meanwhile waits for the link (and its evidence count) to be written first."""
        ...

    async def add(self, links: Sequence[AttachmentLink]) -> None:
        """Store the links and mark each file attached (its first link's time)."""
        ...

    async def count(self, subject_type: SubjectType, subject_id: UUID) -> int: ...
    async def already_linked(
        self, subject_type: SubjectType, subject_id: UUID, attachment_ids: Collection[UUID]
    ) -> set[UUID]: ...
    async def public_to(self, attachment_id: UUID, customer_no: str) -> bool:
        """Whether the file is linked publicly to a ticket or an after-sales order of this customer."""
        ...

    async def lock_evidence_orders(self, attachment_id: UUID) -> None:
        """Lock the after-sales orders the file is linked to, as their actions lock them before the files they link."""
        ...

    async def evidence_scanned(self, attachment_id: UUID, *, clean: bool) -> None:
        """A linked evidence photo's scan finished: the orders it is on count it clean (or no longer pending)."""
        ...

    async def claim_unattached(self, before: datetime, limit: int) -> list[StoredAttachment]:
        """Live uploads never linked and not held, created before `before`, locked (rows another worker holds are
        skipped)."""
        ...

    async def claim_retained(self, finished_before: datetime, limit: int) -> list[StoredAttachment]:
        """Live files not under legal hold whose every record finished before `finished_before`, locked likewise."""
        ...

    async def mark_deleted(self, attachment_ids: Collection[UUID], at: datetime) -> None: ...
    async def set_legal_hold(self, attachment_id: UUID, hold: bool) -> StoredAttachment | None: ...
