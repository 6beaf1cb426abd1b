"""SLA clock logs and timers: events appended, never changed (a clock is derived from them), and one timer row per
subject holding when the timer scan must next look at it. Statements are built once, at import."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import JSON, Column, Label, Row, bindparam, case, delete, func, insert, literal, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.contracts import SlaLevel
from app.domain.ids import new_id
from app.domain.invariants import present
from app.domain.sla_clock import ClockEvent, ClockEventKind
from app.domain.sla_policies import Subject, Target, WarningRule
from app.domain.unit_of_work import CustomerFacts, Due, DueTimer
from app.persistence.tables import (
    after_sales_orders,
    customers,
    service_contracts,
    sla_clock_events,
    sla_timers,
    tickets,
)
from app.persistence.types import UtcDateTime


def _target(target: Target | None) -> dict[str, Any] | None:
    if target is None:
        return None
    return {"seconds": target.seconds, "business": target.business, "calendar": target.calendar}


def _warning(warning: WarningRule | None) -> dict[str, Any] | None:
    return None if warning is None else {"share": warning.share, "minutes": warning.minutes}


def _event(row: Row[Any]) -> ClockEvent:
    return _clock_event(row.kind, row.at, row.metric, row.target, row.warning, row.policy_key)


def _clock_event(
    kind: str,
    at: datetime,
    metric: str,
    target: dict[str, Any] | None,
    warning: dict[str, Any] | None,
    policy_key: str | None,
) -> ClockEvent:
    return ClockEvent(
        kind=ClockEventKind(kind),
        at=at,
        metric=metric,
        target=None if target is None else Target(**target),
        warning=None if warning is None else WarningRule(**warning),
        policy_key=policy_key,
    )


_E = sla_clock_events.c
_AT = UtcDateTime()  # the `at` column's type


def _aggregate_postgresql() -> Any:
    row = func.json_build_array(_E.kind, _E.at, _E.metric, _E.target, _E.warning, _E.policy_key)
    return func.json_agg(postgresql.aggregate_order_by(row, _E.id), type_=JSON)


def _log_of_postgresql(subject_id: Column[Any]) -> Label[Any]:
    return select(_aggregate_postgresql()).where(_E.subject_id == subject_id).scalar_subquery().label("clock_log")


def _ordered_sqlite(where: Any, *leading: Any) -> Any:
    """SQLite aggregates rows in the order its subquery gives them."""
    columns = (_E.kind, _E.at, _E.metric, _E.target, _E.warning, _E.policy_key)
    return select(*leading, *columns).where(where).order_by(*leading, _E.id)


def _aggregate_sqlite(ordered: Any) -> Any:
    o = ordered.c
    row = func.json_array(o.kind, o.at, o.metric, func.json(o.target), func.json(o.warning), o.policy_key)
    return func.json_group_array(row, type_=JSON)


def _log_of_sqlite(subject_id: Column[Any]) -> Label[Any]:
    ordered = _ordered_sqlite(_E.subject_id == subject_id).correlate(subject_id.table).subquery()
    return select(_aggregate_sqlite(ordered)).scalar_subquery().label("clock_log")


def _logs_postgresql() -> Any:
    return (
        select(_E.subject_id, _aggregate_postgresql().label("clock_log"))
        .where(_E.subject_id.in_(bindparam("subject_ids", expanding=True)))
        .group_by(_E.subject_id)
    )


def _logs_sqlite() -> Any:
    ordered = _ordered_sqlite(_E.subject_id.in_(bindparam("subject_ids", expanding=True)), _E.subject_id).subquery()
    return select(ordered.c.subject_id, _aggregate_sqlite(ordered).label("clock_log")).group_by(ordered.c.subject_id)


LOG_OF = {"postgresql": _log_of_postgresql, "sqlite": _log_of_sqlite}
"""`LOG_OF[dialect](subjects.c.id)`: a column that reads each subject's clock log inside the subject's own statement,
as one JSON array of `[kind, at, metric, target, warning, policy_key]` ordered by id (`log_from_json` decodes it).
PostgreSQL orders the aggregate itself; SQLite aggregates an ordered subquery, whose order it keeps."""


def log_from_json(value: list[list[Any]] | None, dialect: Dialect) -> list[ClockEvent]:
    """A `LOG_OF` column as the events `SqlSlaClockRepository.log` answers. `at` comes as text: ISO 8601 with the
    session's offset from PostgreSQL, the stored naive UTC text from SQLite; the column type makes either UTC."""
    return [
        _clock_event(kind, _utc(at, dialect), metric, target, warning, policy_key)
        for kind, at, metric, target, warning, policy_key in value or ()
    ]


def _utc(text_: str, dialect: Dialect) -> datetime:
    return present(_AT.process_result_value(datetime.fromisoformat(text_), dialect), "a clock event's instant")


