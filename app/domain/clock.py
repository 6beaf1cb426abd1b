"""Time source, injectable so tests and benchmarks control it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


def rfc3339(at: datetime) -> str:
    """The one written form of a time in JSON we build ourselves (payloads, events): RFC 3339 in UTC with `Z`, as
    the response models write it."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Timezone-aware UTC now."""

    def now(self) -> datetime:
        return datetime.now(UTC)
