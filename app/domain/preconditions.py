"""Optimistic concurrency: a caller names the version it last saw; a stale one is refused (HTTP 412/428)."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.errors import PreconditionFailed, PreconditionRequired


@dataclass(frozen=True, slots=True)
class Precondition:
    """`if_match`: the versions the caller accepts, `None` for no condition, or `"*"` for any existing one.
    `create_only`: the caller said `If-None-Match: *`. `required`: changes must name a version."""

    if_match: frozenset[int] | str | None = None
    create_only: bool = False
    required: bool = False

    def check(self, current_version: int | None) -> None:
        """Raise when the resource's current version (None: it does not exist) breaks the condition."""
        if self.create_only and current_version is not None:
            raise PreconditionFailed("The resource already exists (If-None-Match: *)", code="already_exists")
        if self.if_match is None:
            if self.required and current_version is not None:
                raise PreconditionRequired(
                    "Send If-Match with the ETag you last read to change this resource", code="if_match_required"
                )
            return
        if current_version is None:
            raise PreconditionFailed("The resource does not exist, so If-Match cannot match", code="etag_mismatch")
        if self.if_match != "*" and current_version not in self.if_match:
            raise PreconditionFailed(
                "The resource changed since you read it; fetch it again and retry with its new ETag",
                code="etag_mismatch",
                extra={"current_etag": f'"{current_version}"'},
            )


NO_PRECONDITION = Precondition()
