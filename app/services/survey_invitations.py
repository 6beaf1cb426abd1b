"""The survey invitation job (满意度邀请): reads completions from the outbox after its stored cursor, schedules one
invitation per resolution after the settings' delay in business hours, and sends those due as `survey.invited`
events carrying the public link, for SMS/IM/e-mail gateways.

Reading the outbox keeps the ticket and after-sales use cases untouched: they already record every completion (with
who did it) in the transaction that made it. The cursor walks `occurred_at` (indexed) and stops SETTLE short of now,
so that a transaction still in flight when a pass reads, whose events carry the instant its use case began, has
committed by the time the cursor passes that instant."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import structlog

from app.domain.after_sales import AfterSalesOrder
from app.domain.business_time import BusinessCalendar, NoBusinessTime
from app.domain.clock import Clock, rfc3339
from app.domain.events import OutboxCursor, OutboxEvent, cursor_after
from app.domain.ids import new_id
from app.domain.surveys import (
    FIRST_ROUND,
    SECOND_ROUND,
    Completion,
    Facts,
    SubjectType,
    Survey,
    SurveySettings,
    SurveyStatus,
    new_token,
    token_digest,
)
from app.domain.tickets import Ticket
from app.domain.unit_of_work import UnitOfWork, UnitOfWorkFactory
from app.services.tasks import SYSTEM
from app.workflows.after_sales import AFTER_SALES_WORKFLOWS, FINAL

SURVEY_INVITED = "survey.invited"
INTAKE_BATCH = 200
SEND_BATCH = 100
"""Events read and invitations sent per transaction: each is a few statements, so a batch holds SQLite's write lock
for tens of milliseconds."""
SETTLE = timedelta(minutes=2)
"""How far behind now the cursor stays: longer than any transaction that records a completion takes."""

COMPLETED = "completed"
TICKET_COMPLETIONS = ("ticket.complete", "ticket.follow_up")
"""The ticket actions that can complete a ticket (`complete`; `follow_up` satisfied or unreachable)."""
SUCCEEDED = frozenset(FINAL - {"inspection_failed", "rejected", "cancelled"})
"""After-sales orders that finished well: refunded, compensated, replacement or replenishment signed for."""
AFTER_SALES_FINISHES = tuple(
    sorted(
        {
            f"after_sales.{t.action}"
            for workflow in AFTER_SALES_WORKFLOWS.values()
            for t in workflow.transitions
            if t.dest in SUCCEEDED
        }
    )
)
FOLLOW_UP_REPORTED = "task.report"
"""A low score's follow-up task is done when its handler reports it (已填报): the second survey goes out then."""
READ_TYPES = (*TICKET_COMPLETIONS, *AFTER_SALES_FINISHES, FOLLOW_UP_REPORTED)

log = structlog.get_logger("aftersales.surveys")


def business_due(calendar: BusinessCalendar | None, start: datetime, minutes: int) -> datetime:
    """`minutes` of the calendar's working time after `start`; clock time without a calendar, or when its working
    time runs out first (a survey is better late than never)."""
    if calendar is not None:
        try:
            return calendar.add(start, minutes * 60)
        except NoBusinessTime:
            log.warning("survey_calendar_has_no_time", minutes=minutes)
    return start + timedelta(minutes=minutes)


async def calendar_of(uow: UnitOfWork, settings: SurveySettings) -> BusinessCalendar | None:
    if settings.calendar is None:
        return None
    record = await uow.business_calendars.get(settings.calendar)
    if record is None:
        log.warning("survey_calendar_missing", calendar=settings.calendar)
        return None
    return record.data.hours


def ticket_facts(ticket: Ticket, agent: Any) -> Facts:
    return Facts(
        number=ticket.number,
        customer_no=ticket.customer_no,
        title=ticket.title,
        ticket_id=ticket.id,
        agent=agent if isinstance(agent, str) and agent != SYSTEM.subject else None,
        group_key=ticket.group_key,
        sku=ticket.sku,
        region=ticket.region,
        channel=ticket.channel.value,
        business_line=ticket.business_line,
    )


