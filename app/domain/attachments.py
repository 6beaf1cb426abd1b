"""证据附件: files customers and staff upload as evidence (故障图片/视频, photos of damaged goods) or as documents
(发票, 检测报告), stored once by content, scanned before anyone may read them, and read only through short-lived
signed links.

An attachment belongs to a customer (the one who uploaded it, or the one a member of staff uploaded it for) and is
linked to a record (ticket, task report, after-sales order) later; until then only its uploader's side reaches it."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from app.domain.errors import Conflict, Forbidden, InvalidInput
from app.domain.file_types import FieldAt, FileType, Kind
from app.domain.principal import Principal


class Purpose(StrEnum):
    """What a file is for, which decides the kinds of file it may be."""

    EVIDENCE = "evidence"  # 证据: photos, videos or PDFs of a fault, a defect or damaged goods
    DOCUMENT = "document"  # 凭证: invoices, receipts, inspection reports, as a PDF or a photo of the paper


PURPOSE_KINDS: dict[Purpose, frozenset[Kind]] = {
    Purpose.EVIDENCE: frozenset(Kind),
    Purpose.DOCUMENT: frozenset({Kind.IMAGE, Kind.DOCUMENT}),
}


class ScanStatus(StrEnum):
    """Every new file is `pending` until the scanner has looked at it; only a `clean` one is ever served."""

    PENDING = "pending"
    CLEAN = "clean"
    INFECTED = "infected"


@dataclass(frozen=True, slots=True)
class UploadLimits:
    """The largest file of each kind, in bytes."""

    image: int
    video: int
    document: int

    def of(self, kind: Kind) -> int:
        return {Kind.IMAGE: self.image, Kind.VIDEO: self.video, Kind.DOCUMENT: self.document}[kind]

    @property
    def largest(self) -> int:
        return max(self.image, self.video, self.document)


@dataclass(frozen=True, slots=True)
class StoredAttachment:
    """One upload: the bytes' digest and what the service found them to be, who sent them and for whom."""

    id: UUID
    sha256: str
    size: int
    file_name: str
    file_type: FileType
    purpose: Purpose
    scan_status: ScanStatus
    uploaded_by: str
    uploaded_by_customer: bool
    customer_no: str | None
    created_at: datetime
    scan_detail: str | None = None
    scan_attempts: int = 0
    scan_after: datetime | None = None
    scanned_at: datetime | None = None
    attached_at: datetime | None = None
    legal_hold: bool = False
    deleted_at: datetime | None = None

    def visible_to(self, principal: Principal) -> bool:
        """Staff and integrations reach every upload; a customer only what they uploaded themselves (files staff
        uploaded for them reach them through the public records they are linked to)."""
        if not principal.is_customer:
            return True
        return self.uploaded_by_customer and self.customer_no == principal.customer_no

    def servable(self) -> None:
        """Refuses (409) a file the scanner has not cleared: pending files wait, infected ones are never served."""
        if self.scan_status is ScanStatus.CLEAN:
            return
        if self.scan_status is ScanStatus.INFECTED:
            raise Conflict(
                "The file was found infected by the virus scanner and is never served",
                code="attachment_infected",
                extra={"scan_status": self.scan_status.value},
            )
        raise Conflict(
            "The file has not been scanned yet; ask for a link again shortly",
            code="attachment_pending_scan",
            extra={"scan_status": self.scan_status.value},
        )


@dataclass(frozen=True, slots=True)
class ScanVerdict:
    """What a scanner found: `infected` with the signature's name, or clean."""

    infected: bool
    detail: str


def scanned(attachment: StoredAttachment, verdict: ScanVerdict, now: datetime) -> StoredAttachment:
    status = ScanStatus.INFECTED if verdict.infected else ScanStatus.CLEAN
    return replace(attachment, scan_status=status, scan_detail=verdict.detail, scan_after=None, scanned_at=now)


def retry_scan(attachment: StoredAttachment, reason: str, now: datetime, delays: tuple[int, ...]) -> StoredAttachment:
    """A scan that could not be done (scanner down, timed out): the file stays pending and is tried again after the
    attempt's delay, the last delay repeating."""
    attempts = attachment.scan_attempts + 1
    delay = delays[min(attempts, len(delays)) - 1]
    return replace(attachment, scan_attempts=attempts, scan_detail=reason, scan_after=now + timedelta(seconds=delay))


def owner_of(principal: Principal, customer_no: str | None, at: FieldAt) -> str | None:
    """The customer an upload belongs to: a customer's own, whatever else is asked; staff and integrations name the
    customer they upload for, or none."""
    if not principal.is_customer:
        return customer_no
    if customer_no is not None and customer_no != principal.customer_no:
        raise Forbidden(
            "A customer uploads files for themselves only",
            code="forbidden",
            errors=[at.error("omit it or name your own customer number")],
        )
    return principal.customer_no


def check_purpose(purpose: Purpose, file_type: FileType, at: FieldAt) -> None:
    if file_type.kind not in PURPOSE_KINDS[purpose]:
        kinds = ", ".join(sorted(k.value for k in PURPOSE_KINDS[purpose]))
        raise InvalidInput(
            f"A {purpose.value} is one of: {kinds}; this file is a {file_type.kind.value}",
            code="purpose_not_allowed",
            errors=[at.error(f"a {file_type.kind.value} cannot be a {purpose.value}")],
        )


# Signed download links: the service's own HMAC over the attachment id and the link's expiry, for the backend whose
# bytes the service serves itself. The key is derived, never used as given, so a link signature can never stand for
# anything else signed with the same secret.


def link_key(secret: bytes) -> bytes:
    return hmac.new(secret, b"aftersales attachment download links v1", hashlib.sha256).digest()


def link_signature(key: bytes, attachment_id: UUID, expires: int) -> str:
    mac = hmac.new(key, f"{attachment_id}.{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def link_holds(key: bytes, attachment_id: UUID, expires: int, signature: str) -> bool:
    """Compared in constant time, so that a forger learns nothing from how long a wrong signature took."""
    return hmac.compare_digest(link_signature(key, attachment_id, expires).encode(), signature.encode())


class AttachmentRepository(Protocol):
    async def add(self, attachment: StoredAttachment) -> None: ...
    async def get(self, attachment_id: UUID) -> StoredAttachment | None:
        """A live (not deleted) attachment."""
        ...

    async def remove(self, attachment_id: UUID) -> None: ...
    async def lock_digest(self, sha256: str) -> None:
        """Hold the digest's lock to the end of the transaction: an upload that keeps a blob and a refusal that
        deletes it queue behind each other (two uploads of the same bytes share one blob)."""
        ...

    async def uses_digest(self, sha256: str) -> bool:
        """Whether a live attachment still names the blob (a deleted one's bytes are gone, or go with it)."""
        ...

    async def claim_scans(self, now: datetime, limit: int, lease: timedelta) -> list[StoredAttachment]:
        """Pending files due for a scan, each put off by `lease` so that no other worker takes it meanwhile; rows
        another transaction holds are skipped."""
        ...

    async def save_scan(self, attachment: StoredAttachment) -> bool:
        """Store the scan's outcome (status, detail, attempts, next try) if the file is still pending; False when
        it was decided meanwhile."""
        ...
