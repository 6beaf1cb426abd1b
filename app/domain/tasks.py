"""Tasks (任务单, seed 000): work on a ticket given to a handler with a required completion time; the handler reports
the result, the actual completion time and the hours worked, a manager approves the hours, and the task is archived
as on time (按时) or overdue (超期)."""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from app.domain.invariants import present
from app.domain.pagination import Page, PageRequest
from app.domain.tickets import Attachment

TASK_NUMBER_PREFIX = "TK"
OPEN_STATUSES = ("open", "in_progress")
"""States in which the handler still owes the work (reminders run, subtasks block the parent's report)."""
UNFINISHED_STATUSES = (*OPEN_STATUSES, "reported")
"""States that keep a ticket from being resolved: neither approved nor cancelled."""
MAX_HOURS_PER_DAY = 24


def task_number(year: int, sequence: int) -> str:
    return f"{TASK_NUMBER_PREFIX}-{year}-{sequence:06d}"


def is_task_number(text: str) -> bool:
    head, _, rest = text.partition("-")
    year, _, seq = rest.partition("-")
    return head == TASK_NUMBER_PREFIX and year.isdigit() and len(year) == 4 and seq.isdigit()


class Outcome(StrEnum):
    ON_TIME = "on_time"
    OVERDUE = "overdue"


@dataclass(frozen=True, slots=True)
class Task:
    """Hours are integer hundredths of an hour (centihours), exact where floats are not."""

    id: UUID
    number: str
    ticket_id: UUID
    title: str
    status: str
    due_at: datetime
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int = 1
    parent_id: UUID | None = None
    instructions: str | None = None
    assignee: str | None = None
    group_key: str | None = None
    business_line: str | None = None  # the ticket's, so staff scoped to business lines see only their tasks
    estimated_centihours: int | None = None
    started_at: datetime | None = None
    result: str | None = None
    completed_at: datetime | None = None
    reported_centihours: int | None = None
    reported_at: datetime | None = None
    attachments: tuple[Attachment, ...] = ()
    approved_centihours: int | None = None
    approved_by: str | None = None
    approval_comment: str | None = None
    archived_at: datetime | None = None
    outcome: Outcome | None = None
    cancel_reason: str | None = None
    return_count: int = 0
    due_soon_notified: bool = False
    overdue_notified: bool = False
    next_reminder_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


def outcome_of(task: Task) -> Outcome:
    """按时 when the actual completion time is not after the required one."""
    completed_at = present(task.completed_at, "an approved task's completion time")
    return Outcome.ON_TIME if completed_at <= task.due_at else Outcome.OVERDUE


def max_centihours(started_at: datetime, completed_at: datetime) -> int:
    """At most 24 hours per calendar day the work spanned (at least one day: work begun before it was recorded
    is common), so 30 hours on a task started and finished the same day is refused."""
    days = max(1, math.ceil((completed_at - started_at) / timedelta(days=1)))
    return days * MAX_HOURS_PER_DAY * 100


def hours_problem(centihours: int, started_at: datetime, completed_at: datetime) -> str | None:
    """Why these hours cannot have been worked between start and completion, or None."""
    if centihours <= 0:
        return "hours worked must be more than zero"
    limit = max_centihours(started_at, completed_at)
    if centihours > limit:
        return f"more than {MAX_HOURS_PER_DAY} hours per day of elapsed time (at most {limit / 100:g} here)"
    return None


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    """提醒: one 'due soon' notification `lead` before the required time, one 'overdue' notification after it."""

    lead: timedelta


def next_reminder(task: Task, policy: ReminderPolicy) -> datetime | None:
    """When the reminder scan should next look at this task; None when it owes no reminder any more."""
    if not task.is_open or task.overdue_notified:
        return None
    return task.due_at if task.due_soon_notified else task.due_at - policy.lead


def reminder_due(task: Task, now: datetime, policy: ReminderPolicy) -> str | None:
    """Which reminder the task owes at `now`: 'overdue' (past due; a missed 'due soon' is not sent late),
    'due_soon', or None."""
    if not task.is_open or task.overdue_notified:
        return None
    if now >= task.due_at:
        return "overdue"
    if not task.due_soon_notified and now >= task.due_at - policy.lead:
        return "due_soon"
    return None


@dataclass(frozen=True, slots=True)
class TaskFilter:
    assignee: str | None = None
    statuses: tuple[str, ...] = ()
    ticket_id: UUID | None = None
    due_before: datetime | None = None
    overdue_at: datetime | None = None  # open and past due at this time
    group_key: str | None = None
    parent_id: UUID | None = None
    business_lines: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class WorkHoursQuery:
    """What the work-hours report is asked: tasks completed in [start, end), of one handler or (None) of all."""

    start: datetime
    end: datetime
    assignee: str | None = None


@dataclass(frozen=True, slots=True)
class WorkHoursRow:
    """One handler's figures over a period: 工时 reported vs approved, and the on-time rate of archived tasks."""

    assignee: str
    tasks: int
    reported_centihours: int
    approved_centihours: int
    approved_tasks: int
    on_time: int
    overdue: int

    @property
    def on_time_rate(self) -> float | None:
        archived = self.on_time + self.overdue
        return round(self.on_time / archived, 4) if archived else None


@dataclass(frozen=True, slots=True)
class TaskRef:
    """Enough of a task to name it in a conflict (which tasks block a ticket's resolution)."""

    id: UUID
    number: str
    status: str


class TaskRepository(Protocol):
    async def next_sequence(self) -> int: ...
    async def get(self, ref: UUID | str, *, for_update: bool = False) -> Task | None: ...
    async def add(self, task: Task) -> None: ...
    async def update(self, task: Task) -> None: ...
    async def list(self, where: TaskFilter, page: PageRequest) -> Page[Task]: ...
    async def unfinished_of_ticket(self, ticket_id: UUID) -> list[TaskRef]: ...
    async def unfinished_by_ticket(self, ticket_ids: Collection[UUID]) -> dict[UUID, tuple[str, ...]]: ...
    async def open_subtasks_by_parent(self, parent_ids: Collection[UUID]) -> dict[UUID, tuple[str, ...]]: ...
    async def due_for_reminder(self, now: datetime, limit: int) -> list[Task]: ...
    async def work_hours(
        self, start: datetime, end: datetime, assignee: str | None, page: PageRequest
    ) -> Page[WorkHoursRow]: ...
