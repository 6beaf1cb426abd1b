"""Readiness: the database answers and its schema is at the migrations' head."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class SchemaProbe(Protocol):
    async def current_revision(self) -> str | None: ...
    def head_revision(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    database: str
    schema_revision: str | None
    expected_revision: str


class HealthService:
    def __init__(self, probe: SchemaProbe) -> None:
        self._probe = probe

    async def readiness(self) -> Readiness:
        expected = self._probe.head_revision()
        try:
            current = await self._probe.current_revision()
        except Exception:
            return Readiness(False, "unreachable", None, expected)
        return Readiness(current == expected, "ok", current, expected)
