"""What happened: timeline entries (shown to people) and outbox events (sent to systems), written together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from app.domain.pagination import Page, PageRequest


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One line of a ticket's history. `public` entries are what the customer sees, without the payload."""

    id: UUID
    subject_id: UUID
    at: datetime
    actor: str
    kind: str  # created, action, comment, updated
    action: str | None = None
    from_status: str | None = None
    to_status: str | None = None
    remark: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    public: bool = True
    remark_public: bool = True  # False: staff deliberation; the customer sees the entry without its remark


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """A domain event for integrations, written in the same transaction as the change it reports."""

    id: UUID
    type: str  # e.g. ticket.created, ticket.resolved
    aggregate_type: str
    aggregate_id: UUID
    occurred_at: datetime
    payload: dict[str, Any]


class TimelineRepository(Protocol):
    async def add(self, entry: TimelineEntry, events: Sequence[OutboxEvent] = ()) -> None:
        """The entry and the outbox events of the same change, in one statement where the database can."""
        ...

    async def list(self, subject_id: UUID, page: PageRequest, *, public_only: bool) -> Page[TimelineEntry]: ...


class OutboxRepository(Protocol):
    async def add(self, *events: OutboxEvent) -> None: ...
