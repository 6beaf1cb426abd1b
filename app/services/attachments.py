"""Attachment use cases (证据附件): a streamed upload judged by its bytes, the scan pass, the metadata read and the
short-lived signed download link.

An upload streams straight into the blob store; what it is (type, polyglot, empty) is known only once its bytes have
passed, so a refused upload deletes its blob again, unless another attachment names the same bytes (the store keeps
one blob per content)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from app.domain.attachments import (
    Purpose,
    ScanStatus,
    StoredAttachment,
    UploadLimits,
    check_purpose,
    link_holds,
    link_signature,
    owner_of,
    retry_scan,
    scanned,
)
from app.domain.clock import Clock, rfc3339
from app.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, PayloadTooLarge
from app.domain.events import OutboxEvent
from app.domain.evidence import is_photo
from app.domain.file_types import (
    HEAD_BYTES,
    TAIL_BYTES,
    FieldAt,
    FileType,
    check_content,
    check_declared_type,
    check_file_name,
)
from app.domain.ids import new_id
from app.domain.invariants import present
from app.domain.principal import Principal
from app.domain.unit_of_work import UnitOfWorkFactory
from app.integrations.scanners import ScanFailed, Scanner
from app.integrations.storage import BlobMissing, BlobStore, BlobTooLarge, StoredBlob

ATTACHMENT_SCANNED = "attachment.scanned"
EVENT_TYPES = frozenset({ATTACHMENT_SCANNED})
SCAN_BATCH = 8
"""Files one pass scans at once (concurrently: a scan waits on the scanner, not on us)."""
SCAN_RETRY_SECONDS = (30, 120, 600, 1800, 3600)
"""A scan that failed is tried again after these delays, the last repeating: the file stays pending meanwhile."""


@dataclass(frozen=True, slots=True)
class UploadFields:
    file_name: FieldAt
    declared_type: FieldAt
    content: FieldAt
    purpose: FieldAt
    customer_no: FieldAt


@dataclass(frozen=True, slots=True)
class UploadForm:
    """What the request says about the file before its bytes come: its name and declared type, what it is for and
    whose it is, and the most bytes it can have by the declared Content-Length (the body's, less a form's parts)."""

    file_name: str
    declared_type: str | None
    purpose: Purpose
    customer_no: str | None
    fields: UploadFields
    declared_size: int | None = None


class IncomingFile(Protocol):
    """The file's bytes as the request streams them, and the rest of the request after them."""

    def chunks(self) -> AsyncIterator[bytes]: ...
    async def finish(self) -> None:
        """Read what follows the file's bytes; raise when the request turns out malformed."""
        ...


@dataclass(frozen=True, slots=True)
class AttachmentPolicy:
    limits: UploadLimits
    link_key: bytes
    link_ttl: timedelta
    scan_lease: timedelta


@dataclass(frozen=True, slots=True)
class DownloadLink:
    """Either the store's own presigned URL, or the signature of the service's content route."""

    attachment: StoredAttachment
    expires_at: datetime
    store_url: str | None = None
    expires: int | None = None
    signature: str | None = None


@dataclass(frozen=True, slots=True)
class UploadPlan:
    """What the checks before the bytes decided: the file's type, what it is for, whose it is, its most bytes."""

    file_name: str
    file_type: FileType
    purpose: Purpose
    owner: str | None
    limit: int

    def too_large(self, at: FieldAt) -> PayloadTooLarge:
        kind = self.file_type.kind.value
        return PayloadTooLarge(
            f"The file may have at most {self.limit} bytes, the limit for a file of kind {kind}",
            errors=[at.error(f"at most {self.limit} bytes")],
            extra={"limit": self.limit},
        )