def order_facts(order: AfterSalesOrder) -> Facts:
    handler = order.reviewed_by or order.assignee
    return Facts(
        number=order.number,
        customer_no=order.customer_no,
        ticket_id=order.ticket_id,
        agent=handler if handler != SYSTEM.subject else None,
        sku=order.lines[0].sku if order.lines else None,
        business_line=order.business_line,
    )


class SurveyInvitations:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def run(self) -> int:
        """One pass: the completions read since the last pass scheduled, then every invitation due sent; answers
        how many invitations it scheduled and sent."""
        return await self.intake() + await self.send_due()

    async def intake(self) -> int:
        scheduled = 0
        while True:
            async with self._uow.write() as uow:
                now = self._clock.now()
                settings = await uow.surveys.settings()
                stored = await uow.surveys.cursor()
                until = now - SETTLE
                # A first pass starts one expiry period back: an invitation for an older completion would be moot.
                cursor = stored or OutboxCursor(until - timedelta(days=settings.expiry_days))
                events = await uow.surveys.completions(cursor, until, READ_TYPES, INTAKE_BATCH)
                calendar = await calendar_of(uow, settings) if events else None
                for event in events:
                    scheduled += await self._take(uow, event, settings, calendar, now)
                full = len(events) == INTAKE_BATCH
                await uow.surveys.save_cursor(cursor_after(cursor, events, INTAKE_BATCH, until), now)
                await uow.commit()
            if not full:
                return scheduled

    async def _take(
        self,
        uow: UnitOfWork,
        event: Completion,
        settings: SurveySettings,
        calendar: BusinessCalendar | None,
        now: datetime,
    ) -> int:
        payload = event.payload
        if event.type == FOLLOW_UP_REPORTED:
            return await self._follow_up_done(uow, event, now)
        if payload.get("from_status") == payload.get("status"):
            return 0  # a repeated step of another system: nothing finished now
        if event.type in TICKET_COMPLETIONS:
            # 自动完成 (the service completing a ticket nobody followed up on) invites nobody.
            if payload.get("status") != COMPLETED or payload.get("actor") == SYSTEM.subject:
                return 0
            ticket = await uow.tickets.get(event.aggregate_id)
            if ticket is None:
                return 0
            subject, facts = SubjectType.TICKET, ticket_facts(ticket, payload.get("assignee"))
        else:
            if payload.get("status") not in SUCCEEDED or payload.get("from_status") in FINAL:
                return 0
            order = await uow.after_sales.get(event.aggregate_id)
            if order is None:
                return 0
            subject, facts = SubjectType.AFTER_SALES, order_facts(order)
        survey = Survey(
            id=new_id(),
            subject_type=subject,
            subject_id=event.aggregate_id,
            resolved_at=event.occurred_at,
            facts=facts,
            status=SurveyStatus.SCHEDULED,
            send_at=business_due(calendar, event.occurred_at, settings.delay_minutes),
            created_at=now,
            updated_at=now,
        )
        return int(await uow.surveys.add(survey))

    async def _follow_up_done(self, uow: UnitOfWork, event: Completion, now: datetime) -> int:
        """The low score's follow-up task was reported done: recorded once, and its second survey scheduled at
        once (the first report counts; a report returned and made again sends nothing more)."""
        low = await uow.surveys.by_follow_up_task(event.aggregate_id)
        if low is None or low.follow_up_done_at is not None:
            return 0
        await uow.surveys.update(
            replace(low, follow_up_done_at=event.occurred_at, version=low.version + 1, updated_at=now)
        )
        second = replace(
            low,
            id=new_id(),
            round=SECOND_ROUND,
            parent_id=low.id,
            status=SurveyStatus.SCHEDULED,
            send_at=event.occurred_at,
            version=1,
            created_at=now,
            updated_at=now,
            token_digest=None,
            sent_at=None,
            expires_at=None,
            nps_asked=False,
            answer=None,
            answered_at=None,
            edit_until=None,
            low_score=False,
            escalated_at=None,
            follow_up_task_id=None,
            follow_up_done_at=None,
        )
        return int(await uow.surveys.add(second))

    async def send_due(self) -> int:
        sent = 0
        while True:
            async with self._uow.write() as uow:
                now = self._clock.now()
                due = await uow.surveys.claim_due(now, SEND_BATCH)
                settings = await uow.surveys.settings() if due else SurveySettings()
                for survey in due:
                    sent += await self._send(uow, survey, settings, now)
                await uow.commit()
            if len(due) < SEND_BATCH:
                return sent

    async def _send(self, uow: UnitOfWork, survey: Survey, settings: SurveySettings, now: datetime) -> int:
        """Send one due invitation, unless its subject left the resolution it was for (reopened, closed): then it
        is skipped, and a new completion brings a new invitation."""
        contact: dict[str, Any] | None = None
        if survey.subject_type is SubjectType.TICKET:
            ticket = await uow.tickets.get(survey.subject_id)
            reason = _ticket_moved(ticket, survey)
            if ticket is not None:
                contact = {"name": ticket.contact.name, "phone": ticket.contact.phone, "email": ticket.contact.email}
        else:
            order = await uow.after_sales.get(survey.subject_id)
            reason = None if order is not None and order.status in SUCCEEDED else "after_sales_changed"
        if reason is not None:
            skipped = replace(survey, status=SurveyStatus.SKIPPED, skip_reason=reason, version=survey.version + 1)
            await uow.surveys.update(replace(skipped, updated_at=now))
            return 0
        since = now - timedelta(days=settings.nps_period_days)
        nps = survey.round == FIRST_ROUND and not await uow.surveys.nps_asked_since(survey.facts.customer_no, since)
        token = new_token()
        after = replace(
            survey,
            status=SurveyStatus.SENT,
            token_digest=token_digest(token),
            sent_at=now,
            expires_at=now + timedelta(days=settings.expiry_days),
            nps_asked=nps,
            version=survey.version + 1,
            updated_at=now,
        )
        await uow.surveys.update(after)
        await uow.outbox.add(
            OutboxEvent(new_id(), SURVEY_INVITED, "survey", after.id, now, _invitation(after, settings, token, contact))
        )
        return 1


