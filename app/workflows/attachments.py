"""Attachment metadata as action payloads and request bodies take it: the file itself lives in the caller's object
store; we keep where and what it is."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StrictInt

from app.domain.text import single_line
from app.domain.tickets import Attachment
from app.workflows.inputs import StrictInput


class AttachmentIn(StrictInput):
    """File metadata; the file itself lives in the caller's object store."""

    name: Annotated[str, AfterValidator(single_line)] = Field(min_length=1, max_length=255)
    content_type: str = Field(pattern=r"^[\w.+-]+/[\w.+-]+$", max_length=127)
    size: StrictInt = Field(ge=0, le=10 * 1024**3)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    url: str = Field(pattern=r"^https?://\S+$", max_length=2048)

    def to_domain(self) -> Attachment:
        return Attachment(self.name, self.content_type, self.size, self.sha256, self.url)
