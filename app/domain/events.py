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


@dataclass(frozen=True, slots=True)
class OutboxCursor:
    """How far a job that follows the outbox (survey invitations, churn scoring) has read it: events after (`at`,
    `id`) are still to be read; no id stands after every event of its instant. `version` guards its saves."""

    at: datetime
    id: UUID | None = None
    version: int = 0


class ReadEvent(Protocol):
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def id(self) -> UUID: ...


def cursor_after(cursor: OutboxCursor, read: Sequence[ReadEvent], batch: int, until: datetime) -> OutboxCursor:
    """Where the next pass starts once `read` (in cursor order, at most `batch`) is done: after its last event when
    the batch was full (more may wait at that very instant), else at `until` (everything up to it was read), never
    back; with the version its save checks."""
    if len(read) == batch:
        return OutboxCursor(read[-1].occurred_at, read[-1].id, cursor.version)
    return OutboxCursor(max(until, cursor.at), None, cursor.version)


class TimelineRepository(Protocol):
    async def add(self, entry: TimelineEntry, events: Sequence[OutboxEvent] = ()) -> None:
        """The entry and the outbox events of the same change, in one statement where the database can."""
        ...

    async def list(self, subject_id: UUID, page: PageRequest, *, public_only: bool) -> Page[TimelineEntry]: ...


class OutboxRepository(Protocol):
    async def add(self, *events: OutboxEvent) -> None: ...


def line_event_type(aggregate: str, kind: str, action: str | None) -> str:
    """The type of the outbox event written with a timeline line: `<aggregate>.created`, `.commented` or
    `.<action>`. Consumers that read a subject's timeline (the report rollups) find an event's own line by it."""
    suffix = "created" if kind == "created" else "commented" if kind == "comment" else action
    return f"{aggregate}.{suffix}"
