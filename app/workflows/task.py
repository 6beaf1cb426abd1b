"""The task workflow (任务单, seed 000): 待处理 → 处理中 → 已填报 (awaiting approval) → 已审批归档, or back to work
when the hours are returned; cancellable until archived."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from pydantic import AwareDatetime, Field

from app.domain.approvals import not_deciding_now
from app.domain.principal import Principal, Role
from app.domain.tasks import Task, outcome_of
from app.workflows.attachments import AttachmentIn
from app.workflows.engine import Label, Move, Payload, State, Transition, Workflow
from app.workflows.ticket_payloads import USER_ID

STAFF = frozenset({Role.AGENT, Role.REVIEWER, Role.MANAGER, Role.ADMIN})
WORKERS = frozenset({Role.AGENT, Role.MANAGER, Role.ADMIN})
Hours = Decimal


@dataclass(frozen=True, slots=True)
class TaskContext:
    """What guards see: the task, the time, the ticket's assignee (who coordinates its tasks), the numbers of open
    subtasks, and who may decide the pending hours approval now (None when not loaded: roles decide alone)."""

    task: Task
    now: datetime
    ticket_assignee: str | None = None
    open_subtasks: tuple[str, ...] = ()
    approvers_now: frozenset[str] | None = None


def hours_field(description: str) -> object:
    return Field(gt=0, le=9999, max_digits=6, decimal_places=2, description=description)


class AssignPayload(Payload):
    assignee: str = Field(pattern=USER_ID, description="Agent user id.")


class ReportPayload(Payload):
    result: str = Field(min_length=1, max_length=10_000, description="处理结果: what was done.")
    completed_at: AwareDatetime = Field(description="实际完成时间: when the work was actually finished.")
    hours_worked: Hours = hours_field("工时: hours worked, up to two decimals.")  # type: ignore[assignment]
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)


class ApprovePayload(Payload):
    approved_hours: Hours | None = Field(  # type: ignore[call-overload]
        None, ge=0, le=9999, max_digits=6, decimal_places=2, description="批准工时; defaults to the reported hours."
    )
    comment: str | None = Field(None, max_length=2000)


class ReasonPayload(Payload):
    reason: str = Field(min_length=1, max_length=500)


def _manages(ctx: TaskContext, principal: Principal) -> bool:
    return principal.is_manager or principal.subject in (ctx.task.created_by, ctx.ticket_assignee)


def is_handler(ctx: TaskContext, principal: Principal, _payload: object) -> str | None:
    return None if principal.subject == ctx.task.assignee else f"only the handler ({ctx.task.assignee}) may do this"


def is_handler_or_manager(ctx: TaskContext, principal: Principal, _payload: object) -> str | None:
    if principal.subject == ctx.task.assignee or _manages(ctx, principal):
        return None
    return "only the handler, whoever created the task, the ticket's assignee or a manager may do this"


def coordinates(ctx: TaskContext, principal: Principal, _payload: object) -> str | None:
    if _manages(ctx, principal):
        return None
    return "only whoever created the task, the ticket's assignee or a manager may do this"


def has_handler(ctx: TaskContext, _principal: Principal, _payload: object) -> str | None:
    return None if ctx.task.assignee else "the task has no handler yet; assign or claim it first"


def has_no_handler(ctx: TaskContext, _principal: Principal, _payload: object) -> str | None:
    return None if ctx.task.assignee is None else f"the task is already {ctx.task.assignee}'s"


def subtasks_done(ctx: TaskContext, _principal: Principal, _payload: object) -> str | None:
    if not ctx.open_subtasks:
        return None
    return f"subtasks still open: {', '.join(ctx.open_subtasks)}"


def decides_now(ctx: TaskContext, principal: Principal, _payload: object) -> str | None:
    """Only the designated approvers of the hours approval's current level, never the handler (own hours)."""
    return not_deciding_now(ctx.approvers_now, principal, ctx.task.assignee)


def _state(name: str, zh: str, en: str, *, final: bool = False) -> State:
    # Tasks are internal work: the customer never sees them, so both views share one label.
    return State(name, Label(zh, en), Label(zh, en), final=final)


