"""SLA clock logs and timers: events appended, never changed (a clock is derived from them), and one timer row per
subject holding when the timer scan must next look at it. Statements are built once, at import."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, bindparam, case, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.contracts import SlaLevel
from app.domain.ids import new_id
from app.domain.sla_clock import ClockEvent
from app.domain.sla_policies import Subject, Target, WarningRule
from app.domain.unit_of_work import CustomerFacts, DueTimer
from app.persistence.tables import customers, service_contracts, sla_clock_events, sla_timers, tickets


def _target(target: Target | None) -> dict[str, Any] | None:
    if target is None:
        return None
    return {"seconds": target.seconds, "business": target.business, "calendar": target.calendar}


def _warning(warning: WarningRule | None) -> dict[str, Any] | None:
    return None if warning is None else {"share": warning.share, "minutes": warning.minutes}


def _event(row: Row[Any]) -> ClockEvent:
    return ClockEvent(
        kind=row.kind,
        at=row.at,
        metric=row.metric,
        target=None if row.target is None else Target(**row.target),
        warning=None if row.warning is None else WarningRule(**row.warning),
        policy_key=row.policy_key,
    )


def _upsert(dialect: Any) -> Any:
    """INSERT … ON CONFLICT (subject_id) DO UPDATE: PostgreSQL and SQLite spell it the same way."""
    statement = dialect.insert(sla_timers)
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[sla_timers.c.subject_id],
        set_={"due_at": excluded.due_at, "updated_at": excluded.updated_at},
    )


_APPEND = insert(sla_clock_events)
_LOG = (
    select(sla_clock_events)
    .where(sla_clock_events.c.subject_id == bindparam("subject_id"))
    .order_by(sla_clock_events.c.id)
)
_LOGS = (
    select(sla_clock_events)
    .where(sla_clock_events.c.subject_id.in_(bindparam("subject_ids", expanding=True)))
    .order_by(sla_clock_events.c.subject_id, sla_clock_events.c.id)
)
_SET_DUE = {"postgresql": _upsert(postgresql), "sqlite": _upsert(sqlite)}
_DUE_TICKETS = (
    select(sla_timers.c.subject_id, sla_timers.c.due_at)
    .join(tickets, tickets.c.id == sla_timers.c.subject_id)
    .where(sla_timers.c.subject_type == Subject.TICKET.value, sla_timers.c.due_at <= bindparam("now"))
    .order_by(sla_timers.c.due_at)
    .limit(bindparam("limit"))
    .with_for_update(of=[sla_timers, tickets], skip_locked=True)
)
"""The timer and its ticket locked together, skipping either when another transaction holds it: a ticket action
locks the ticket and then the timer (its upsert), so a scan that waited on the ticket while holding the timer could
deadlock with it; skipped, the timer is simply still due at the next pass."""

_RANK = case(
    *((service_contracts.c.sla_level == level.value, rank) for rank, level in enumerate(reversed(SlaLevel))),
    else_=len(SlaLevel),
)
_CUSTOMER_FACTS = select(
    select(customers.c.level)
    .where(customers.c.customer_no == bindparam("customer_no"))
    .scalar_subquery()
    .label("level"),
    select(service_contracts.c.sla_level)
    .where(
        service_contracts.c.customer_no == bindparam("customer_no"),
        service_contracts.c.starts_on <= bindparam("on"),
        service_contracts.c.ends_on >= bindparam("on"),
    )
    .order_by(_RANK)
    .limit(1)
    .scalar_subquery()
    .label("contract_sla_level"),
)
"""The customer's level and the best SLA level of the contracts in force, in one statement."""


class SqlSlaClockRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def append(self, subject: Subject, subject_id: UUID, events: Sequence[ClockEvent]) -> None:
        """One statement for any number of events, ids in the events' order (the log's order)."""
        if not events:
            return
        rows = [
            {
                "id": new_id(),
                "subject_type": subject.value,
                "subject_id": subject_id,
                "metric": e.metric,
                "kind": e.kind.value,
                "at": e.at,
                "target": _target(e.target),
                "warning": _warning(e.warning),
                "policy_key": e.policy_key,
            }
            for e in events
        ]
        await self._conn.execute(_APPEND, rows[0] if len(rows) == 1 else rows)

    async def log(self, subject_id: UUID) -> list[ClockEvent]:
        rows = await self._conn.execute(_LOG, {"subject_id": subject_id})
        return [_event(row) for row in rows]

    async def logs(self, subject_ids: Collection[UUID]) -> dict[UUID, list[ClockEvent]]:
        """The logs of a page of subjects in one query; a subject without events is absent."""
        found: dict[UUID, list[ClockEvent]] = {}
        if not subject_ids:
            return found
        for row in await self._conn.execute(_LOGS, {"subject_ids": list(subject_ids)}):
            found.setdefault(row.subject_id, []).append(_event(row))
        return found

    async def set_due(self, subject: Subject, subject_id: UUID, due_at: datetime | None, now: datetime) -> None:
        params = {"subject_id": subject_id, "subject_type": subject.value, "due_at": due_at, "updated_at": now}
        await self._conn.execute(_SET_DUE[self._conn.dialect.name], params)

    async def customer_facts(self, customer_no: str, on: date) -> CustomerFacts:
        row = (await self._conn.execute(_CUSTOMER_FACTS, {"customer_no": customer_no, "on": on})).one()
        return CustomerFacts(row.level, row.contract_sla_level)

    async def due(self, now: datetime, limit: int) -> list[DueTimer]:
        """Ticket timers due at `now`, oldest first, each locked with its ticket; on PostgreSQL rows another scanner
        (or a ticket action) holds are skipped, so any number of scanners can run at once. Served by the due_at
        index. SQLite has no row locks: its writers are serialised already."""
        rows = await self._conn.execute(_DUE_TICKETS, {"now": now, "limit": limit})
        return [DueTimer(Subject.TICKET, row.subject_id, row.due_at) for row in rows]
