"""The task workflow (任务单, seed 000): 待处理 → 处理中 → 已填报 (awaiting approval) → 已审批归档, or back to work
when the hours are returned; cancellable until archived."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, BeforeValidator, Field, WithJsonSchema

from app.domain.approvals import not_deciding_now
from app.domain.errors import Conflict, DomainError, Forbidden
from app.domain.invariants import of_type
from app.domain.principal import CASE_HANDLERS, STAFF_ROLES, Principal
from app.domain.tasks import Task, outcome_of
from app.workflows.attachments import AttachmentRefs
from app.workflows.engine import Guard, Label, Move, Payload, Refusal, State, Transition, Workflow
from app.workflows.ticket_payloads import USER_ID

HOURS_PATTERN = r"^\d{1,4}(\.\d{1,2})?$"
POSITIVE_HOURS_PATTERN = r"^(?!0*(\.0*)?$)\d{1,4}(\.\d{1,2})?$"


def _hours_text(pattern: str, words: str) -> Callable[[object], object]:
    def check(value: object) -> object:
        if isinstance(value, Decimal):  # already parsed (a decision passed on by the approvals endpoint)
            return value
        if not isinstance(value, str) or not re.fullmatch(pattern, value):
            raise ValueError(f'{words} as a decimal string with at most two decimals, e.g. "7.50"')
        return value

    return check


def _hours_schema(pattern: str) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "format": "decimal", "pattern": pattern, "examples": ["7.50"]})


Hours = Annotated[Decimal, BeforeValidator(_hours_text(HOURS_PATTERN, "hours")), _hours_schema(HOURS_PATTERN)]
"""工时 in a request: a decimal string exact to 0.01 h ("7.50"), the same text every answer uses; never a JSON
number, which cannot say 0.1 h exactly. The pattern is the whole rule (at most 9999.99)."""
PositiveHours = Annotated[
    Decimal,
    BeforeValidator(_hours_text(POSITIVE_HOURS_PATTERN, "more than zero hours")),
    _hours_schema(POSITIVE_HOURS_PATTERN),
]
"""Hours that must be more than zero (worked, estimated)."""


@dataclass(frozen=True, slots=True)
class Handler:
    """The caller's own agent record, as far as taking tasks goes."""

    problem: str | None = None  # why the caller cannot take tasks at all (unregistered, inactive, not an agent)
    groups: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class TaskContext:
    """What guards see: the task, the time, the ticket's assignee (who coordinates its tasks), the numbers of open
    subtasks, who may decide the pending hours approval now (None: no approval is pending, roles decide alone) and
    the caller's agent record. Services load it the same way for a single read, a list page and an action."""

    task: Task
    now: datetime
    ticket_assignee: str | None = None
    open_subtasks: tuple[str, ...] = ()
    approvers_now: frozenset[str] | None = None
    caller: Handler = Handler()


class AssignPayload(Payload):
    assignee: str = Field(pattern=USER_ID, description="Agent user id.")


class ReportPayload(Payload):
    result: str = Field(min_length=1, max_length=10_000, description="处理结果: what was done.")
    completed_at: AwareDatetime = Field(description="实际完成时间: when the work was actually finished.")
    hours_worked: PositiveHours = Field(description="工时: hours worked, up to two decimals.")
    attachments: AttachmentRefs = Field(description="Photos and documents of the work done, by id (staff only).")


class ApprovePayload(Payload):
    approved_hours: Hours | None = Field(None, description="批准工时; defaults to the reported hours.")
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


def may_take(ctx: TaskContext, principal: Principal, _payload: object) -> str | None:
    """领取: an active registered agent; a group's task only by its members (or a manager)."""
    if ctx.caller.problem is not None:
        return f"you cannot take tasks: {ctx.caller.problem}"
    group = ctx.task.group_key
    if group is not None and not principal.is_manager and group not in ctx.caller.groups:
        return f"only members of group '{group}' claim its tasks"
    return None


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


