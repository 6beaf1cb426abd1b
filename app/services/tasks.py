"""Task use cases (任务单): creation on a ticket, reads, workflow actions with the hours approval, the reminder
scan and the work-hours report. Locks go ticket → task → approval, the same order everywhere."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from app.domain.approvals import Approval, Decision, Status, SubjectKind, Verdict
from app.domain.attachment_links import SubjectType
from app.domain.clock import Clock, rfc3339
from app.domain.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from app.domain.events import TimelineEntry
from app.domain.ids import new_id
from app.domain.invariants import present
from app.domain.notifications import NotificationKind, Subject
from app.domain.pagination import Page, PageRequest
from app.domain.preconditions import Precondition
from app.domain.principal import CASE_HANDLERS, Principal, Role
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
from app.domain.tickets import Ticket, TicketType, tasks_finished
from app.domain.unit_of_work import UnitOfWork, UnitOfWorkFactory
from app.services.approvals import ApprovalEngine, ApprovalRequest
from app.services.attachment_links import Attached, Attaching, AttachmentLinker
from app.services.history import Change, record_change
from app.services.notifications import notify
from app.services.task_checks import (
    TaskDraft,
    check_approved_hours,
    check_draft,
    check_handler,
    check_report,
    handler_of,
)
from app.services.tickets import TicketService, ticket_not_found
from app.workflows.attachments import ids_of
from app.workflows.engine import AvailableAction, Move
from app.workflows.standard_texts import RESOLVED_BY_TASKS
from app.workflows.task import TASK, Handler, TaskContext, apply, hours_text, to_centihours
from app.workflows.ticket import TICKET

SYSTEM = Principal("system", frozenset({Role.MANAGER}))
"""Who moves a ticket on the service's own account: assigns it when a task is claimed, resolves it when the last task
is approved, completes it when nobody followed up on its resolution (app/services/ticket_auto_close.py)."""
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
        linker: AttachmentLinker,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._approvals = approvals
        self._tickets = tickets
        self._linker = linker

    async def _views(
        self, uow: UnitOfWork, tasks: Sequence[Task], principal: Principal, now: datetime
    ) -> list[TaskView]:
        approvals = await uow.approvals.pending_for_subjects([t.id for t in tasks if t.status == "reported"])
        contexts = await _contexts(uow, tasks, principal, now, approvals)
        return [TaskView(ctx.task, TASK.available(ctx, principal), approvals.get(ctx.task.id)) for ctx in contexts]

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
            await record_task_change(
                uow, task, ticket, principal, now, Change("created", "create", to_status=task.status)
            )
            await notify_task_handlers(uow, task, principal, now, NotificationKind.ASSIGNMENT)
            await self._take_on(uow, ticket, task, principal, now)
            [view] = await self._views(uow, [task], principal, now)
            await uow.commit()
        return view

    async def get(self, principal: Principal, ref: UUID | str) -> TaskView:
        async with self._uow.read() as uow:
            task, _ticket = await _visible(uow, principal, ref)
            [view] = await self._views(uow, [task], principal, self._clock.now())
        return view

    async def list(self, principal: Principal, where: TaskFilter, page: PageRequest) -> Page[TaskView]:
        where = replace(where, business_lines=principal.business_line_scope)
        async with self._uow.read() as uow:
            found = await uow.tasks.list(where, page)
            return Page(await self._views(uow, found.items, principal, self._clock.now()), found.next_key)

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
            ticket = present(await uow.tickets.get(peek.ticket_id, for_update=True), "the task's ticket")
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
            [view] = await self._views(uow, [after], principal, now)
            await uow.commit()
        return view

    async def decide_hours(
        self, uow: UnitOfWork, task_id: UUID, verdict: Verdict, principal: Principal, now: datetime
    ) -> None:
        """The approvals endpoint's way in (see `ApprovalService.register`)."""
        peek = present(await uow.tasks.get(task_id), "the approval's task")
        ticket = present(await uow.tickets.get(peek.ticket_id, for_update=True), "the task's ticket")
        task = present(await uow.tasks.get(task_id, for_update=True), "the approval's task")
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
        # Validate the action's fields before anything is recorded: bad input writes nothing. Who may decide is the
        # approval's own rule (the buttons read it as `approvers_now`); deciding answers its specific refusal
        # (self_approval, not_an_approver, already_decided), so the context here leaves the approvers out.
        [ctx] = await _contexts(uow, [task], principal, now, {})
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
        [ctx] = await _contexts(uow, [task], principal, now, {})
        move = TASK.decide(ctx, principal, action, body)
        if action == "assign":
            await check_handler(uow, move.payload.assignee, "/assignee")  # type: ignore[attr-defined]
        attached: Attached | None = None
        if action == "report":
            check_report(task, move, now)
            files = Attaching(ids_of(getattr(move.payload, "attachments", [])))
            attached = await self._linker.check(
                uow, principal, files, customer_no=ticket.customer_no, subject=(SubjectType.TASK, task.id)
            )
        elif action == "cancel" and task.status == "reported":
            await self._approvals.cancel_pending(uow, task.id, now)
        after = await self._commit_move(uow, ticket, task, principal, move, now, attached)
        if action == "report":
            await self._request_approval(uow, ticket, after, principal, now)
        if action in ("assign", "claim"):
            await self._take_on(uow, ticket, after, principal, now)
        if action == "assign":
            await notify_task_handlers(uow, after, principal, now, NotificationKind.ASSIGNMENT)
        return after

    async def _commit_move(
        self,
        uow: UnitOfWork,
        ticket: Ticket,
        task: Task,
        principal: Principal,
        move: Move,
        now: datetime,
        attached: Attached | None = None,
    ) -> Task:
        """`attached`: the files a report attaches, checked; they replace the task's (a task report is staff-only:
        its files are never the customer's to read)."""
        after = apply(TaskContext(task, now, ticket.assignee), principal, move)
        after = replace(after, next_reminder_at=next_reminder(after, self._policy.reminders))
        if attached is not None:
            after = replace(after, attachments=attached.snapshots())
        await uow.tasks.update(after)
        fields_sent = move.payload.model_dump(mode="json", exclude={"remark"}, exclude_none=True)
        if attached is not None:
            fields_sent["attachments"] = attached.as_json()
        change = Change("action", move.transition.action, task.status, after.status, move.payload.remark, fields_sent)
        await record_task_change(uow, after, ticket, principal, now, change)
        if attached is not None:
            subject = (SubjectType.TASK, after.id)
            await self._linker.link(uow, attached, subject, public=False, actor=principal.subject, now=now)
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
                "reported_hours": hours_text(task.reported_centihours or 0),
                "completed_at": rfc3339(task.completed_at) if task.completed_at else None,
                "due_at": rfc3339(task.due_at),
            },
        )
        approval = await self._approvals.request(uow, request, now)
        if approval.status is Status.APPROVED:  # no level applies: the hours stand as reported
            move = TASK.decide(TaskContext(task, now, ticket.assignee), SYSTEM, "approve", {})
            await self._commit_move(uow, ticket, task, SYSTEM, move, now)

    async def _take_on(self, uow: UnitOfWork, ticket: Ticket, task: Task, principal: Principal, now: datetime) -> None:
        """Seed 000: a new complaint given out as a task is 已分配 (assigned), to the task's handler unless it has an
        assignee; a manager's own move when a manager gave the task out."""
        assignee = ticket.assignee or task.assignee
        if ticket.status != "new" or assignee is None:
            return
        mover = principal if principal.is_manager else SYSTEM
        await self._tickets.act_in(uow, ticket, mover, "assign", {"assignee": assignee}, now)

    async def _maybe_resolve(self, uow: UnitOfWork, ticket: Ticket, now: datetime) -> None:
        """When the last task is approved, the ticket (of the configured types) resolves itself, its work started
        first if it was only assigned. The customer reads a standard text in their language; what the tasks
        reported stays in the resolution's internal note."""
        if ticket.type not in self._policy.auto_resolve_types:
            return
        [ctx] = await self._tickets.contexts_in(uow, [ticket], SYSTEM, now)
        if tasks_finished(ctx, SYSTEM, None) is not None:
            return
        steps = {a.action for a in TICKET.available(ctx, SYSTEM)}
        if "resolve" not in steps:
            if "start" not in steps:
                return  # e.g. waiting on the customer: the assignee resolves it when the answer comes
            ticket = await self._tickets.act_in(uow, ticket, SYSTEM, "start", {}, now)
        done = await uow.tasks.list(TaskFilter(ticket_id=ticket.id, statuses=("approved",)), PageRequest(limit=100))
        results = "\n".join(f"{t.number} {t.title}: {t.result}" for t in reversed(done.items) if t.result)
        body = {"solution": RESOLVED_BY_TASKS.text(), "internal_note": results[:10_000] or None}
        await self._tickets.act_in(uow, ticket, SYSTEM, "resolve", body, now)

    async def cancel_with_ticket(self, uow: UnitOfWork, ticket: Ticket, principal: Principal, now: datetime) -> None:
        """A closed or cancelled ticket takes its unfinished tasks (and their hours approvals) with it."""
        reason = f"ticket {ticket.number} {ticket.status}"
        for ref in await uow.tasks.unfinished_of_ticket(ticket.id):
            task = present(await uow.tasks.get(ref.id, for_update=True), "an unfinished task")
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
                    sent += await notify_task_handlers(uow, task, SYSTEM, now, NotificationKind.TASK_OVERDUE)
                elif kind == "due_soon":
                    after = replace(task, due_soon_notified=True)
                    sent += await notify_task_handlers(uow, task, SYSTEM, now, NotificationKind.TASK_DUE_SOON)
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


