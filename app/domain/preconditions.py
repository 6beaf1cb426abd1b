"""Optimistic concurrency: a caller names the version it last saw; a stale one is refused (HTTP 412/428)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.domain.errors import BadRequest, FieldError, PreconditionFailed, PreconditionRequired

_ENTITY_TAG = re.compile(r'(W/)?"([\x21\x23-\x7e\x80-\xff]*)"')
"""RFC 9110 §8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE."""


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


def entity_tags(header: str, name: str) -> frozenset[int] | str:
    """`*`, or the versions a list of entity tags names. Weak tags (`W/"3"`) and tags that are not ours are valid but
    never match (If-Match compares strongly); anything that is not an entity tag list is refused (400), because
    treating `If-Match: 1` as "no version matches" would answer 412 "changed" when nothing changed."""
    if header.strip() == "*":
        return "*"
    versions: set[int] = set()
    for item in header.split(","):
        match = _ENTITY_TAG.fullmatch(item.strip(" \t"))
        if match is None:
            raise BadRequest(
                f'The {name} header is not `*` or a comma-separated list of quoted entity tags such as "3"',
                code="malformed_precondition",
                errors=[FieldError(name, 'send `*` or quoted ETags as read, e.g. "3"', location="header")],
            )
        weak, opaque = match.groups()
        if weak is None and opaque.isdigit():
            versions.add(int(opaque))
    return frozenset(versions)
