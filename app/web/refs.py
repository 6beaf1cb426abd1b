"""Path references: a resource's UUID, or its human number (T-…, AS-…, TK-…), parsed once for every router."""

from __future__ import annotations

from uuid import UUID


def uuid_or_number(text: str) -> UUID | str:
    """A UUID, else the text as given: a number, or anything else, which matches nothing (404, after
    authentication)."""
    try:
        return UUID(text)
    except ValueError:
        return text
