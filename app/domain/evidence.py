"""证据要求: after-sales reasons that need photos before a review may approve them (a damaged parcel, a quality
fault), and the photos an order has.

An order's requirement is fixed when it is created, from the rules then in force, so that a request is judged by the
rules it was made under; its photos are counted on the order as they are linked and as the scanner clears them, so
that every read and list of orders knows whether approval is possible without reading the files."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from app.domain.attachments import Purpose, StoredAttachment
from app.domain.file_types import Kind
from app.domain.surveys import Wording

DEFAULT_PHOTOS: Mapping[str, int] = {"damaged": 1, "quality_issue": 1}
"""破损 and 质量问题: at least one photo each, until an admin says otherwise."""
MAX_PHOTOS = 20


def is_photo(file: StoredAttachment) -> bool:
    """What an evidence requirement counts: an image uploaded as evidence."""
    return file.file_type.kind is Kind.IMAGE and file.purpose is Purpose.EVIDENCE


@dataclass(frozen=True, slots=True)
class EvidenceRules:
    """Reason code → the fewest clean photos (images uploaded as evidence) an order of that reason needs."""

    photos: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_PHOTOS))
    version: int = 0

    def required_for(self, reason_code: str) -> int:
        return self.photos.get(reason_code, 0)


@dataclass(frozen=True, slots=True)
class Evidence:
    """The photos an order needs (`required`) and has: cleared by the virus scanner (`clean`) or still waiting for it
    (`pending`). Infected files count in neither: they are never evidence."""

    required: int = 0
    clean: int = 0
    pending: int = 0

    @property
    def complete(self) -> bool:
        return self.clean >= self.required

    def missing(self) -> str | None:
        """Why a review may not approve yet, or None."""
        if self.complete:
            return None
        waiting = f", {self.pending} waiting for the virus scan" if self.pending else ""
        return f"needs {self.required} clean evidence photo(s), has {self.clean}{waiting}"

    def message(self) -> Wording | None:
        """What the customer reads while evidence is missing, in both languages."""
        if self.complete:
            return None
        if self.clean + self.pending >= self.required:
            return Wording(
                "您上传的照片正在安全检查中，完成后即可审核。", "Your photos are being checked; review follows."
            )
        short = self.required - self.clean - self.pending
        return Wording(
            f"请再上传 {short} 张照片作为凭证（补充证据），以便我们审核。",
            f"Please add {short} more photo(s) as evidence so that we can review your request.",
        )

    def as_json(self) -> dict[str, int]:
        return {"required": self.required, "clean": self.clean, "pending": self.pending}

    def linked(self, *, clean: int, pending: int) -> Evidence:
        return replace(self, clean=self.clean + clean, pending=self.pending + pending)
