"""/v1/tickets/{id}/tasks and /v1/tasks (任务单): give out work, report it, approve the hours; the work-hours
report at /v1/reports/work-hours."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from uuid import UUID

from fastapi import Body, Depends, Path, Query, Response, status

from app.domain.errors import FieldError, InvalidInput
from app.domain.pagination import PageRequest
from app.domain.principal import Principal
from app.domain.tasks import TaskFilter, WorkHoursQuery
from app.schemas.common import KEY_PATTERN, PageOut, QueryInstant, problems
from app.schemas.tasks import TaskIn, TaskOut, WorkHoursOut, WorkHoursRowOut
from app.schemas.workflows import ActionIn, TimelineEntryOut, action_payloads
from app.services.task_checks import TaskDraft
from app.services.tasks import TaskView
from app.web.auth import Staff, StaffOrIntegration, Worker
from app.web.language import Lang
from app.web.pagination import encode_cursor, page_out, page_request
from app.web.preconditions import Guarded, set_etag
from app.web.query_params import one_of
from app.web.refs import uuid_or_number
from app.web.routes import api_router
from app.web.wiring import Svc
from app.workflows.task import TASK

router = api_router(tags=["tasks"])
Page = Annotated[PageRequest, Depends(page_request)]
MAX_REPORT_DAYS = 366


async def task_ref(
    id: Annotated[str, Path(description="The task's UUID or its number, e.g. TK-2026-000123.")],
) -> UUID | str:
    return uuid_or_number(id)


async def ticket_ref(
    id: Annotated[str, Path(description="The ticket's UUID or its number, e.g. T-2026-000123.")],
) -> UUID | str:
    return uuid_or_number(id)


Ref = Annotated[UUID | str, Depends(task_ref)]


def _out(view: TaskView, principal: Principal, language: str, svc: Any) -> TaskOut:
    return TaskOut.of(view, svc.clock.now(), principal, language)


@router.post("/v1/tickets/{id}/tasks", status_code=status.HTTP_201_CREATED, responses=problems(404, 409, 422))
async def create_task(
    ticket: Annotated[UUID | str, Depends(ticket_ref)],
    body: TaskIn,
    principal: Worker,
    language: Lang,
    response: Response,
    svc: Svc,
) -> TaskOut:
    """生成任务单: give part of a ticket's work to a handler (or a group's members to claim) with a required
    completion time. The ticket's assignee or a manager may; the handler is notified."""
    draft = TaskDraft(**body.model_dump())
    view = await svc.tasks.create(principal, ticket, draft)
    set_etag(response, view.task.version)
    response.headers["Location"] = f"/v1/tasks/{view.task.id}"
    return _out(view, principal, language, svc)


@router.get("/v1/tasks", responses=problems(422))
async def list_tasks(
    principal: StaffOrIntegration,
    language: Lang,
    page: Page,
    svc: Svc,
    assignee: Annotated[
        str | None,
        Query(
            max_length=128,
            description="User id, or `me`. Not with `group` (unless `ticket_id` or `parent_id` is given).",
        ),
    ] = None,
    status_: Annotated[list[str] | None, Query(alias="status", description="Any of these states.")] = None,
    ticket_id: Annotated[
        UUID | None, Query(description="Tasks of this ticket; every other filter then narrows them.")
    ] = None,
    group: Annotated[
        str | None,
        Query(
            pattern=KEY_PATTERN,
            description="Not with `assignee`, `due_before` or `overdue` (unless `ticket_id` or `parent_id` is given).",
        ),
    ] = None,
    parent_id: Annotated[
        UUID | None, Query(description="Subtasks of this task; every other filter then narrows them.")
    ] = None,
    due_before: Annotated[QueryInstant | None, Query(description="Required completion before this time.")] = None,
    overdue: Annotated[bool, Query(description="Only open tasks past their required time.")] = False,
) -> PageOut[TaskOut]:
    """Tasks matching every filter, newest first; with `due_before` or `overdue`, soonest due first. Every page is
    read through an index in page order; a combination no index serves is refused with 422 naming the parameters."""
    where = TaskFilter(
        assignee=principal.subject if assignee == "me" else assignee,
        statuses=one_of(status_, (state.name for state in TASK.states), "status"),
        ticket_id=ticket_id,
        due_before=due_before,
        overdue_at=svc.clock.now() if overdue else None,
        group_key=group,
        parent_id=parent_id,
    )
    found = await svc.tasks.list(principal, where, page)
    return page_out(found, lambda view: _out(view, principal, language, svc))


