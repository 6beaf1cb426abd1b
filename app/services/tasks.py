"""Task use cases (任务单): creation on a ticket, reads, workflow actions with the hours approval, the reminder
scan and the work-hours report. Locks go ticket → task → approval, the same order everywhere."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from app.domain.approvals import Approval, Decision, Status, SubjectKind, Verdict
from app.domain.clock import Clock
from app.domain.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from app.domain.events import TimelineEntry
from app.domain.ids import new_id
from app.domain.notifications import NotificationKind, Subject
from app.domain.pagination import Page, PageRequest
from app.domain.preconditions import Precondition
from app.domain.principal import Principal, Role
from app.domain.tasks import (
    ReminderPolicy,
    Task,
    TaskFilter,
    WorkHoursRow,
    is_task_number,
    next_reminder,
    reminder_due,
    task_number,
)
from app.domain.tickets import Ticket, TicketType
from app.domain.unit_of_work import UnitOfWork, UnitOfWorkFactory
from app.services.approvals import ApprovalEngine, ApprovalRequest
from app.services.history import record
from app.services.notifications import notify
from app.services.task_checks import (
    TaskDraft,
    check_approved_hours,
    check_claim,
    check_draft,
    check_handler,
    check_report,
)
from app.services.tickets import TicketService, ticket_not_found
from app.workflows.engine import AvailableAction, Move
from app.workflows.task import TASK, TaskContext, apply, to_centihours

SYSTEM = Principal("system", frozenset({Role.MANAGER}))
"""Who resolves a ticket when its last task is approved."""
REMINDER_BATCH = 500


@dataclass(frozen=True, slots=True)
class TaskPolicy:
    reminders: ReminderPolicy
    auto_resolve_types: frozenset[TicketType]
    """Ticket types that resolve themselves when their last task is approved."""


@dataclass(frozen=True, slots=True)
class TaskView:
    task: Task
    available_actions: list[AvailableAction]
    approval: Approval | None = None


def task_not_found(ref: UUID | str) -> NotFound:
    return NotFound(f"No task '{ref}'", code="task_not_found")


class TaskService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        policy: TaskPolicy,
        approvals: ApprovalEngine,
        tickets: TicketService,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._approvals = approvals
        self._tickets = tickets

    def _view(
        self,
        task: Task,
        principal: Principal,
        now: datetime,
        ticket_assignee: str | None = None,
        approval: Approval | None = None,
    ) -> TaskView:
        approvers = frozenset(approval.pending_approvers()) if approval else None
        ctx = TaskContext(task, now, ticket_assignee, approvers_now=approvers)
        return TaskView(task, TASK.available(ctx, principal), approval)

    async def create(self, principal: Principal, ticket_ref: UUID | str, draft: TaskDraft) -> TaskView:
        now = self._clock.now()
        async with self._uow.write() as uow:
            ticket = await _visible_ticket(uow, principal, ticket_ref, for_update=True)
            if not ticket.is_open:
                raise Conflict(
                    f"Ticket {ticket.number} is {ticket.status}; it takes no new tasks",
                    code="ticket_finished",
                    extra={"current_state": ticket.status},
                )
            if not (principal.is_manager or principal.subject == ticket.assignee):
                raise Forbidden("Only the ticket's assignee or a manager gives out its tasks", code="not_coordinator")
            await check_draft(uow, ticket, draft, now)
            task = Task(
                id=new_id(),
                number=task_number(now.year, await uow.tasks.next_sequence()),
                ticket_id=ticket.id,
                title=draft.title,
                status=TASK.initial,
                due_at=draft.due_at,
                created_by=principal.subject,
                created_at=now,
                updated_at=now,
                parent_id=draft.parent_id,
                instructions=draft.instructions,
                assignee=draft.assignee,
                group_key=draft.group_key,
                business_line=ticket.business_line,
                estimated_centihours=to_centihours(draft.estimated_hours) if draft.estimated_hours else None,
            )
            task = replace(task, next_reminder_at=next_reminder(task, self._policy.reminders))
            await uow.tasks.add(task)
            await _record(uow, task, ticket, principal, now, "create", to_status=task.status)
            await _notify_handlers(uow, task, principal, now, NotificationKind.ASSIGNMENT)
            await uow.commit()
        return self._view(task, principal, now, ticket.assignee)

    async def get(self, principal: Principal, ref: UUID | str) -> TaskView:
        async with self._uow.read() as uow:
            task, ticket = await _visible(uow, principal, ref)
            approval = await uow.approvals.pending_for(task.id)
        return self._view(task, principal, self._clock.now(), ticket.assignee, approval)

    async def list(self, principal: Principal, where: TaskFilter, page: PageRequest) -> Page[TaskView]:
        where = replace(where, business_lines=principal.business_line_scope)
        async with self._uow.read() as uow:
            found = await uow.tasks.list(where, page)
        now = self._clock.now()
        return Page([self._view(t, principal, now) for t in found.items], found.next_key)

    async def timeline(self, principal: Principal, ref: UUID | str, page: PageRequest) -> Page[TimelineEntry]:
        async with self._uow.read() as uow:
            task, _ticket = await _visible(uow, principal, ref)
            return await uow.timeline.list(task.id, page, public_only=False)

    async def act(
        self, principal: Principal, ref: UUID | str, action: str, body: dict[str, Any], precondition: Precondition
    ) -> TaskView:
        now = self._clock.now()
        async with self._uow.write() as uow:
            peek, _ = await _visible(uow, principal, ref)
            ticket = await uow.tickets.get(peek.ticket_id, for_update=True)
            assert ticket is not None  # tasks reference their ticket by foreign key
            task, _ = await _visible(uow, principal, peek.id, for_update=True)
            precondition.check(task.version)
            if action in ("approve", "return"):
                decision = Decision.APPROVE if action == "approve" else Decision.REJECT
                comment = body.get("comment") if action == "approve" else body.get("reason")
                data = {"approved_hours": body["approved_hours"]} if body.get("approved_hours") is not None else {}
                verdict = Verdict(decision, comment or body.get("remark"), data)
                after = await self._decide(uow, ticket, task, verdict, principal, now, body)
            else:
                after = await self._move(uow, ticket, task, principal, action, body, now)
            approval = await uow.approvals.pending_for(after.id)
            await uow.commit()
        return self._view(after, principal, now, ticket.assignee, approval)

    async def decide_hours(
        self, uow: UnitOfWork, task_id: UUID, verdict: Verdict, principal: Principal, now: datetime
    ) -> None:
        """The approvals endpoint's way in (see `ApprovalService.register`)."""
        peek = await uow.tasks.get(task_id)
        assert peek is not None
        ticket = await uow.tickets.get(peek.ticket_id, for_update=True)
        task = await uow.tasks.get(task_id, for_update=True)
        assert ticket is not None and task is not None
        await self._decide(uow, ticket, task, verdict, principal, now, None)

    async def _decide(
        self,
        uow: UnitOfWork,
        ticket: Ticket,
        task: Task,
        verdict: Verdict,
        principal: Principal,
        now: datetime,
        body: dict[str, Any] | None,
    ) -> Task:
        """One approver's decision on the reported hours; the chain's final outcome archives or returns the task.
        `body` is the task action's own body when the decision came that way."""
        decision, comment = verdict.decision, verdict.comment
        action = "approve" if decision is Decision.APPROVE else "return"
        payload = dict(body or {})
        if decision is Decision.APPROVE:
            payload.setdefault("comment", comment)
            if verdict.data.get("approved_hours") is not None:
                payload["approved_hours"] = verdict.data["approved_hours"]
        else:
            if not comment:
                raise InvalidInput(
                    "Say why the hours are returned",
                    code="validation_failed",
                    errors=[FieldError("/reason" if body is not None else "/comment", "required to return hours")],
                )
            payload = {"reason": comment, **({"remark": body["remark"]} if body and body.get("remark") else {})}
        # Validate the action's fields before anything is recorded: bad input writes nothing.
        ctx = TaskContext(task, now, ticket.assignee)
        move = TASK.decide(ctx, principal, action, payload)
        check_approved_hours(task, move)
        approval = await self._approvals.pending(uow, task.id, verdict.approval_id)
        hours = getattr(move.payload, "approved_hours", None)
        cast = {"approved_hours": str(hours)} if hours is not None else {}
        decided = await self._approvals.decide(uow, approval, principal, decision, comment, cast, now, _subject(task))
        if decided.status is Status.PENDING:
            return task
        return await self._commit_move(uow, ticket, task, principal, move, now)

    async def _move(
        self,
        uow: UnitOfWork,
        ticket: Ticket,
        task: Task,
        principal: Principal,
        action: str,
        body: dict[str, Any],
        now: datetime,
    ) -> Task:
        blocking = action in ("report", "cancel")
        open_subtasks = tuple(r.number for r in await uow.tasks.open_subtasks(task.id)) if blocking else ()
        ctx = TaskContext(task, now, ticket.assignee, open_subtasks)
        move = TASK.decide(ctx, principal, action, body)
        if action == "assign":
            await check_handler(uow, move.payload.assignee, "/assignee")  # type: ignore[attr-defined]
        elif action == "claim":
            await check_claim(uow, task, principal)
        elif action == "report":
            check_report(task, move, now)
        elif action == "cancel" and task.status == "reported":
            await self._approvals.cancel_pending(uow, task.id, now)
        after = await self._commit_move(uow, ticket, task, principal, move, now)
        if action == "report":
            await self._request_approval(uow, ticket, after, principal, now)
        if action == "assign":
            await _notify_handlers(uow, after, principal, now, NotificationKind.ASSIGNMENT)
        return after

    async def _commit_move(
        self, uow: UnitOfWork, ticket: Ticket, task: Task, principal: Principal, move: Move, now: datetime
    ) -> Task:
        after = apply(TaskContext(task, now, ticket.assignee), principal, move)
        after = replace(after, next_reminder_at=next_reminder(after, self._policy.reminders))
        await uow.tasks.update(after)
        await _record(
            uow,
            after,
            ticket,
            principal,
            now,
            move.transition.action,
            from_status=task.status,
            to_status=after.status,
            remark=move.payload.remark,
            payload=move.payload.model_dump(mode="json", exclude={"remark"}, exclude_none=True),
        )
        if after.status == "approved":
            await self._maybe_resolve(uow, ticket, now)
        return after

    async def _request_approval(
        self, uow: UnitOfWork, ticket: Ticket, task: Task, principal: Principal, now: datetime
    ) -> None:
        request = ApprovalRequest(
            kind=SubjectKind.TASK_HOURS,
            subject=_subject(task),
            title=f"工时审批 {task.title}",
            requested_by=principal.subject,
            owner=task.assignee,
            facts={
                "ticket": ticket.number,
                "reported_hours": (task.reported_centihours or 0) / 100,
                "completed_at": task.completed_at.isoformat() if task.completed_at else None,
                "due_at": task.due_at.isoformat(),
            },
        )
        approval = await self._approvals.request(uow, request, now)
        if approval.status is Status.APPROVED:  # no level applies: the hours stand as reported
            move = TASK.decide(TaskContext(task, now, ticket.assignee), SYSTEM, "approve", {})
            await self._commit_move(uow, ticket, task, SYSTEM, move, now)

    async def _maybe_resolve(self, uow: UnitOfWork, ticket: Ticket, now: datetime) -> None:
        """When the last task is approved, resolve the ticket (for the configured types) with the tasks' results."""
        if ticket.type not in self._policy.auto_resolve_types or ticket.status != "in_progress":
            return
        if await uow.tasks.unfinished_of_ticket(ticket.id):
            return
        done = await uow.tasks.list(TaskFilter(ticket_id=ticket.id, statuses=("approved",)), PageRequest(limit=100))
        results = "；".join(f"{t.number} {t.title}: {t.result}" for t in reversed(done.items) if t.result)
        body = {"solution": results[:5000] or "任务已全部完成", "remark": "所有任务已审批，工单自动解决"}
        await self._tickets.act_in(uow, ticket, SYSTEM, "resolve", body, now)

    async def cancel_with_ticket(self, uow: UnitOfWork, ticket: Ticket, principal: Principal, now: datetime) -> None:
        """A closed or cancelled ticket takes its unfinished tasks (and their hours approvals) with it."""
        reason = f"ticket {ticket.number} {ticket.status}"
        for ref in await uow.tasks.unfinished_of_ticket(ticket.id):
            task = await uow.tasks.get(ref.id, for_update=True)
            assert task is not None
            move = TASK.decide(TaskContext(task, now, ticket.assignee), SYSTEM, "cancel", {"reason": reason})
            if task.status == "reported":
                await self._approvals.cancel_pending(uow, task.id, now)
            await self._commit_move(uow, ticket, task, principal, move, now)

    async def remind(self) -> int:
        """One reminder scan: each task due soon or overdue gets its one notification (a dedupe key guards against
        a second), in batches of REMINDER_BATCH, each its own transaction; returns how many were sent."""
        sent = 0
        while True:
            scanned, notified = await self._remind_batch(self._clock.now())
            sent += notified
            if scanned < REMINDER_BATCH:
                return sent

    async def _remind_batch(self, now: datetime) -> tuple[int, int]:
        sent = 0
        async with self._uow.write() as uow:
            due = await uow.tasks.due_for_reminder(now, REMINDER_BATCH)
            for task in due:
                kind = reminder_due(task, now, self._policy.reminders)
                after = task
                if kind == "overdue":
                    after = replace(task, due_soon_notified=True, overdue_notified=True)
                    sent += await _notify_handlers(uow, task, SYSTEM, now, NotificationKind.TASK_OVERDUE)
                elif kind == "due_soon":
                    after = replace(task, due_soon_notified=True)
                    sent += await _notify_handlers(uow, task, SYSTEM, now, NotificationKind.TASK_DUE_SOON)
                await uow.tasks.update(replace(after, next_reminder_at=next_reminder(after, self._policy.reminders)))
            await uow.commit()
        return len(due), sent

    async def work_hours(
        self, principal: Principal, start: datetime, end: datetime, assignee: str | None, page: PageRequest
    ) -> Page[WorkHoursRow]:
        """Managers see everyone's figures; agents only their own."""
        if not principal.is_manager:
            if assignee not in (None, principal.subject):
                raise Forbidden("Only managers see other handlers' hours", code="role_not_allowed")
            assignee = principal.subject
        async with self._uow.read() as uow:
            return await uow.tasks.work_hours(start, end, assignee, page)


