"""Task contract (任务单): creation on a ticket, the task with its hours and approval, and the work-hours report."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, ConfigDict, Field

from app.domain.principal import Principal
from app.domain.tasks import Outcome, Task, WorkHoursRow
from app.schemas.approvals import ApprovalSummaryOut
from app.schemas.attachments import AttachmentOut
from app.schemas.common import KEY_PATTERN, Input, Line, Output
from app.schemas.workflows import AvailableActionOut
from app.services.tasks import TaskView
from app.workflows.task import HOURS_PATTERN, TASK, PositiveHours, hours_text
from app.workflows.ticket_payloads import USER_ID

HoursText = Annotated[str, Field(pattern=HOURS_PATTERN, examples=["7.50"], json_schema_extra={"format": "decimal"})]
"""工时 in an answer: a decimal string with two decimals ("7.50"), as requests send them."""


def hours(centihours: int | None) -> str | None:
    return None if centihours is None else hours_text(centihours)


class TaskIn(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "title": "上门检修净化器风机",
                    "instructions": "携带备用风机，检修后拍照上传。",
                    "assignee": "agent-wang",
                    "due_at": "2026-12-03T10:00:00Z",
                    "estimated_hours": "2.50",
                }
            ]
        }
    )

    title: Line = Field(min_length=1, max_length=200)
    instructions: str | None = Field(None, max_length=10_000)
    assignee: str | None = Field(None, pattern=USER_ID, description="Handler (agent user id).")
    group_key: str | None = Field(
        None, pattern=KEY_PATTERN, max_length=64, description="Group whose members may claim it."
    )
    due_at: AwareDatetime = Field(description="要求完成时间: the required completion time.")
    parent_id: UUID | None = Field(None, description="A task of the same ticket this one is a subtask of.")
    estimated_hours: PositiveHours | None = None


class TaskOut(Output):
    id: UUID
    number: str
    ticket_id: UUID
    parent_id: UUID | None
    title: str
    instructions: str | None
    status: str
    status_label: str
    assignee: str | None
    group_key: str | None
    due_at: datetime
    overdue: bool = Field(description="Past the required time and not yet reported (or archived as overdue).")
    estimated_hours: HoursText | None
    started_at: datetime | None
    result: str | None
    completed_at: datetime | None = Field(description="实际完成时间, as reported.")
    reported_hours: HoursText | None
    reported_at: datetime | None
    attachments: list[AttachmentOut]
    approved_hours: HoursText | None
    approved_by: str | None
    approval_comment: str | None
    archived_at: datetime | None
    outcome: Outcome | None = Field(description="按时 on_time / 超期 overdue, set when the hours are approved.")
    cancel_reason: str | None
    return_count: int
    approval: ApprovalSummaryOut | None = Field(description="The hours approval under way, if any.")
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int
    available_actions: list[AvailableActionOut]

    @classmethod
    def of(cls, view: TaskView, now: datetime, principal: Principal, language: str) -> TaskOut:
        task: Task = view.task
        overdue = task.outcome == Outcome.OVERDUE if task.outcome else (task.is_open and now > task.due_at)
        return cls(
            id=task.id,
            number=task.number,
            ticket_id=task.ticket_id,
            parent_id=task.parent_id,
            title=task.title,
            instructions=task.instructions,
            status=task.status,
            status_label=TASK.state(task.status).agent.pick(language),
            assignee=task.assignee,
            group_key=task.group_key,
            due_at=task.due_at,
            overdue=overdue,
            estimated_hours=hours(task.estimated_centihours),
            started_at=task.started_at,
            result=task.result,
            completed_at=task.completed_at,
            reported_hours=hours(task.reported_centihours),
            reported_at=task.reported_at,
            attachments=[AttachmentOut.of(a, principal) for a in task.attachments],
            approved_hours=hours(task.approved_centihours),
            approved_by=task.approved_by,
            approval_comment=task.approval_comment,
            archived_at=task.archived_at,
            outcome=task.outcome,
            cancel_reason=task.cancel_reason,
            return_count=task.return_count,
            approval=ApprovalSummaryOut.of(view.approval, principal) if view.approval else None,
            created_by=task.created_by,
            created_at=task.created_at,
            updated_at=task.updated_at,
            version=task.version,
            available_actions=[AvailableActionOut.of(a) for a in view.available_actions],
        )


class WorkHoursRowOut(Output):
    assignee: str
    tasks: int = Field(description="Tasks reported in the period (awaiting approval or archived).")
    reported_hours: HoursText
    approved_hours: HoursText
    approved_tasks: int
    on_time: int
    overdue: int
    on_time_rate: float | None = Field(description="on_time / archived tasks; null when none was archived.")

    @classmethod
    def of(cls, row: WorkHoursRow) -> WorkHoursRowOut:
        return cls(
            assignee=row.assignee,
            tasks=row.tasks,
            reported_hours=hours_text(row.reported_centihours),
            approved_hours=hours_text(row.approved_centihours),
            approved_tasks=row.approved_tasks,
            on_time=row.on_time,
            overdue=row.overdue,
            on_time_rate=row.on_time_rate,
        )


class WorkHoursOut(Output):
    period_start: datetime
    period_end: datetime
    items: list[WorkHoursRowOut]
    next_cursor: str | None
