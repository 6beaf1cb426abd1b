"""Attachments on records: sent by id (`AttachmentRef`), answered as the snapshot the record keeps. A stored file's
bytes come only through `POST /v1/attachments/{id}/link`; a legacy reference from before files were stored shows its
external URL to staff (the service never serves it)."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from app.domain.principal import Principal
from app.domain.tickets import Attachment
from app.schemas.common import Output
from app.workflows.attachments import AttachmentRef, AttachmentRefs, ids_of

__all__ = ["AttachmentOut", "AttachmentRef", "AttachmentRefs", "ids_of"]


class AttachmentOut(Output):
    """A file on a record, as it was when attached."""

    id: UUID | None = Field(
        description="The stored attachment: its scan status at `GET /v1/attachments/{id}`, a download link from "
        "`POST /v1/attachments/{id}/link`. Null: a legacy reference from before files were stored."
    )
    name: str
    content_type: str
    size: int = Field(description="Bytes.")
    sha256: str = Field(description="Lowercase hex SHA-256 of the bytes.")
    external_url: str | None = Field(
        description="Legacy references only, for staff: where the caller kept the file (never served by us); null "
        "for stored files and in the customer's view."
    )

    @classmethod
    def of(cls, attachment: Attachment, principal: Principal) -> AttachmentOut:
        return cls(
            id=attachment.id,
            name=attachment.name,
            content_type=attachment.content_type,
            size=attachment.size,
            sha256=attachment.sha256,
            external_url=None if principal.is_customer else attachment.external_url,
        )