async def _contexts(
    uow: UnitOfWork, tasks: Sequence[Task], principal: Principal, now: datetime, approvals: Mapping[UUID, Approval]
) -> list[TaskContext]:
    """What the guards see for each task, loaded the same way for a single read, a page and an action: one query per
    page for the tickets' assignees and for the open subtasks, and the caller's agent record once when some task
    could be claimed. `approvals`: the pending hours approvals already loaded (their open slots decide now)."""
    assignees = await uow.tickets.assignees({t.ticket_id for t in tasks})
    subtasks = await uow.tasks.open_subtasks_by_parent([t.id for t in tasks if t.is_open])
    claimable = principal.has_any(CASE_HANDLERS) and any(t.status == "open" and t.assignee is None for t in tasks)
    caller = await handler_of(uow, principal.subject) if claimable else Handler()
    contexts = []
    for task in tasks:
        approval = approvals.get(task.id)
        approvers = frozenset(approval.pending_approvers()) if approval else None
        contexts.append(
            TaskContext(task, now, assignees.get(task.ticket_id), subtasks.get(task.id, ()), approvers, caller)
        )
    return contexts


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
    ticket = present(await uow.tickets.get(task.ticket_id), "the task's ticket")
    return task, ticket


async def notify_task_handlers(
    uow: UnitOfWork, task: Task, actor: Principal, now: datetime, kind: NotificationKind
) -> int:
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
        data={"due_at": rfc3339(task.due_at), "ticket_id": str(task.ticket_id)},
        dedupe_key=dedupe,
    )


async def record_task_change(
    uow: UnitOfWork, task: Task, ticket: Ticket, principal: Principal, now: datetime, change: Change
) -> None:
    """The task's own (internal) timeline entry and outbox event, and a line on its ticket's internal timeline."""
    facts = {
        "task_id": str(task.id),
        "number": task.number,
        "ticket_id": str(ticket.id),
        "ticket_number": ticket.number,
        "status": task.status,
        "assignee": task.assignee,
    }
    await record_change(uow, "task", task.id, facts, principal.subject, now, replace(change, public=False))
    await uow.timeline.add(
        TimelineEntry(
            new_id(),
            ticket.id,
            now,
            principal.subject,
            "task",
            f"task_{change.action}",
            remark=change.remark,
            payload={
                "task_id": str(task.id),
                "number": task.number,
                "from_status": change.from_status,
                "to_status": change.to_status,
                "title": task.title,
                "assignee": task.assignee,
            },
            public=False,
        )
    )