def _cannot_take(ctx: TaskContext, _refused: Conflict) -> DomainError:
    if ctx.caller.problem is not None:
        return Forbidden(f"You cannot take tasks: {ctx.caller.problem}", code="not_an_active_agent")
    return Forbidden(f"Only members of group '{ctx.task.group_key}' claim its tasks", code="not_a_member")


NAMED_REFUSALS: dict[Guard, Refusal] = {may_take: _cannot_take}
"""Guards whose refusal answers its own error code (who may take the task)."""


TASK = Workflow[TaskContext](
    name="task",
    title=Label("任务单", "Task"),
    initial="open",
    state_of=lambda ctx: ctx.task.status,
    is_own_customer=lambda _ctx, _principal: False,
    refusals=NAMED_REFUSALS,
    states=[
        _state("open", "待处理", "Open"),
        _state("in_progress", "处理中", "In progress"),
        _state("reported", "已填报待审批", "Reported, awaiting approval"),
        _state("approved", "已审批归档", "Approved and archived", final=True),
        _state("cancelled", "已取消", "Cancelled", final=True),
    ],
    transitions=[
        Transition(
            "claim",
            ("open",),
            "open",
            CASE_HANDLERS,
            guards=(has_no_handler, may_take),
            description="领取: take a group's task.",
        ),
        Transition(
            "assign",
            ("open", "in_progress"),
            None,
            CASE_HANDLERS,
            AssignPayload,
            (coordinates,),
            description="派单: give the task to a handler.",
        ),
        Transition(
            "start",
            ("open",),
            "in_progress",
            CASE_HANDLERS,
            guards=(has_handler, is_handler_or_manager),
            description="Start the work.",
        ),
        Transition(
            "report",
            ("in_progress",),
            "reported",
            CASE_HANDLERS,
            ReportPayload,
            (is_handler, subtasks_done),
            description="填报: the result, the actual completion time and the hours worked; asks for approval.",
        ),
        Transition(
            "approve",
            ("reported",),
            "approved",
            STAFF_ROLES,
            ApprovePayload,
            (decides_now,),
            description="审批通过: approve the hours (the approved figure may differ); archives the task.",
        ),
        Transition(
            "return",
            ("reported",),
            "in_progress",
            STAFF_ROLES,
            ReasonPayload,
            (decides_now,),
            description="退回: send the report back to the handler with a reason.",
        ),
        Transition(
            "cancel",
            ("open", "in_progress", "reported"),
            "cancelled",
            CASE_HANDLERS,
            ReasonPayload,
            (coordinates,),
            description="Cancel with a reason.",
        ),
    ],
)


def to_centihours(hours: Decimal) -> int:
    return int(hours * 100)


def hours_text(centihours: int) -> str:
    """Hundredths of an hour as answers show them: "7.50"."""
    return f"{centihours // 100}.{centihours % 100:02d}"


def _claim(_ctx: TaskContext, principal: Principal, _payload: Payload) -> dict[str, object]:
    return {"assignee": principal.subject}


def _assign(_ctx: TaskContext, _principal: Principal, payload: Payload) -> dict[str, object]:
    sent = of_type(payload, AssignPayload)
    return {"assignee": sent.assignee}


def _start(ctx: TaskContext, _principal: Principal, _payload: Payload) -> dict[str, object]:
    return {"started_at": ctx.task.started_at or ctx.now}


def _report(ctx: TaskContext, _principal: Principal, payload: Payload) -> dict[str, object]:
    sent = of_type(payload, ReportPayload)
    return {
        "result": sent.result,
        "completed_at": sent.completed_at,
        "reported_centihours": to_centihours(sent.hours_worked),
        "reported_at": ctx.now,
    }


def _approve(ctx: TaskContext, principal: Principal, payload: Payload) -> dict[str, object]:
    sent = of_type(payload, ApprovePayload)
    hours = sent.approved_hours
    task = replace(
        ctx.task,
        approved_centihours=ctx.task.reported_centihours if hours is None else to_centihours(hours),
        approved_by=principal.subject,
        approval_comment=sent.comment,
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
    sent = of_type(payload, ReasonPayload)
    return {"cancel_reason": sent.reason}


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