class Tail:
    """Keeps the last TAIL_BYTES of a stream as it passes, for the checks that look at a file's end."""

    def __init__(self) -> None:
        self.bytes = b""

    async def follow(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        async for chunk in chunks:
            self.bytes = (self.bytes + chunk[-TAIL_BYTES:])[-TAIL_BYTES:]
            yield chunk


def attachment_not_found() -> NotFound:
    return NotFound("No attachment with this id (or not yours)", code="attachment_not_found")


class AttachmentService:
    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, store: BlobStore, scanner: Scanner, policy: AttachmentPolicy
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._store = store
        self._scanner = scanner
        self._policy = policy

    async def upload(self, principal: Principal, form: UploadForm, incoming: IncomingFile) -> StoredAttachment:
        """Store the file and record it `pending`. Everything the request says is checked before a byte is read;
        the bytes are judged as they pass; a refusal at any point leaves no row and no blob of its own behind."""
        fields = form.fields
        plan = await self.plan(principal, form.file_name, form.purpose, form.customer_no, fields)
        check_declared_type(plan.file_type, form.declared_type, fields.declared_type)
        if form.declared_size is not None and form.declared_size > plan.limit:
            raise plan.too_large(fields.content)
        tail = Tail()
        try:
            blob = await self._store.put(tail.follow(incoming.chunks()), limit=plan.limit, head_bytes=HEAD_BYTES)
        except BlobTooLarge:
            raise plan.too_large(fields.content) from None

        async def judged() -> bytes:
            await incoming.finish()
            return tail.bytes

        return await self.keep(principal, plan, blob, judged, fields.content)

    async def plan(
        self, principal: Principal, file_name: str, purpose: Purpose, customer_no: str | None, fields: UploadFields
    ) -> UploadPlan:
        """What the request says about a file, checked before any of its bytes: its name and type, what it is for,
        whose it is (a customer named by staff must exist), and so the most bytes it may have."""
        file_type = check_file_name(file_name, fields.file_name)
        check_purpose(purpose, file_type, fields.purpose)
        owner = owner_of(principal, customer_no, fields.customer_no)
        if owner is not None and not principal.is_customer:
            await self._known_customer(owner, fields.customer_no)
        return UploadPlan(file_name, file_type, purpose, owner, self._policy.limits.of(file_type.kind))

    async def keep(
        self,
        principal: Principal,
        plan: UploadPlan,
        blob: StoredBlob,
        judged: Callable[[], Awaitable[bytes]],
        at: FieldAt,
    ) -> StoredAttachment:
        """Record a stored blob as a `pending` attachment once its bytes pass the checks: `judged` finishes reading the
        request (refusing what it finds wrong) and answers the file's last bytes. A refusal deletes the blob again,
        unless another attachment names the same bytes."""
        now = self._clock.now()
        attachment = StoredAttachment(
            id=new_id(),
            sha256=blob.sha256,
            size=blob.size,
            file_name=plan.file_name,
            file_type=plan.file_type,
            purpose=plan.purpose,
            scan_status=ScanStatus.PENDING,
            uploaded_by=principal.subject,
            uploaded_by_customer=principal.is_customer,
            customer_no=plan.owner,
            created_at=now,
            scan_after=now,
        )
        try:
            check_content(plan.file_type, blob.head, await judged(), blob.size, at)
            async with self._uow.write() as uow:
                await uow.attachments.lock_digest(blob.sha256)
                await uow.attachments.add(attachment)
                await uow.commit()
        except BaseException:
            await asyncio.shield(self._discard(blob.sha256))  # finishes even when the request is being cancelled
            raise
        if not await self._store.exists(blob.sha256):
            # A refused upload of the same bytes deleted the blob before this row was committed (it held the digest's
            # lock first): the row would name nothing.
            async with self._uow.write() as uow:
                await uow.attachments.remove(attachment.id)
                await uow.commit()
            raise Conflict(
                "An upload of the same file was refused at the same moment; send it again",
                code="concurrent_modification",
            )
        return attachment

    async def _known_customer(self, customer_no: str, at: FieldAt) -> None:
        async with self._uow.read() as uow:
            if await uow.customers.get(customer_no) is None:
                raise InvalidInput(
                    f"No customer '{customer_no}'",
                    code="unknown_reference",
                    errors=[at.error("no customer with this number")],
                    extra={"resource": "customer", "fields": ["customer_no"]},
                )

    async def _discard(self, sha256: str) -> None:
        """Delete a refused upload's blob unless an attachment names it. Under the digest's lock, so that an upload of
        the same bytes either committed its row first (and the blob stays) or finds the blob gone afterwards; the
        store's delete runs inside that transaction for this reason (one request to the store, on a rare path)."""
        async with self._uow.write() as uow:
            await uow.attachments.lock_digest(sha256)
            if not await uow.attachments.uses_digest(sha256):
                await self._store.delete(sha256)
            await uow.commit()

    async def get(self, principal: Principal, attachment_id: UUID) -> StoredAttachment:
        """Staff reach every file; a customer their own uploads, and files linked publicly to a ticket or an
        after-sales order of theirs (never an internal note's, never a task report's). Anything else is 404."""
        async with self._uow.read() as uow:
            attachment = await uow.attachments.get(attachment_id)
            reachable = attachment is not None and (
                attachment.visible_to(principal)
                or await uow.attachment_links.public_to(attachment.id, present(principal.customer_no, "a customer"))
            )
        if attachment is None or not reachable:
            raise attachment_not_found()
        return attachment

    async def link(self, principal: Principal, attachment_id: UUID) -> DownloadLink:
        """A download link that works for the configured time: the store's presigned URL (S3), or the signature of the
        service's own content route (local). Only a clean file gets one."""
        attachment = await self.get(principal, attachment_id)
        attachment.servable()
        ttl = int(self._policy.link_ttl.total_seconds())
        expires = int(self._clock.now().timestamp()) + ttl
        expires_at = datetime.fromtimestamp(expires, tz=self._clock.now().tzinfo)
        store_url = await self._store.download_url(
            attachment.sha256,
            filename=attachment.file_name,
            content_type=attachment.file_type.content_type,
            inline=attachment.file_type.inline,
            expires_in=ttl,
        )
        if store_url is not None:
            return DownloadLink(attachment, expires_at, store_url=store_url)
        signature = link_signature(self._policy.link_key, attachment.id, expires)
        return DownloadLink(attachment, expires_at, expires=expires, signature=signature)

    async def content(
        self, attachment_id: UUID, expires: int, signature: str
    ) -> tuple[StoredAttachment, AsyncIterator[bytes]]:
        """The file behind a signed link, for whoever holds it: the signature is checked first (in constant time),
        then the expiry, then the file (a clean one only). The bytes are primed, so that a blob missing from the
        store is an error before the response starts, not a cut-off body."""
        if not link_holds(self._policy.link_key, attachment_id, expires, signature):
            raise Forbidden("The link's signature does not hold: use the link as it was given", code="link_invalid")
        now = self._clock.now()
        if now.timestamp() >= expires:
            raise Forbidden(
                f"The link expired at {rfc3339(datetime.fromtimestamp(expires, tz=now.tzinfo))}; ask for a new one",
                code="link_expired",
            )
        async with self._uow.read() as uow:
            attachment = await uow.attachments.get(attachment_id)
        if attachment is None:
            raise attachment_not_found()
        attachment.servable()
        try:
            return attachment, await _primed(self._store.read(attachment.sha256))
        except BlobMissing:
            raise attachment_not_found() from None

    async def scan(self) -> int:
        """The periodic job: pending files due for a scan are claimed (each put off by the lease, so that another
        worker does not take it meanwhile), scanned outside any transaction, and their verdicts recorded with an
        `attachment.scanned` event. A scan that fails leaves its file pending, to be tried again later."""
        now = self._clock.now()
        async with self._uow.write() as uow:
            claimed = await uow.attachments.claim_scans(now, SCAN_BATCH, self._policy.scan_lease)
            await uow.commit()
        await asyncio.gather(*(self._scan(attachment) for attachment in claimed))
        return len(claimed)

    async def _scan(self, attachment: StoredAttachment) -> None:
        try:
            verdict = await self._scanner.scan(self._store.read(attachment.sha256))
        except (ScanFailed, BlobMissing, OSError) as exc:
            after = retry_scan(attachment, f"scan failed: {exc}", self._clock.now(), SCAN_RETRY_SECONDS)
        else:
            after = scanned(attachment, verdict, self._clock.now())
        now = after.scanned_at
        async with self._uow.write() as uow:
            if is_photo(after):  # the orders it is evidence on first, in the order their actions lock: order, then file
                await uow.attachment_links.lock_evidence_orders(after.id)
            if await uow.attachments.save_scan(after) and now is not None:
                await uow.outbox.add(
                    OutboxEvent(new_id(), ATTACHMENT_SCANNED, "attachment", after.id, now, _scanned_event(after))
                )
                if is_photo(after):  # the after-sales orders it is evidence for count it as scanned
                    await uow.attachment_links.evidence_scanned(after.id, clean=after.scan_status is ScanStatus.CLEAN)
            await uow.commit()


async def _primed(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """`chunks` with its first chunk already read (the store's errors raise here)."""
    first = await anext(chunks, b"")

    async def replay() -> AsyncIterator[bytes]:
        if first:
            yield first
        async for chunk in chunks:
            yield chunk

    return replay()


def _scanned_event(attachment: StoredAttachment) -> dict[str, object]:
    return {
        "attachment_id": str(attachment.id),
        "scan_status": attachment.scan_status.value,
        "scan_detail": attachment.scan_detail,
        "customer_no": attachment.customer_no,
        "file_name": attachment.file_name,
        "sha256": attachment.sha256,
    }