def _rows(logs: Sequence[tuple[Subject, UUID, Sequence[ClockEvent]]]) -> list[dict[str, Any]]:
    """The stored rows of subjects' events, ids in the events' order (the log's order)."""
    return [
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
        for subject, subject_id, events in logs
        for e in events
    ]


def _upsert(dialect: Any) -> Any:
    """INSERT … ON CONFLICT (subject_id) DO UPDATE: PostgreSQL and SQLite spell it the same way."""
    statement = dialect.insert(sla_timers)
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[sla_timers.c.subject_id],
        set_={"due_at": excluded.due_at, "updated_at": excluded.updated_at},
    )


_APPEND = insert(sla_clock_events)
_EVENT_COLUMNS = ("id", "subject_type", "subject_id", "metric", "kind", "at", "target", "warning", "policy_key")
_INSERT_EVENTS = """INSERT INTO sla_clock_events
        (id, subject_type, subject_id, metric, kind, at, target, warning, policy_key)
        SELECT * FROM unnest(CAST(:e_id AS uuid[]), CAST(:e_subject_type AS varchar[]), CAST(:e_subject_id AS uuid[]),
            CAST(:e_metric AS varchar[]), CAST(:e_kind AS varchar[]), CAST(:e_at AS timestamptz[]),
            CAST(:e_target AS jsonb[]), CAST(:e_warning AS jsonb[]), CAST(:e_policy_key AS varchar[]))"""
_APPEND_ARRAYS = text(_INSERT_EVENTS)
"""Several clock events in one execution (PostgreSQL, one array per column): asyncpg's executemany of the same rows
cost a ticket create about a tenth of its CPU (measured)."""
_RECORD = text(
    "WITH appended AS ("  # noqa: S608 - constant SQL of our own
    + _INSERT_EVENTS
    + """ RETURNING 1)
    INSERT INTO sla_timers (subject_id, subject_type, due_at, updated_at)
    VALUES (:subject_id, :subject_type, :due_at, :updated_at)
    ON CONFLICT (subject_id) DO UPDATE SET due_at = excluded.due_at, updated_at = excluded.updated_at"""
)
"""A change's clock events (one array per column: the same statement for any number of them) and the timer they
move, written together (PostgreSQL)."""
_LOG = (
    select(sla_clock_events)
    .where(sla_clock_events.c.subject_id == bindparam("subject_id"))
    .order_by(sla_clock_events.c.id)
)
_LOGS = {"postgresql": _logs_postgresql(), "sqlite": _logs_sqlite()}
"""A page of subjects' logs, one row per subject with its log as `LOG_OF` gives it: a list page reads a row per
ticket, not one per event (decoding a row per event was a fifth of a list page's CPU, measured)."""
_SET_DUE = {"postgresql": _upsert(postgresql), "sqlite": _upsert(sqlite)}


