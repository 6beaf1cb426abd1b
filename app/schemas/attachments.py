"""Attachment metadata: the file itself lives in the caller's object store; we keep where and what it is."""

from __future__ import annotations

from pydantic import Field

from app.domain.tickets import Attachment
from app.schemas.common import Input, Line, Output


class AttachmentIn(Input):
    """File metadata; the file itself lives in the caller's object store."""

    name: Line = Field(min_length=1, max_length=255)
    content_type: str = Field(pattern=r"^[\w.+-]+/[\w.+-]+$", max_length=127)
    size: int = Field(ge=0, le=10 * 1024**3)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    url: str = Field(pattern=r"^https?://\S+$", max_length=2048)

    def to_domain(self) -> Attachment:
        return Attachment(self.name, self.content_type, self.size, self.sha256, self.url)


class AttachmentOut(Output):
    name: str
    content_type: str
    size: int
    sha256: str
    url: str
