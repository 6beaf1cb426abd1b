"""流失预警 (churn warning): the settings, and the job that keeps each customer's stored churn score current and warns
when it crosses the threshold (app/domain/churn.py has the formula).

The job reads the outbox after its stored cursor, as the survey invitations do: every event that may add a fact (a
ticket created, a refund paid, a survey answered, an SLA breach) re-scores its customer, once per batch however many
of their events it holds, from facts counted in SQL over the window. The cursor stays SETTLE behind now, so that an
event whose transaction was still committing when a pass read is not passed over.

Time lowers scores too, as facts leave the window, and no event says so: each pass also re-scores the customers
scoring above 0 whose score is older than REFRESH_AFTER. So a stored score is at most a day (and a pass) old, a score
that fell below the threshold is seen to fall, and the next crossing warns again. Reads never score: the overview and
the list show the stored score, and only this job, under the cursor's lock and each customer's row lock, compares the
new score with the stored one, so each crossing is one `risk.churn_warning` event and one inbox notification per
manager. A settings change applies to each customer at their next re-score (an event, or the daily refresh)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from app.domain.after_sales import MONEY_TYPES
from app.domain.churn import (
    REFUNDED,
    ChurnParams,
    ChurnScore,
    ChurnSettings,
    ChurnStanding,
    ScoredCustomer,
    churn_score,
    crossed,
)
from app.domain.clock import Clock
from app.domain.events import OutboxCursor, OutboxEvent, cursor_after
from app.domain.ids import new_id
from app.domain.notifications import NotificationKind
from app.domain.notifications import Subject as NotificationSubject
from app.domain.preconditions import Precondition
from app.domain.principal import Principal, Role
from app.domain.unit_of_work import UnitOfWork, UnitOfWorkFactory
from app.services.notifications import notify
from app.services.sla import SLA_BREACHED
from app.services.surveys import SURVEY_ANSWERED
from app.services.tasks import SYSTEM
from app.workflows.after_sales import AFTER_SALES_WORKFLOWS

CHURN_WARNING = "risk.churn_warning"
EVENT_TYPES = frozenset({CHURN_WARNING})
REFUNDS_PAID = tuple(
    sorted(
        {
            f"after_sales.{t.action}"
            for kind in MONEY_TYPES
            for t in AFTER_SALES_WORKFLOWS[kind].transitions
            if t.dest == REFUNDED
        }
    )
)
READ_TYPES = ("ticket.created", *REFUNDS_PAID, SURVEY_ANSWERED, SLA_BREACHED)
"""The events after which a customer's facts may have grown: a complaint ticket, a refund paid out, a detractor
answer, a breached deadline."""
INTAKE_BATCH = 50
REFRESH_BATCH = 50
"""Events read, and stale scores refreshed, per transaction. On SQLite a batch holds the one write lock that requests
wait for: measured here, a re-score (three statements) took 1.4-2.4 ms, so a batch of distinct customers keeps
writers waiting about 70-120 ms."""
SETTLE = timedelta(minutes=2)
"""How far behind now the cursor stays: longer than any transaction that records one of READ_TYPES takes."""
REFRESH_AFTER = timedelta(days=1)
"""How old a score above 0 may get before the job computes it again for the facts that left the window."""


def warning_payload(customer: ScoredCustomer, score: ChurnScore, threshold: int) -> dict[str, Any]:
    """The `risk.churn_warning` event, which is also the notification's data."""
    return {
        "customer_no": customer.customer_no,
        "score": score.score,
        "reasons": [{"code": reason.code.value, "points": reason.points} for reason in score.reasons],
        "threshold": threshold,
    }


class ChurnService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def settings(self) -> ChurnSettings:
        async with self._uow.read() as uow:
            return await uow.churn.settings()

    async def set_settings(
        self, principal: Principal, params: ChurnParams, precondition: Precondition
    ) -> ChurnSettings:
        """Replace the settings, the stored document locked while If-Match is checked (ETag "0" before the first
        save)."""
        async with self._uow.write() as uow:
            current = await uow.churn.settings(for_update=True)
            precondition.check(current.version)
            saved = await uow.churn.save_settings(
                ChurnSettings(params, current.version), principal.subject, self._clock.now()
            )
            await uow.commit()
        return saved

    async def run(self) -> int:
        """One pass: the customers touched since the last pass re-scored, then the stale scores; answers how many
        customers it scored."""
        return await self.intake() + await self.refresh()

    async def intake(self) -> int:
        scored = 0
        while True:
            async with self._uow.write() as uow:
                now = self._clock.now()
                stored = await uow.churn.cursor()
                params = (await uow.churn.settings()).params
                until = now - SETTLE
                # A first pass starts one window back: every fact the score counts is after that.
                cursor = stored or OutboxCursor(until - timedelta(days=params.window_days))
                touches = await uow.churn.touches(cursor, until, READ_TYPES, INTAKE_BATCH)
                for customer_no in dict.fromkeys(t.customer_no for t in touches if t.customer_no is not None):
                    scored += await self._rescore(uow, customer_no, params, now)
                full = len(touches) == INTAKE_BATCH
                await uow.churn.save_cursor(cursor_after(cursor, touches, INTAKE_BATCH, until), now)
                await uow.commit()
            if not full:
                return scored

    async def refresh(self) -> int:
        refreshed = 0
        while True:
            async with self._uow.write() as uow:
                now = self._clock.now()
                due = await uow.churn.stale(now - REFRESH_AFTER, REFRESH_BATCH)
                if due:
                    params = (await uow.churn.settings()).params
                    for customer_no in due:
                        refreshed += await self._rescore(uow, customer_no, params, now)
                    await uow.commit()
            if len(due) < REFRESH_BATCH:
                return refreshed

    async def _rescore(self, uow: UnitOfWork, customer_no: str, params: ChurnParams, now: datetime) -> int:
        """Score the customer from their facts now, store it, and warn when it crossed the threshold since the
        stored score."""
        customer = await uow.churn.customer(customer_no)
        if customer is None:
            return 0
        facts = await uow.churn.facts(customer_no, now - timedelta(days=params.window_days), params.currency)
        score = churn_score(facts, params)
        before = customer.standing
        warns = crossed(before.score if before else None, score.score, params.threshold)
        warned_at = now if warns else before.warned_at if before else None
        await uow.churn.save_standing(customer_no, ChurnStanding(score.score, score.reasons, now, warned_at))
        if warns:
            await self._warn(uow, customer, score, params.threshold, now)
        return 1

    async def _warn(
        self, uow: UnitOfWork, customer: ScoredCustomer, score: ChurnScore, threshold: int, now: datetime
    ) -> None:
        """The outbox event, and the managers' inbox: someone should call the customer (回访) before they leave."""
        payload = warning_payload(customer, score, threshold)
        await uow.outbox.add(OutboxEvent(new_id(), CHURN_WARNING, "customer", customer.id, now, payload))
        number = customer.customer_no
        await notify(
            uow,
            recipients=await uow.agents.active_with_role(Role.MANAGER),
            kind=NotificationKind.CHURN_WARNING,
            subject=NotificationSubject("customer", customer.id, number),
            title={
                "zh-CN": f"客户 {number} 有流失风险（预警分 {score.score}）",
                "en": f"Customer {number} is at risk of leaving (churn score {score.score})",
            },
            now=now,
            actor=SYSTEM.subject,
            data=payload,
        )
