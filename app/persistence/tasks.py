"""Task rows ↔ Task entities; the list, blocking-task, reminder-scan and work-hours queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, Select, bindparam, case, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.errors import FieldError, InvalidInput
from app.domain.pagination import Page, PageRequest
from app.domain.tasks import (
    OPEN_STATUSES,
    UNFINISHED_STATUSES,
    Outcome,
    Task,
    TaskFilter,
    TaskRef,
    WorkHoursRow,
)
from app.domain.tickets import Attachment
from app.persistence.keyset import fetch_merged_page
from app.persistence.lookups import Lookup, equals_any
from app.persistence.numbering import next_number
from app.persistence.scope import in_business_lines
from app.persistence.tables import tasks
from app.workflows.task import TASK

_PLAIN = (
    "ticket_id",
    "parent_id",
    "title",
    "instructions",
    "status",
    "assignee",
    "group_key",
    "business_line",
    "due_at",
    "estimated_centihours",
    "started_at",
    "result",
    "completed_at",
    "reported_centihours",
    "reported_at",
    "approved_centihours",
    "approved_by",
    "approval_comment",
    "archived_at",
    "cancel_reason",
    "return_count",
    "due_soon_notified",
    "overdue_notified",
    "next_reminder_at",
    "created_by",
    "version",
    "updated_at",
)


def _unfinished_numbers(column: Any) -> dict[bool, Select[Any]]:
    """Built once per key column, for one key and for a page of them: each query then comes from SQLAlchemy's
    compiled cache, and one key needs no IN list rendered."""
    unfinished = equals_any(tasks.c.status, UNFINISHED_STATUSES)
    numbers = select(column, tasks.c.number).order_by(tasks.c.id)
    return {
        True: numbers.where(column == bindparam("key"), unfinished),
        False: numbers.where(column.in_(bindparam("keys", expanding=True)), unfinished),
    }


_BY_ID = Lookup(tasks, tasks.c.id)
_BY_NUMBER = Lookup(tasks, tasks.c.number)
_UNFINISHED_BY_TICKET = _unfinished_numbers(tasks.c.ticket_id)
_UNFINISHED_BY_PARENT = _unfinished_numbers(tasks.c.parent_id)


def _values(task: Task) -> dict[str, Any]:
    return {
        **{name: getattr(task, name) for name in _PLAIN},
        "attachments": [a.as_json() for a in task.attachments],
        "outcome": task.outcome.value if task.outcome else None,
    }


def _entity(row: Row[Any]) -> Task:
    return Task(
        id=row.id,
        number=row.number,
        **{name: getattr(row, name) for name in _PLAIN},
        attachments=tuple(Attachment.from_json(a) for a in row.attachments),
        outcome=Outcome(row.outcome) if row.outcome else None,
        created_at=row.created_at,
    )


def _ref(row: Row[Any]) -> TaskRef:
    return TaskRef(row.id, row.number, row.status)


def _conditions(where: TaskFilter) -> list[Any]:
    c = tasks.c
    conditions: list[Any] = []
    for column, value in (
        (c.assignee, where.assignee),
        (c.ticket_id, where.ticket_id),
        (c.group_key, where.group_key),
        (c.parent_id, where.parent_id),
    ):
        if value is not None:
            conditions.append(column == value)
    if where.statuses:
        conditions.append(c.status.in_(where.statuses))
    conditions += in_business_lines(c.business_line, where.business_lines)
    if where.due_before is not None:
        conditions.append(c.due_at < where.due_before)
    if where.overdue_at is not None:
        conditions += [c.due_at < where.overdue_at, c.status.in_(OPEN_STATUSES)]
    return conditions


def _seek_parts(where: TaskFilter) -> list[TaskFilter]:
    """The filter as disjoint parts that each seek one index in page order: one per state where the index
    begins with (or follows the leading filter by) status. One ticket's tasks, or one task's subtasks, are few
    and read in one part. No part at all: the states asked for are not open, but the list is of open tasks."""
    if where.ticket_id is not None or where.parent_id is not None:
        return [where]
    by_due = where.due_before is not None or where.overdue_at is not None
    _check_served(where, by_due)
    statuses = tuple(dict.fromkeys(where.statuses))
    if where.overdue_at is not None:
        statuses = tuple(s for s in statuses or OPEN_STATUSES if s in OPEN_STATUSES)
        if not statuses:
            return []
    every_state = where.group_key is not None or (by_due and where.assignee is not None)
    if not statuses and every_state:
        statuses = tuple(state.name for state in TASK.states)
    if len(statuses) < 2 and not (by_due and statuses):
        return [replace(where, statuses=statuses)]
    return [replace(where, statuses=(status,)) for status in statuses]


def _check_served(where: TaskFilter, by_due: bool) -> None:
    refused: dict[str, str] = {}
    if where.assignee is not None and where.group_key is not None:
        refused |= dict.fromkeys(("assignee", "group"), "combine at most one of assignee, group (and status)")
    elif where.group_key is not None and by_due:
        refused["group"] = "not with due_before or overdue"
    if refused:
        raise InvalidInput(
            f"No index serves {', '.join(sorted(refused))} together; see the parameters' descriptions",
            code="validation_failed",
            errors=[FieldError(name, why, location="query") for name, why in sorted(refused.items())],
        )


class SqlTaskRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def next_sequence(self) -> int:
        return await next_number(self._conn, "task")

    async def get(self, ref: UUID | str, *, for_update: bool = False) -> Task | None:
        row = await (_BY_ID if isinstance(ref, UUID) else _BY_NUMBER).row(self._conn, ref, for_update=for_update)
        return _entity(row) if row else None

    async def add(self, task: Task) -> None:
        await self._conn.execute(
            insert(tasks).values(id=task.id, number=task.number, created_at=task.created_at, **_values(task))
        )

    async def update(self, task: Task) -> None:
        await self._conn.execute(update(tasks).where(tasks.c.id == task.id).values(**_values(task)))

    async def list(self, where: TaskFilter, page: PageRequest) -> Page[Task]:
        """Newest first by default; `due_before` and `overdue_at` lists run soonest-due first (what to do next). One
        index read per part of the filter (see `_seek_parts`), merged."""
        by_due = where.due_before is not None or where.overdue_at is not None
        key = [tasks.c.due_at, tasks.c.id] if by_due else tasks.c.id
        parts = [_conditions(part) for part in _seek_parts(where)]
        if not parts:
            return Page([], None)
        rows, next_key = await fetch_merged_page(self._conn, tasks, parts, key, page, descending=not by_due)
        return Page([_entity(row) for row in rows], next_key)

    async def unfinished_of_ticket(self, ticket_id: UUID) -> list[TaskRef]:
        stmt = (
            select(tasks.c.id, tasks.c.number, tasks.c.status)
            .where(tasks.c.ticket_id == ticket_id, tasks.c.status.in_(UNFINISHED_STATUSES))
            .order_by(tasks.c.id)
        )
        return [_ref(row) for row in await self._conn.execute(stmt)]

    async def unfinished_by_ticket(self, ticket_ids: Collection[UUID]) -> dict[UUID, tuple[str, ...]]:
        """Numbers of each ticket's unfinished tasks, for a whole page of tickets in one query (through the
        (ticket_id, id) index); tickets without any are absent."""
        return await self._numbers_by(_UNFINISHED_BY_TICKET, ticket_ids)

    async def open_subtasks_by_parent(self, parent_ids: Collection[UUID]) -> dict[UUID, tuple[str, ...]]:
        """Numbers of each task's unfinished subtasks, for a whole page of tasks in one query."""
        return await self._numbers_by(_UNFINISHED_BY_PARENT, parent_ids)

    async def _numbers_by(
        self, statements: dict[bool, Select[Any]], keys: Collection[UUID]
    ) -> dict[UUID, tuple[str, ...]]:
        found: dict[UUID, list[str]] = defaultdict(list)
        if keys:
            one = len(keys) == 1
            params = {"key": next(iter(keys))} if one else {"keys": list(keys)}
            for key, number in await self._conn.execute(statements[one], params):
                found[key].append(number)
        return {key: tuple(numbers) for key, numbers in found.items()}

    async def due_for_reminder(self, now: datetime, limit: int) -> list[Task]:
        """Tasks whose next reminder is due, locked; rows another scanner holds are skipped (SKIP LOCKED), so any
        number of workers can scan at once. Served by the index on next_reminder_at: O(due), not O(open)."""
        stmt = (
            select(tasks)
            .where(tasks.c.next_reminder_at <= now)
            .order_by(tasks.c.next_reminder_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [_entity(row) for row in await self._conn.execute(stmt)]

    async def work_hours(
        self, start: datetime, end: datetime, assignee: str | None, page: PageRequest
    ) -> Page[WorkHoursRow]:
        """Per handler, tasks completed in [start, end) that were reported (awaiting approval or archived)."""
        c = tasks.c
        conditions = [
            c.completed_at >= start,
            c.completed_at < end,
            c.status.in_(("reported", "approved")),
            c.assignee.is_not(None),
        ]
        if assignee is not None:
            conditions.append(c.assignee == assignee)
        if page.after is not None:
            conditions.append(c.assignee > page.after[0])
        stmt = (
            select(
                c.assignee,
                func.count().label("tasks"),
                func.coalesce(func.sum(c.reported_centihours), 0).label("reported"),
                func.coalesce(func.sum(c.approved_centihours), 0).label("approved"),
                func.count(c.approved_centihours).label("approved_tasks"),
                func.sum(case((c.outcome == Outcome.ON_TIME.value, 1), else_=0)).label("on_time"),
                func.sum(case((c.outcome == Outcome.OVERDUE.value, 1), else_=0)).label("overdue"),
            )
            .where(*conditions)
            .group_by(c.assignee)
        )
        rows = (await self._conn.execute(stmt.order_by(c.assignee).limit(page.limit + 1))).all()
        items = [
            WorkHoursRow(r.assignee, r.tasks, r.reported, r.approved, r.approved_tasks, r.on_time, r.overdue)
            for r in rows[: page.limit]
        ]
        return Page(items, (items[-1].assignee,) if len(rows) > page.limit else None)