def _subject(task: Task) -> Subject:
    return Subject("task", task.id, task.number)


async def _visible_ticket(uow: UnitOfWork, principal: Principal, ref: UUID | str, *, for_update: bool) -> Ticket:
    ticket = await uow.tickets.get(ref, for_update=for_update)
    if ticket is None or not principal.can_see_business_line(ticket.business_line):
        raise ticket_not_found(ref)
    return ticket


async def _visible(
    uow: UnitOfWork, principal: Principal, ref: UUID | str, *, for_update: bool = False
) -> tuple[Task, Ticket]:
    if isinstance(ref, str) and not is_task_number(ref):
        raise task_not_found(ref)
    task = await uow.tasks.get(ref, for_update=for_update)
    if task is None or not principal.can_see_business_line(task.business_line):
        raise task_not_found(ref)
    ticket = await uow.tickets.get(task.ticket_id)
    assert ticket is not None
    return task, ticket


async def _notify_handlers(uow: UnitOfWork, task: Task, actor: Principal, now: datetime, kind: NotificationKind) -> int:
    """The handler, or the group's active members while nobody has the task; an overdue task also reaches the
    handler's supervisor (超时上报主管)."""
    recipients = [task.assignee] if task.assignee else await uow.agents.active_members(task.group_key or "")
    if kind is NotificationKind.TASK_OVERDUE and task.assignee:
        handler = await uow.agents.get(task.assignee)
        recipients.append(handler.data.supervisor if handler else None)
    titles = {
        NotificationKind.ASSIGNMENT: ("新任务", "New task"),
        NotificationKind.TASK_DUE_SOON: ("任务即将到期", "Task due soon"),
        NotificationKind.TASK_OVERDUE: ("任务已超期", "Task overdue"),
    }
    zh, en = titles[kind]
    dedupe = f"task:{task.id}:{kind.value}" if kind is not NotificationKind.ASSIGNMENT else None
    return await notify(
        uow,
        recipients=recipients,
        kind=kind,
        subject=_subject(task),
        title={"zh-CN": f"{zh}：{task.number} {task.title}", "en": f"{en}: {task.number} {task.title}"},
        now=now,
        actor=actor.subject,
        data={"due_at": task.due_at.isoformat(), "ticket_id": str(task.ticket_id)},
        dedupe_key=dedupe,
    )