@router.get("/v1/tasks/{id}", responses=problems(404, 422))
async def get_task(ref: Ref, principal: StaffOrIntegration, language: Lang, response: Response, svc: Svc) -> TaskOut:
    """One task, by UUID or number, with its hours approval under way and the actions the caller may take."""
    view = await svc.tasks.get(principal, ref)
    set_etag(response, view.task.version)
    return _out(view, principal, language, svc)


@router.post(
    "/v1/tasks/{id}/actions/{action}",
    responses=problems(404, 409, 412, 422, 428),
    openapi_extra=action_payloads("Task"),
)
async def act_on_task(
    ref: Ref,
    action: Annotated[str, Path(pattern=r"^[a-z_]{1,32}$", description="One of the task workflow's actions.")],
    principal: Staff,
    language: Lang,
    precondition: Guarded,
    response: Response,
    svc: Svc,
    body: Annotated[ActionIn, Body()],
) -> TaskOut:
    """Run a task action: claim, assign, start, report (result, actual completion time, hours worked), approve
    (approved hours, comment) or return (reason) the hours, cancel. Approving and returning decide the hours
    approval at its current level; only its designated approvers may. Not possible now → 409, nothing written."""
    view = await svc.tasks.act(principal, ref, action, body.model_dump(exclude_unset=True), precondition)
    set_etag(response, view.task.version)
    return _out(view, principal, language, svc)


@router.get("/v1/tasks/{id}/timeline", responses=problems(404, 422))
async def task_timeline(
    ref: Ref, principal: StaffOrIntegration, language: Lang, page: Page, svc: Svc
) -> PageOut[TimelineEntryOut]:
    """Every step of the task and every approval decision, oldest first."""
    found = await svc.tasks.timeline(principal, ref, page)
    return page_out(found, lambda entry: TimelineEntryOut.of(entry, principal, TASK, language))


async def work_hours_query(
    principal: Staff,
    svc: Svc,
    from_: Annotated[
        QueryInstant | None, Query(alias="from", description="Start (inclusive); default 30 days ago.")
    ] = None,
    to: Annotated[QueryInstant | None, Query(description="End (exclusive); default now.")] = None,
    assignee: Annotated[str | None, Query(max_length=128, description="One handler (user id, or `me`).")] = None,
) -> WorkHoursQuery:
    """The work-hours report's parameters, shared by its JSON answer and its CSV export."""
    end = to or svc.clock.now()
    try:
        start = from_ or end - timedelta(days=30)
    except OverflowError as exc:  # `to` in the first 30 days of year 1
        raise InvalidInput(
            "The report period is invalid",
            code="validation_failed",
            errors=[FieldError("to", "too early for the default period of 30 days before it; send `from`", "query")],
        ) from exc
    if not timedelta(0) < end - start <= timedelta(days=MAX_REPORT_DAYS):
        raise InvalidInput(
            "The report period is invalid",
            code="validation_failed",
            errors=[FieldError("from", f"the period must be positive and at most {MAX_REPORT_DAYS} days", "query")],
        )
    return WorkHoursQuery(start, end, principal.subject if assignee == "me" else assignee)


WorkHoursAsked = Annotated[WorkHoursQuery, Depends(work_hours_query)]


@router.get("/v1/reports/work-hours", tags=["reports"], responses=problems(422))
async def work_hours_report(principal: Staff, page: Page, svc: Svc, query: WorkHoursAsked) -> WorkHoursOut:
    """工时统计: per handler, tasks completed in the period with reported vs approved hours and the on-time rate
    of the archived ones. Managers see everyone; others only themselves."""
    found = await svc.tasks.work_hours(principal, query.start, query.end, query.assignee, page)
    return WorkHoursOut(
        period_start=query.start,
        period_end=query.end,
        items=[WorkHoursRowOut.of(row) for row in found.items],
        next_cursor=encode_cursor(found.next_key),
    )