TASK = Workflow[TaskContext](
    name="task",
    title=Label("任务单", "Task"),
    initial="open",
    state_of=lambda ctx: ctx.task.status,
    is_own_customer=lambda _ctx, _principal: False,
    states=[
        _state("open", "待处理", "Open"),
        _state("in_progress", "处理中", "In progress"),
        _state("reported", "已填报待审批", "Reported, awaiting approval"),
        _state("approved", "已审批归档", "Approved and archived", final=True),
        _state("cancelled", "已取消", "Cancelled", final=True),
    ],
    transitions=[
        Transition(
            "claim", ("open",), "open", WORKERS, guards=(has_no_handler,), description="领取: take a group's task."
        ),
        Transition(
            "assign",
            ("open", "in_progress"),
            None,
            WORKERS,
            AssignPayload,
            (coordinates,),
            description="派单: give the task to a handler.",
        ),
        Transition(
            "start",
            ("open",),
            "in_progress",
            WORKERS,
            guards=(has_handler, is_handler_or_manager),
            description="Start the work.",
        ),
        Transition(
            "report",
            ("in_progress",),
            "reported",
            WORKERS,
            ReportPayload,
            (is_handler, subtasks_done),
            description="填报: the result, the actual completion time and the hours worked; asks for approval.",
        ),
        Transition(
            "approve",
            ("reported",),
            "approved",
            STAFF,
            ApprovePayload,
            (decides_now,),
            description="审批通过: approve the hours (the approved figure may differ); archives the task.",
        ),
        Transition(
            "return",
            ("reported",),
            "in_progress",
            STAFF,
            ReasonPayload,
            (decides_now,),
            description="退回: send the report back to the handler with a reason.",
        ),
        Transition(
            "cancel",
            ("open", "in_progress", "reported"),
            "cancelled",
            WORKERS,
            ReasonPayload,
            (coordinates,),
            description="Cancel with a reason.",
        ),
    ],
)


def to_centihours(hours: Decimal) -> int:
    return int(hours * 100)


def _claim(_ctx: TaskContext, principal: Principal, _payload: Payload) -> dict[str, object]:
    return {"assignee": principal.subject}


def _assign(_ctx: TaskContext, _principal: Principal, payload: Payload) -> dict[str, object]:
    assert isinstance(payload, AssignPayload)
    return {"assignee": payload.assignee}


def _start(ctx: TaskContext, _principal: Principal, _payload: Payload) -> dict[str, object]:
    return {"started_at": ctx.task.started_at or ctx.now}


def _report(ctx: TaskContext, _principal: Principal, payload: Payload) -> dict[str, object]:
    assert isinstance(payload, ReportPayload)
    return {
        "result": payload.result,
        "completed_at": payload.completed_at,
        "reported_centihours": to_centihours(payload.hours_worked),
        "reported_at": ctx.now,
        "attachments": tuple(a.to_domain() for a in payload.attachments),
    }


def _approve(ctx: TaskContext, principal: Principal, payload: Payload) -> dict[str, object]:
    assert isinstance(payload, ApprovePayload)
    hours = payload.approved_hours
    task = replace(
        ctx.task,
        approved_centihours=ctx.task.reported_centihours if hours is None else to_centihours(hours),
        approved_by=principal.subject,
        approval_comment=payload.comment,
        archived_at=ctx.now,
    )
    return {
        "approved_centihours": task.approved_centihours,
        "approved_by": task.approved_by,
        "approval_comment": task.approval_comment,
        "archived_at": task.archived_at,
        "outcome": outcome_of(task),
    }


def _return(ctx: TaskContext, _principal: Principal, _payload: Payload) -> dict[str, object]:
    return {"return_count": ctx.task.return_count + 1}


def _cancel(_ctx: TaskContext, _principal: Principal, payload: Payload) -> dict[str, object]:
    assert isinstance(payload, ReasonPayload)
    return {"cancel_reason": payload.reason}


EFFECTS: dict[str, Callable[[TaskContext, Principal, Payload], dict[str, object]]] = {
    "claim": _claim,
    "assign": _assign,
    "start": _start,
    "report": _report,
    "approve": _approve,
    "return": _return,
    "cancel": _cancel,
}


def apply(ctx: TaskContext, principal: Principal, move: Move) -> Task:
    """The task after `move`: new state, the action's own changes, next version."""
    changes = EFFECTS[move.transition.action](ctx, principal, move.payload)
    return replace(ctx.task, **changes, status=move.dest, version=ctx.task.version + 1, updated_at=ctx.now)
