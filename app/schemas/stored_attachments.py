"""Stored attachment contract (证据附件): what an upload answers, its metadata read, the signed download link, and
the upload's request body as the OpenAPI document describes it (the route streams it itself, never as a model)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field, StrictInt

from app.domain.attachments import Purpose, ScanStatus, StoredAttachment
from app.domain.file_types import ALLOWED, Kind
from app.schemas.common import KEY_PATTERN, CustomerNo, Input, Output
from app.services.direct_uploads import DirectUpload, DirectUploadForm

ALLOWED_FILES = ", ".join(f".{t.extension} ({t.content_type})" for t in ALLOWED.values())


class StoredAttachmentOut(Output):
    """A stored file and what the service found it to be; its bytes only through `POST …/link`."""

    id: UUID
    file_name: str = Field(description="As uploaded (Unicode kept), at most 255 characters.")
    extension: str
    content_type: str = Field(description="The type sniffed from the bytes, which agrees with the extension.")
    kind: Kind
    purpose: Purpose
    size: int = Field(description="Bytes.")
    sha256: str = Field(description="Lowercase hex SHA-256 of the bytes.")
    scan_status: ScanStatus = Field(description="`pending` until scanned; only `clean` files are served.")
    scan_detail: str | None = Field(description="The scanner's word: the signature found, or why a scan failed.")
    customer_no: str | None = Field(description="The customer the file belongs to (null: uploaded by staff for none).")
    uploaded_by: str = Field(description="Subject of the caller who uploaded it.")
    created_at: datetime
    attached_at: datetime | None = Field(description="When it was first linked to a record (null: not yet).")
    legal_hold: bool = Field(description="法律保全: kept from every retention deletion until an admin clears it.")

    @classmethod
    def of(cls, attachment: StoredAttachment) -> StoredAttachmentOut:
        return cls(
            id=attachment.id,
            file_name=attachment.file_name,
            extension=attachment.file_type.extension,
            content_type=attachment.file_type.content_type,
            kind=attachment.file_type.kind,
            purpose=attachment.purpose,
            size=attachment.size,
            sha256=attachment.sha256,
            scan_status=attachment.scan_status,
            scan_detail=attachment.scan_detail,
            customer_no=attachment.customer_no,
            uploaded_by=attachment.uploaded_by,
            created_at=attachment.created_at,
            attached_at=attachment.attached_at,
            legal_hold=attachment.legal_hold,
        )


class AttachmentLinkOut(BaseModel):
    """A download link for whoever holds it, until `expires_at`; it needs no credentials."""

    url: str = Field(description="GET it: the service's signed content URL, or the object store's presigned one.")
    expires_at: datetime


class AttachmentUploadForm(BaseModel):
    """`multipart/form-data`: the text fields first, then the one `file` part (a field after the file is refused)."""

    purpose: Purpose = Field(Purpose.EVIDENCE, description="evidence: image, video or PDF; document: image or PDF.")
    customer_no: str | None = Field(
        None,
        pattern=KEY_PATTERN,
        description="Staff and integrations: the customer the file is for. A customer uploads for themselves.",
    )
    file: bytes = Field(
        json_schema_extra={"format": "binary"},
        description=f"The file, its name in the part's filename. Allowed: {ALLOWED_FILES}.",
    )


def upload_request_body() -> dict[str, Any]:
    """The upload's two forms for the OpenAPI document: the multipart form, or the raw file as the body."""
    return {
        "requestBody": {
            "required": True,
            "description": "The file as a multipart form (`file` part, fields before it), or the raw file as the "
            "body with its own Content-Type (or application/octet-stream) and its name in `filename`.",
            "content": {
                "multipart/form-data": {"schema": {"$ref": "#/components/schemas/AttachmentUploadForm"}},
                # The raw body may as well carry the file's own type (image/jpeg…); SDK generators know this one.
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    }


class DirectUploadIn(Input):
    """A large file to send straight to the object store: its name, exact size and SHA-256 are bound into the
    presigned upload, and checked again when it is confirmed."""

    file_name: str = Field(min_length=1, max_length=1000, description="Judged as an upload's name is.")
    size: StrictInt = Field(ge=0, le=10 * 1024**3, description="Bytes, exactly.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Lowercase hex SHA-256 of the bytes.")
    purpose: Purpose = Purpose.EVIDENCE
    customer_no: CustomerNo | None = Field(None, description="Staff and integrations: the customer it is for.")

    def to_domain(self) -> DirectUploadForm:
        return DirectUploadForm(self.file_name, self.size, self.sha256, self.purpose, self.customer_no)


class DirectUploadOut(BaseModel):
    """POST `fields` and then the file (as the last form field, named `file`) to `url` before `expires_at`; then
    confirm with `token`."""

    url: str
    fields: dict[str, str] = Field(description="Form fields to send, in this order, before the file.")
    expires_at: datetime
    token: str = Field(description="Confirms the upload (`POST /v1/attachments/direct-uploads/confirm`); once.")

    @classmethod
    def of(cls, direct: DirectUpload) -> DirectUploadOut:
        return cls(url=direct.upload.url, fields=direct.upload.fields, expires_at=direct.expires_at, token=direct.token)


class DirectUploadConfirmIn(Input):
    token: str = Field(min_length=1, max_length=4096, description="The `token` of the direct upload.")
