"""The low-score loop (差评 → 客诉升级): a survey answered low escalates its ticket or after-sales order, tells the
handler's supervisor, and gives the supervisor a follow-up task (回访任务) with its own due time; the task's report
sends the second survey (app/services/survey_invitations.py). All of it in the answer's transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

from app.domain.clock import rfc3339
from app.domain.ids import new_id
from app.domain.notifications import NotificationKind
from app.domain.notifications import Subject as NotificationSubject
from app.domain.principal import Principal, Role
from app.domain.surveys import FIRST_ROUND, REASON_LABELS, SubjectType, Survey, SurveySettings
from app.domain.tasks import ReminderPolicy, Task, next_reminder, task_number
from app.domain.tickets import Channel, Priority, Ticket, TicketType
from app.domain.unit_of_work import UnitOfWork
from app.domain.urging import MAX_ESCALATION_LEVEL
from app.services.history import Change, record_after_sales_change, record_ticket_change
from app.services.notifications import notify
from app.services.survey_invitations import business_due, calendar_of
from app.services.tasks import SYSTEM, notify_task_handlers, record_task_change
from app.services.tickets import TicketDraft
from app.workflows.task import TASK

ESCALATION_REASON = "survey_low_score"


OpenTicket = Callable[[UnitOfWork, Principal, TicketDraft, datetime], Awaitable[Ticket]]
"""Takes a ticket in within the caller's transaction (TicketService.open_in)."""
FOLLOW_UP_CATEGORY = "survey_follow_up"


async def escalate_low_score(
    uow: UnitOfWork,
    survey: Survey,
    settings: SurveySettings,
    reminders: ReminderPolicy,
    now: datetime,
    open_ticket: OpenTicket,
) -> Survey:
    """Run the loop once for a survey just answered low; answers the survey as it leaves it (escalated, with its
    follow-up task). A second survey answered low escalates and notifies again, but starts no third round."""
    supervisor = await _supervisor(uow, survey.facts.agent)
    detail = _detail(survey)
    if survey.subject_type is SubjectType.TICKET:
        subject = await _escalate_ticket(uow, survey, detail, now)
    else:
        subject = await _escalate_order(uow, survey, detail, now)
    task: Task | None = None
    if survey.round == FIRST_ROUND:
        ticket_id = survey.facts.ticket_id or (await _follow_up_ticket(uow, survey, open_ticket, now)).id
        task = await _follow_up_task(uow, survey, ticket_id, supervisor, settings, reminders, now)
    recipients = [supervisor] if supervisor else await uow.agents.active_with_role(Role.MANAGER)
    number = survey.facts.number
    csat = survey.answer.csat if survey.answer else None
    await notify(
        uow,
        recipients=recipients,
        kind=NotificationKind.ESCALATION,
        subject=subject,
        title={
            "zh-CN": f"客诉升级：{number} 满意度评价 {csat} 分",
            "en": f"Complaint escalation: {number} was rated {csat} of 5",
        },
        now=now,
        actor=SYSTEM.subject,
        data={
            **detail,
            "follow_up_task": {"id": str(task.id), "number": task.number, "due_at": rfc3339(task.due_at)}
            if task
            else None,
        },
        dedupe_key=f"survey:{survey.id}:low_score",
    )
    return replace(survey, escalated_at=now, follow_up_task_id=task.id if task else None)


def _detail(survey: Survey) -> dict[str, Any]:
    answer = survey.answer
    return {
        "reason": ESCALATION_REASON,
        "survey_id": str(survey.id),
        "round": survey.round,
        "csat": answer.csat if answer else None,
        "nps": answer.nps if answer else None,
        "reasons": [r.value for r in answer.reasons] if answer else [],
        "comment": answer.comment if answer else None,
    }


async def _supervisor(uow: UnitOfWork, agent: str | None) -> str | None:
    """The handler's supervisor (主管, the team lead) as the agent record names them."""
    if agent is None:
        return None
    found = await uow.agents.get(agent)
    return found.data.supervisor if found else None


async def _escalate_ticket(
    uow: UnitOfWork, survey: Survey, detail: dict[str, Any], now: datetime
) -> NotificationSubject:
    """客诉升级 of a completed ticket, as the SLA escalation records it: the escalation level one step up (never past
    the highest) and an internal `escalate` entry by the system naming the survey. The workflow's own `escalate`
    takes open tickets only; a low score arrives after completion."""
    ticket = await uow.tickets.get(survey.subject_id, for_update=True)
    if ticket is None:
        return NotificationSubject("ticket", survey.subject_id, survey.facts.number)
    level = min(ticket.escalation_level + 1, MAX_ESCALATION_LEVEL)
    after = ticket
    if level != ticket.escalation_level:
        after = replace(ticket, escalation_level=level, version=ticket.version + 1, updated_at=now)
        await uow.tickets.update(after, ticket)
    payload = {**detail, "escalation_level": {"from": ticket.escalation_level, "to": level}}
    change = Change("action", "escalate", ticket.status, after.status, payload=payload, public=False)
    await record_ticket_change(uow, after, SYSTEM.subject, now, change)
    return NotificationSubject("ticket", ticket.id, ticket.number)


