"""Attaching stored files to records, inside the record's own transaction: every id checked first (it exists, the
caller may use it, it belongs to the record's customer or to nobody, it is not infected, it was uploaded for a purpose
the place takes, the record stays within its limit), then linked with the record's write, so that a bad id leaves
nothing half-written. The record keeps a snapshot of each file; the link says where it is and who may read it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from app.domain.attachment_links import AttachmentLink, SubjectType
from app.domain.attachments import Purpose, ScanStatus, StoredAttachment
from app.domain.errors import Conflict, FieldError, InvalidInput, NotFound
from app.domain.evidence import is_photo
from app.domain.principal import Principal
from app.domain.tickets import Attachment
from app.domain.unit_of_work import UnitOfWork
from app.workflows.attachments import ANY_PURPOSE


@dataclass(frozen=True, slots=True)
class Attaching:
    """The files one request attaches, where its body sends them (`pointer`), and the purposes the place takes."""

    ids: tuple[UUID, ...]
    pointer: str = "/attachments"
    purposes: frozenset[Purpose] = ANY_PURPOSE


@dataclass(frozen=True, slots=True)
class Attached:
    """Checked files, in the order they were sent."""

    files: tuple[StoredAttachment, ...] = ()

    def snapshots(self) -> tuple[Attachment, ...]:
        return tuple(snapshot(file) for file in self.files)

    def as_json(self) -> list[dict[str, object]]:
        return [s.as_json() for s in self.snapshots()]

    def photos(self, without: Iterable[UUID] = ()) -> tuple[int, int]:
        """(clean, pending) evidence photos among the files, leaving out those the record already counts."""
        counted = set(without)
        photos = [f for f in self.files if f.id not in counted and is_photo(f)]
        clean = sum(1 for f in photos if f.scan_status is ScanStatus.CLEAN)
        return clean, sum(1 for f in photos if f.scan_status is ScanStatus.PENDING)


def snapshot(file: StoredAttachment) -> Attachment:
    return Attachment(file.id, file.file_name, file.file_type.content_type, file.size, file.sha256)


def _not_found(pointer: str) -> NotFound:
    return NotFound(
        "No attachment with this id (or not yours)",
        code="attachment_not_found",
        errors=[FieldError(pointer, "no attachment of yours for this record's customer")],
    )


class AttachmentLinker:
    def __init__(self, per_record: int) -> None:
        self._per_record = per_record

    async def check(
        self,
        uow: UnitOfWork,
        principal: Principal,
        attaching: Attaching,
        *,
        customer_no: str,
        subject: tuple[SubjectType, UUID] | None = None,
    ) -> Attached:
        """The files `attaching` names, checked for a record of `customer_no` (`subject`: an existing record, whose
        files count against its limit; None: a record being created). A customer uses only their own uploads; staff
        use any file of the record's customer or of nobody. Another's file, a deleted one or an unknown id is 404."""
        if not attaching.ids:
            return Attached()
        seen: set[UUID] = set()
        for i, attachment_id in enumerate(attaching.ids):
            if attachment_id in seen:
                raise InvalidInput(
                    "The same attachment is sent twice",
                    code="validation_failed",
                    errors=[FieldError(f"{attaching.pointer}/{i}/id", "already listed")],
                )
            seen.add(attachment_id)
        found = await uow.attachment_links.usable(attaching.ids)
        files = []
        for i, attachment_id in enumerate(attaching.ids):
            pointer = f"{attaching.pointer}/{i}/id"
            file = found.get(attachment_id)
            if file is None or not file.visible_to(principal) or file.customer_no not in (None, customer_no):
                raise _not_found(pointer)
            if file.scan_status is ScanStatus.INFECTED:
                raise Conflict(
                    "The file was found infected by the virus scanner and cannot be attached",
                    code="attachment_infected",
                    errors=[FieldError(pointer, "infected")],
                    extra={"scan_status": file.scan_status.value},
                )
            if file.purpose not in attaching.purposes:
                takes = " or ".join(sorted(p.value for p in attaching.purposes))
                raise InvalidInput(
                    f"This place takes files uploaded as {takes}; this one was uploaded as {file.purpose.value}",
                    code="purpose_not_allowed",
                    errors=[FieldError(pointer, f"uploaded as {file.purpose.value}, not {takes}")],
                )
            files.append(file)
        held = await uow.attachment_links.count(*subject) if subject is not None else 0
        if held + len(files) > self._per_record:
            raise InvalidInput(
                f"A record holds at most {self._per_record} attachments; this one has {held}",
                code="too_many_attachments",
                errors=[FieldError(attaching.pointer, f"at most {self._per_record - held} more")],
            )
        return Attached(tuple(files))

    async def link(
        self,
        uow: UnitOfWork,
        attached: Attached,
        subject: tuple[SubjectType, UUID],
        *,
        public: bool,
        actor: str,
        now: datetime,
        entry_id: UUID | None = None,
    ) -> None:
        """Record where the checked files now are (`entry_id`: the comment or action that attached them)."""
        if not attached.files:
            return
        subject_type, subject_id = subject
        await uow.attachment_links.add(
            [AttachmentLink(file.id, subject_type, subject_id, entry_id, public, actor, now) for file in attached.files]
        )
