"""Attachment metadata as action payloads and request bodies take it: the file itself lives in the caller's object
store; we keep where and what it is."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from app.domain.text import refuse_nul, single_line
from app.domain.tickets import Attachment


class AttachmentIn(BaseModel):
    """File metadata; the file itself lives in the caller's object store."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, AfterValidator(single_line)] = Field(min_length=1, max_length=255)
    content_type: str = Field(pattern=r"^[\w.+-]+/[\w.+-]+$", max_length=127)
    size: int = Field(ge=0, le=10 * 1024**3)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    url: str = Field(pattern=r"^https?://\S+$", max_length=2048)

    @field_validator("*")
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        return refuse_nul(value)

    def to_domain(self) -> Attachment:
        return Attachment(self.name, self.content_type, self.size, self.sha256, self.url)
