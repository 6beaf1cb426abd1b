"""Versioned upserts shared by the reference-data services: a change bumps the version, a no-op does not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

E = TypeVar("E")


class VersionedRepository(Protocol[E]):
    async def add(self, entity: E, /) -> None: ...
    async def update(self, entity: E, /) -> None: ...


@dataclass(frozen=True, slots=True)
class Saved(Generic[E]):
    """The stored entity, whether this call created it (201) rather than replaced it (200), and whether it
    changed anything at all: an identical re-upsert answers 200 with `changed` false and announces nothing."""

    entity: E
    created: bool
    changed: bool


async def save_revision(
    repository: VersionedRepository[E], existing: E | None, data: Any, now: datetime, create: Callable[[], E]
) -> Saved[E]:
    """Insert `create()` when nothing exists; otherwise store the next version, unless `data` changes nothing."""
    if existing is None:
        entity = create()
        await repository.add(entity)
        return Saved(entity, created=True, changed=True)
    if existing.data == data:  # type: ignore[attr-defined]
        return Saved(existing, created=False, changed=False)
    revised = replace(existing, data=data, version=existing.version + 1, updated_at=now)  # type: ignore[type-var,attr-defined]
    await repository.update(revised)
    return Saved(revised, created=False, changed=True)