async def _record(
    uow: UnitOfWork,
    task: Task,
    ticket: Ticket,
    principal: Principal,
    now: datetime,
    action: str,
    *,
    from_status: str | None = None,
    to_status: str | None = None,
    remark: str | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """The task's own timeline entry and outbox event, and a line on its ticket's (internal) timeline."""
    event = {
        "task_id": str(task.id),
        "number": task.number,
        "ticket_id": str(ticket.id),
        "ticket_number": ticket.number,
        "status": task.status,
        "from_status": from_status,
        "assignee": task.assignee,
        "actor": principal.subject,
    }
    await record(
        uow,
        aggregate="task",
        subject_id=task.id,
        actor=principal.subject,
        now=now,
        kind="created" if action == "create" else "action",
        action=action,
        event=event,
        from_status=from_status,
        to_status=to_status,
        remark=remark,
        payload=payload,
        public=False,
    )
    await uow.timeline.add(
        TimelineEntry(
            new_id(),
            ticket.id,
            now,
            principal.subject,
            "task",
            f"task_{action}",
            remark=remark,
            payload={
                "task_id": str(task.id),
                "number": task.number,
                "from_status": from_status,
                "to_status": to_status,
                "title": task.title,
                "assignee": task.assignee,
            },
            public=False,
        )
    )
