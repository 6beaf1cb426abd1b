"""Keyset pagination: a page asks for the rows after a sort key, never for an offset."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


@dataclass(frozen=True, slots=True)
class PageRequest:
    """`after` is the sort key of the last row of the previous page, or None for the first page."""

    limit: int = DEFAULT_LIMIT
    after: tuple[Any, ...] | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_key: tuple[Any, ...] | None
