"""Direct uploads (大文件直传) use cases: a presigned upload straight to the object store for a file the caller
describes (name, size, SHA-256), and its confirmation, which adopts the staged object and judges it as a streamed
upload is judged. Only a store that takes direct uploads (S3) offers them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.attachments import Purpose, StoredAttachment
from app.domain.clock import Clock
from app.domain.direct_uploads import UploadGrant, read_grant, sign_grant
from app.domain.errors import Conflict, InvalidInput, NotFound
from app.domain.file_types import HEAD_BYTES, FieldAt
from app.domain.principal import Principal
from app.integrations.storage import BlobMissing, BlobStore, BlobTooLarge, SignedUpload
from app.services.attachments import AttachmentService, Tail, UploadFields

DIRECT_FIELDS = UploadFields(
    file_name=FieldAt("/file_name", "body"),
    declared_type=FieldAt("/file_name", "body"),
    content=FieldAt("/size", "body"),
    purpose=FieldAt("/purpose", "body"),
    customer_no=FieldAt("/customer_no", "body"),
)
CONFIRMED = FieldAt("/token", "body")


@dataclass(frozen=True, slots=True)
class DirectUploadForm:
    file_name: str
    size: int
    sha256: str
    purpose: Purpose
    customer_no: str | None


@dataclass(frozen=True, slots=True)
class DirectUpload:
    """Where to send the file (the form fields with it), and the token that confirms it afterwards."""

    upload: SignedUpload
    token: str
    expires_at: datetime


class DirectUploadService:
    def __init__(
        self, clock: Clock, store: BlobStore, attachments: AttachmentService, grant_key: bytes, ttl: timedelta
    ) -> None:
        self._clock = clock
        self._store = store
        self._attachments = attachments
        self._key = grant_key
        self._ttl = ttl

    async def start(self, principal: Principal, form: DirectUploadForm) -> DirectUpload:
        """A presigned upload bound to the file's exact size and SHA-256, after the checks a streamed upload gets
        before its bytes (name, type, purpose, owner, limit)."""
        plan = await self._attachments.plan(principal, form.file_name, form.purpose, form.customer_no, DIRECT_FIELDS)
        if form.size > plan.limit:
            raise plan.too_large(DIRECT_FIELDS.content)
        if form.size == 0:
            raise InvalidInput(
                "The file is empty", code="empty_file", errors=[DIRECT_FIELDS.content.error("the file has no bytes")]
            )
        ttl = int(self._ttl.total_seconds())
        signed = await self._store.presign_upload(
            min_size=form.size, max_size=form.size, sha256=form.sha256, expires_in=ttl
        )
        if signed is None:
            raise Conflict(
                "This service's attachment store takes files through POST /v1/attachments only",
                code="direct_upload_unavailable",
            )
        expires = int(signed.expires_at.timestamp())
        grant = UploadGrant(
            signed.key, form.file_name, form.size, form.sha256, form.purpose, plan.owner, principal.subject, expires
        )
        return DirectUpload(signed, sign_grant(self._key, grant), signed.expires_at)

    async def confirm(self, principal: Principal, token: str) -> StoredAttachment:
        """The staged file as an attachment, `pending` its scan, once its size and SHA-256 are those it was granted
        for and its bytes pass the checks. A token works once: adopting the file drops its staging key."""
        grant = read_grant(self._key, token, principal.subject, self._clock.now())
        plan = await self._attachments.plan(principal, grant.file_name, grant.purpose, grant.customer_no, DIRECT_FIELDS)
        try:
            blob = await self._store.adopt_upload(grant.key, limit=min(plan.limit, grant.size), head_bytes=HEAD_BYTES)
        except BlobMissing:
            raise NotFound(
                "Nothing was uploaded for this token, or it was confirmed already", code="direct_upload_not_found"
            ) from None
        except BlobTooLarge:
            raise plan.too_large(CONFIRMED) from None

        async def judged() -> bytes:
            if (blob.sha256, blob.size) != (grant.sha256, grant.size):
                raise InvalidInput(
                    "The uploaded file is not the one the upload was granted for (size or SHA-256 differ)",
                    code="direct_upload_mismatch",
                    errors=[CONFIRMED.error("upload the file whose size and sha256 you declared")],
                )
            tail = Tail()  # the store hands back the first bytes only: the last come from reading the file once
            async for _ in tail.follow(self._store.read(blob.sha256)):
                pass
            return tail.bytes

        return await self._attachments.keep(principal, plan, blob, judged, CONFIRMED)
