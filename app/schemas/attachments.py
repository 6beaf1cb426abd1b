"""Attachment metadata: the file itself lives in the caller's object store; we keep where and what it is."""

from __future__ import annotations

from app.schemas.common import Output
from app.workflows.attachments import AttachmentIn

__all__ = ["AttachmentIn", "AttachmentOut"]


class AttachmentOut(Output):
    name: str
    content_type: str
    size: int
    sha256: str
    url: str
