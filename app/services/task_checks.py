"""What a task's input must satisfy before anything is written: a new task's references, who may take it, what a
report may claim (completion time, hours per day of elapsed time) and the approved hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from app.domain.errors import FieldError, InvalidInput
from app.domain.people import Agent
from app.domain.principal import ASSIGNEE_ROLES
from app.domain.tasks import Task, hours_problem, max_centihours
from app.domain.tickets import Ticket
from app.domain.unit_of_work import UnitOfWork
from app.workflows.engine import Move
from app.workflows.task import Handler, to_centihours


@dataclass(frozen=True, slots=True)
class TaskDraft:
    title: str
    due_at: datetime
    instructions: str | None = None
    assignee: str | None = None
    group_key: str | None = None
    parent_id: UUID | None = None
    estimated_hours: Decimal | None = None


async def check_draft(uow: UnitOfWork, ticket: Ticket, draft: TaskDraft, now: datetime) -> None:
    """Every bad reference of a new task named in one 422."""
    errors: list[FieldError] = []
    if draft.assignee is None and draft.group_key is None:
        errors.append(FieldError("/assignee", "name a handler, a group, or both"))
    if draft.due_at <= now:
        errors.append(FieldError("/due_at", "the required completion time has passed"))
    if draft.assignee is not None:
        reason = await _handler_problem(uow, draft.assignee)
        if reason:
            errors.append(FieldError("/assignee", reason))
    if draft.group_key is not None and not await uow.groups.existing_keys({draft.group_key}):
        errors.append(FieldError("/group_key", f"unknown group '{draft.group_key}'"))
    if draft.parent_id is not None:
        parent = await uow.tasks.get(draft.parent_id)
        if parent is None or parent.ticket_id != ticket.id:
            errors.append(FieldError("/parent_id", "no such task on this ticket"))
        elif not parent.is_open:
            errors.append(FieldError("/parent_id", f"the parent task is {parent.status}"))
    if errors:
        raise InvalidInput("The task cannot be created as sent", code="invalid_task", errors=errors)


async def _handler_problem(uow: UnitOfWork, user_id: str) -> str | None:
    return _problem(await uow.agents.get(user_id), user_id)


def _problem(agent: Agent | None, user_id: str) -> str | None:
    if agent is None:
        return f"'{user_id}' is not a registered agent"
    if not agent.data.active:
        return f"'{user_id}' is inactive"
    if not agent.data.roles & ASSIGNEE_ROLES:
        return f"'{user_id}' lacks the agent role"
    return None


async def check_handler(uow: UnitOfWork, user_id: str, pointer: str) -> None:
    reason = await _handler_problem(uow, user_id)
    if reason:
        raise InvalidInput(
            f"The task cannot go to '{user_id}'", code="invalid_assignee", errors=[FieldError(pointer, reason)]
        )


async def handler_of(uow: UnitOfWork, user_id: str) -> Handler:
    """The caller's agent record as the claim guard reads it: why they cannot take tasks, and their groups."""
    agent = await uow.agents.get(user_id)
    reason = _problem(agent, user_id)
    if reason or agent is None:
        return Handler(problem=reason)
    return Handler(groups=frozenset(agent.data.groups))


def check_report(task: Task, move: Move, now: datetime) -> None:
    payload: Any = move.payload
    started = task.started_at or task.created_at
    errors: list[FieldError] = []
    if payload.completed_at > now + timedelta(minutes=5):
        errors.append(FieldError("/completed_at", "the completion time is in the future"))
    elif payload.completed_at < started:
        errors.append(FieldError("/completed_at", "the completion time is before the task started"))
    else:
        reason = hours_problem(to_centihours(payload.hours_worked), started, payload.completed_at)
        if reason:
            errors.append(FieldError("/hours_worked", reason))
    if errors:
        raise InvalidInput("The report cannot be accepted as sent", code="invalid_report", errors=errors)


def check_approved_hours(task: Task, move: Move) -> None:
    hours = getattr(move.payload, "approved_hours", None)
    if hours is None or task.completed_at is None:
        return
    limit = max_centihours(task.started_at or task.created_at, task.completed_at)
    if to_centihours(hours) > limit:
        raise InvalidInput(
            "The approved hours cannot have been worked",
            code="invalid_hours",
            errors=[FieldError("/approved_hours", f"at most {limit / 100:g} hours for this task")],
        )