def _arrays(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Event rows as one array per column, for the unnest statements; jsonb[] elements travel as JSON text."""
    params: dict[str, Any] = {f"e_{name}": [row[name] for row in rows] for name in _EVENT_COLUMNS}
    for name in ("e_target", "e_warning"):
        params[name] = [None if value is None else orjson.dumps(value).decode() for value in params[name]]
    return params


def _of_type(subject: Subject) -> Any:
    """The subject type written into the statement, not sent as a parameter: PostgreSQL's generic plan of a prepared
    statement (from its sixth run) then still knows which part of the index it reads."""
    return sla_timers.c.subject_type == literal(subject.value, literal_execute=True)


_DUE = {
    subject: (
        select(sla_timers.c.subject_id, sla_timers.c.due_at)
        .join(table, table.c.id == sla_timers.c.subject_id)
        .where(_of_type(subject), sla_timers.c.due_at <= bindparam("now"))
        .order_by(sla_timers.c.subject_type, sla_timers.c.due_at)
        .limit(bindparam("limit"))
        .with_for_update(of=[sla_timers, table], skip_locked=True)
    )
    for subject, table in ((Subject.TICKET, tickets), (Subject.AFTER_SALES, after_sales_orders))
}
"""Per subject type, the timer and its subject locked together, skipping either when another transaction holds it:
an action locks the ticket (or order) and then the timer (its upsert), so a scan that waited on the subject while
holding the timer could deadlock with it; skipped, the timer is simply still due at the next pass."""
_DUE_SUBJECTS = select(
    *(
        select(sla_timers.c.due_at)
        .where(_of_type(subject), sla_timers.c.due_at <= bindparam("now"))
        .order_by(sla_timers.c.subject_type, sla_timers.c.due_at)
        .limit(1)
        .scalar_subquery()
        .label(subject.value)
        for subject in Subject
    )
)
"""Each subject type's earliest due timer, if any, through the (subject_type, due_at) index: one statement that
reads at most one timer per subject type, and none when the scan is idle. Written as an ordered LIMIT 1 rather than
EXISTS: PostgreSQL's generic plan of the EXISTS read the whole table (about 100 ms at a million timers, measured)."""
_DROP = delete(sla_timers).where(sla_timers.c.subject_id == bindparam("subject_id"))
_CUSTOM_PLANS = text("SET LOCAL plan_cache_mode = force_custom_plan")

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
    """Logs read in this transaction are remembered with what it appended to them: a use case that records a change
    and then answers the subject's SLA reads the log once. A subject's writers hold its row, so no other transaction
    appends meanwhile."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._known: dict[UUID, list[ClockEvent]] = {}

    async def append(self, subject: Subject, subject_id: UUID, events: Sequence[ClockEvent]) -> None:
        """One statement for any number of events, ids in the events' order (the log's order)."""
        await self.append_many([(subject, subject_id, events)])

    async def record(
        self, subject: Subject, subject_id: UUID, events: Sequence[ClockEvent], due: Due | None, now: datetime
    ) -> None:
        """PostgreSQL: the events and the timer in one statement when both change."""
        if due is None or not events or self._conn.dialect.name != "postgresql":
            await self.append(subject, subject_id, events)
            if due is not None:
                await self.set_due(subject, subject_id, due.at, now)
            return
        params = _arrays(_rows([(subject, subject_id, events)]))
        params |= {"subject_id": subject_id, "subject_type": subject.value, "due_at": due.at, "updated_at": now}
        await self._conn.execute(_RECORD, params)
        self._remember(subject_id, events)

    async def append_many(self, logs: Sequence[tuple[Subject, UUID, Sequence[ClockEvent]]]) -> None:
        rows = _rows(logs)
        if len(rows) > 1 and self._conn.dialect.name == "postgresql":
            await self._conn.execute(_APPEND_ARRAYS, _arrays(rows))
        elif rows:
            await self._conn.execute(_APPEND, rows)
        for _subject, subject_id, events in logs:
            self._remember(subject_id, events)

    def _remember(self, subject_id: UUID, events: Sequence[ClockEvent]) -> None:
        if subject_id in self._known:
            self._known[subject_id].extend(events)

    async def log(self, subject_id: UUID) -> list[ClockEvent]:
        if subject_id not in self._known:
            rows = await self._conn.execute(_LOG, {"subject_id": subject_id})
            self._known[subject_id] = [_event(row) for row in rows]
        return list(self._known[subject_id])

    async def logs(self, subject_ids: Collection[UUID]) -> dict[UUID, list[ClockEvent]]:
        """The logs of a page of subjects in one query (those not already known); a subject without events is
        absent."""
        missing = [subject_id for subject_id in subject_ids if subject_id not in self._known]
        if missing:
            dialect = self._conn.dialect
            read: dict[UUID, list[ClockEvent]] = {subject_id: [] for subject_id in missing}
            for row in await self._conn.execute(_LOGS[dialect.name], {"subject_ids": missing}):
                read[row.subject_id] = log_from_json(row.clock_log, dialect)
            self._known.update(read)
        return {subject_id: list(self._known[subject_id]) for subject_id in subject_ids if self._known[subject_id]}

    async def set_due(self, subject: Subject, subject_id: UUID, due_at: datetime | None, now: datetime) -> None:
        params = {"subject_id": subject_id, "subject_type": subject.value, "due_at": due_at, "updated_at": now}
        await self._conn.execute(_SET_DUE[self._conn.dialect.name], params)

    async def customer_facts(self, customer_no: str, on: date) -> CustomerFacts:
        row = (await self._conn.execute(_CUSTOMER_FACTS, {"customer_no": customer_no, "on": on})).one()
        return CustomerFacts(row.level, row.contract_sla_level)

    async def drop_timer(self, subject_id: UUID) -> None:
        await self._conn.execute(_DROP, {"subject_id": subject_id})

    async def due_subjects(self, now: datetime) -> list[Subject]:
        row = (await self._conn.execute(_DUE_SUBJECTS, {"now": now})).one()
        return [subject for subject in Subject if row._mapping[subject.value] is not None]

    async def due(self, subject: Subject, now: datetime, limit: int) -> list[DueTimer]:
        """`subject`'s timers due at `now`, oldest first, each locked with its subject; on PostgreSQL rows another
        scanner (or an action) holds are skipped, so any number of scanners can run at once. Served by the
        (subject_type, due_at) index. SQLite has no row locks: its writers are serialised already.

        On PostgreSQL the claim is planned for its own values: from its sixth run a prepared statement may get a
        generic plan, which here (the due time unknown) walked every ticket and probed its timer."""
        if self._conn.dialect.name == "postgresql":
            await self._conn.execute(_CUSTOM_PLANS)
        rows = await self._conn.execute(_DUE[subject], {"now": now, "limit": limit})
        return [DueTimer(subject, row.subject_id, row.due_at) for row in rows]