async def _escalate_order(
    uow: UnitOfWork, survey: Survey, detail: dict[str, Any], now: datetime
) -> NotificationSubject:
    order = await uow.after_sales.get(survey.subject_id, for_update=True)
    if order is None:
        return NotificationSubject("after_sales", survey.subject_id, survey.facts.number)
    level = min(order.escalation_level + 1, MAX_ESCALATION_LEVEL)
    after = order
    if level != order.escalation_level:
        after = replace(order, escalation_level=level, version=order.version + 1, updated_at=now)
        await uow.after_sales.update(after)
    payload = {**detail, "escalation_level": {"from": order.escalation_level, "to": level}}
    change = Change("action", "escalate", order.status, after.status, payload=payload, public=False)
    await record_after_sales_change(uow, after, SYSTEM.subject, now, change)
    return NotificationSubject("after_sales", order.id, order.number)


async def _follow_up_ticket(uow: UnitOfWork, survey: Survey, open_ticket: OpenTicket, now: datetime) -> Ticket:
    """An after-sales order that came from no ticket: the loop opens one (差评回访, type `other`, category
    `survey_follow_up`, high priority: not a new complaint, which would count twice in the churn score and the repeat
    rule) for the follow-up task to hang on; it waits in the claim pool like any new ticket."""
    csat = survey.answer.csat if survey.answer else "-"
    draft = TicketDraft(
        channel=Channel.OTHER,
        type=TicketType.OTHER,
        title=f"差评回访：{survey.facts.number}",
        description=f"客户对售后单 {survey.facts.number} 的满意度评价为 {csat} 分，需回访了解情况并跟进处理。",
        customer_no=survey.facts.customer_no,
        priority=Priority.HIGH,
        category=FOLLOW_UP_CATEGORY,
    )
    return await open_ticket(uow, SYSTEM, draft, now)


async def _follow_up_task(
    uow: UnitOfWork,
    survey: Survey,
    ticket_id: UUID,
    supervisor: str | None,
    settings: SurveySettings,
    reminders: ReminderPolicy,
    now: datetime,
) -> Task | None:
    """The supervisor's follow-up task on the ticket (for an after-sales order, the ticket it came from or the one
    the loop opened), due `follow_up_due_minutes` of working time from now. Without a supervisor it waits unassigned
    for the ticket's group (any agent's when the ticket has none) and the managers are told. Tasks are internal: the
    title and instructions are for staff."""
    ticket = await uow.tickets.get(ticket_id, for_update=True)
    if ticket is None:
        return None
    handler = await uow.agents.get(supervisor) if supervisor else None
    assignee = supervisor if handler is not None and handler.data.active else None
    calendar = await calendar_of(uow, settings)
    answer = survey.answer
    reasons = "、".join(REASON_LABELS[r].zh for r in answer.reasons) if answer else ""
    instructions = (
        f"客户对 {survey.facts.number} 的满意度评价为 {answer.csat if answer else '-'} 分"
        + (f"（原因：{reasons}）" if reasons else "")
        + (f"，留言：{answer.comment}" if answer and answer.comment else "")
        + "。请联系客户了解情况并跟进处理；任务填报后系统将再次发送满意度调查。"
    )
    task = Task(
        id=new_id(),
        number=task_number(now.year, await uow.tasks.next_sequence()),
        ticket_id=ticket.id,
        title=f"差评回访：{survey.facts.number}",
        status=TASK.initial,
        due_at=business_due(calendar, now, settings.follow_up_due_minutes),
        created_by=SYSTEM.subject,
        created_at=now,
        updated_at=now,
        instructions=instructions[:10_000],
        assignee=assignee,
        group_key=None if assignee else ticket.group_key,
        business_line=ticket.business_line,
    )
    task = replace(task, next_reminder_at=next_reminder(task, reminders))
    await uow.tasks.add(task)
    await record_task_change(uow, task, ticket, SYSTEM, now, Change("created", "create", to_status=task.status))
    await notify_task_handlers(uow, task, SYSTEM, now, NotificationKind.ASSIGNMENT)
    return task
