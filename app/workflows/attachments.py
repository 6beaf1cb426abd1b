"""Attachments as request bodies and action payloads send them: by the id `POST /v1/attachments` answered, never as
metadata the caller makes up. What each id is (whose, which kind, scanned or not) the service looks up when it links
the file to the record."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import Field

from app.domain.attachments import Purpose
from app.workflows.inputs import StrictInput

MAX_PER_REQUEST = 20
"""Files one request may attach; a record holds at most AFTERSALES_ATTACHMENTS_PER_RECORD over its life."""
ANY_PURPOSE = frozenset(Purpose)


class AttachmentRef(StrictInput):
    """A stored attachment, by the id its upload answered."""

    id: UUID = Field(description="The attachment's id from `POST /v1/attachments`.")


AttachmentRefs = Annotated[
    list[AttachmentRef],
    Field(
        default_factory=list,
        max_length=MAX_PER_REQUEST,
        description=f"Uploaded files by id (at most {MAX_PER_REQUEST}); each must be yours, not deleted or infected.",
    ),
]


def ids_of(refs: list[AttachmentRef]) -> tuple[UUID, ...]:
    return tuple(ref.id for ref in refs)
