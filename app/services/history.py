"""Recording one change: the timeline entry people read and the outbox event systems receive, written together
in the caller's transaction (nothing is sent from here)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from app.domain.events import OutboxEvent, TimelineEntry
from app.domain.ids import new_id
from app.domain.unit_of_work import UnitOfWork


async def record(
    uow: UnitOfWork,
    *,
    aggregate: str,
    subject_id: UUID,
    actor: str,
    now: datetime,
    kind: str,
    action: str,
    event: dict[str, Any],
    from_status: str | None = None,
    to_status: str | None = None,
    remark: str | None = None,
    payload: dict[str, Any] | None = None,
    public: bool = True,
) -> TimelineEntry:
    """`event` is the outbox payload; its type is `<aggregate>.created`, `.commented` or `.<action>`."""
    entry = TimelineEntry(
        new_id(), subject_id, now, actor, kind, action, from_status, to_status, remark, payload or {}, public
    )
    await uow.timeline.add(entry)
    suffix = "created" if kind == "created" else "commented" if kind == "comment" else action
    await uow.outbox.add(OutboxEvent(new_id(), f"{aggregate}.{suffix}", aggregate, subject_id, now, event))
    return entry