def _ticket_moved(ticket: Ticket | None, survey: Survey) -> str | None:
    if ticket is None:
        return "ticket_missing"
    if ticket.status != COMPLETED:
        return f"ticket_{ticket.status}"
    if ticket.finished_at != survey.resolved_at:
        return "ticket_completed_again"  # its new completion has an invitation of its own
    return None


def event_subject(survey: Survey) -> dict[str, Any]:
    """What every `survey.*` event says of its survey: which one, of what, for whom."""
    facts = survey.facts
    return {
        "survey_id": str(survey.id),
        "subject_type": survey.subject_type.value,
        "subject_id": str(survey.subject_id),
        "number": facts.number,
        "ticket_id": str(facts.ticket_id) if facts.ticket_id else None,
        "customer_no": facts.customer_no,
    }


def _invitation(survey: Survey, settings: SurveySettings, token: str, contact: dict[str, Any] | None) -> dict[str, Any]:
    """The `survey.invited` event: whom to send which link. The link (with the token) exists in the clear only
    here and in its webhook deliveries: the survey keeps the token's digest."""
    return {
        **event_subject(survey),
        "contact": contact,
        "round": survey.round,
        "link": settings.link(token),
        "expires_at": rfc3339(survey.expires_at) if survey.expires_at else None,
        "nps_asked": survey.nps_asked,
    }
