"""高风险客诉识别 in the service: the settings, read through an in-process snapshot so that intake pays no statement and
no compile for them, and the flag itself (the ticket's reasons and priority, the `risk.flagged` event, the managers'
inbox), written in the transaction of the intake or the message that raised it."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from app.domain.clock import Clock, rfc3339
from app.domain.events import OutboxEvent
from app.domain.ids import new_id
from app.domain.notifications import NotificationKind, Subject
from app.domain.preconditions import Precondition
from app.domain.principal import Principal, Role
from app.domain.risk import CustomerRisk, RiskSettings, check_settings, intake_reasons, message_reasons, raised_priority
from app.domain.risk_keywords import RiskKeywords
from app.domain.risk_reasons import RiskReason
from app.domain.tickets import Ticket
from app.domain.unit_of_work import UnitOfWork, UnitOfWorkFactory
from app.services.notifications import notify

FLAGGED = "risk.flagged"
EVENT_TYPES = frozenset({FLAGGED})
REFRESH_SECONDS = 5.0
"""How stale another process's settings may be: an edit applies in the process that made it at once, elsewhere
within this many seconds."""


@dataclass(frozen=True, slots=True)
class RiskRules:
    """The settings in force with their compiled keyword list."""

    settings: RiskSettings
    keywords: RiskKeywords

    def earlier_complaints_asked(self, now: datetime, is_complaint: bool) -> tuple[datetime | None, int]:
        """Since when intake counts the customer's earlier complaints, and how many are enough to know: (None, 0)
        when it need not count them."""
        repeat = self.settings.repeat_complaints
        if not self.settings.enabled or not is_complaint or repeat is None:
            return None, 0
        return now - timedelta(days=self.settings.repeat_window_days), repeat - 1

    def at_intake(self, text: str, customer: CustomerRisk, now: datetime) -> tuple[RiskReason, ...]:
        if not self.settings.enabled:
            return ()
        return intake_reasons(text, customer, self.settings, self.keywords, now)

    def in_message(self, text: str | None, ticket: Ticket, now: datetime) -> tuple[RiskReason, ...]:
        if not self.settings.enabled or not text:
            return ()
        return message_reasons(text, ticket.risk_reasons, self.keywords, now)

    def flagged(self, ticket: Ticket, reasons: Sequence[RiskReason], now: datetime) -> Ticket:
        """The ticket with `reasons` added and its priority raised as configured (the caller bumps the version)."""
        return replace(
            ticket,
            priority=raised_priority(ticket.priority, reasons, self.settings),
            risk_flagged_at=ticket.risk_flagged_at or now,
            risk_reasons=(*ticket.risk_reasons, *reasons),
        )


class RiskService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        *,
        refresh_seconds: float = REFRESH_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._refresh, self._monotonic = refresh_seconds, monotonic
        self._cached: tuple[RiskRules, float] | None = None

    async def settings(self) -> RiskSettings:
        async with self._uow.read() as uow:
            return await uow.risk_settings.settings()

    async def set_settings(
        self, principal: Principal, settings: RiskSettings, precondition: Precondition
    ) -> RiskSettings:
        """Replace the settings after checking them whole (each bad field named, nothing written); If-Match "0"
        replaces the defaults before the first save."""
        keywords = check_settings(settings)
        async with self._uow.write() as uow:
            current = await uow.risk_settings.settings(for_update=True)
            precondition.check(current.version)
            saved = await uow.risk_settings.save_settings(
                replace(settings, version=current.version), principal.subject, self._clock.now()
            )
            await uow.commit()
        self._cached = (RiskRules(saved, keywords), self._monotonic())
        return saved

    async def rules(self, uow: UnitOfWork) -> RiskRules:
        """The rules in force, read at most `refresh_seconds` ago (compiled again only when their version moved)."""
        cached = self._cached
        if cached is not None and self._monotonic() - cached[1] < self._refresh:
            return cached[0]
        settings = await uow.risk_settings.settings()
        if cached is not None and cached[0].settings.version == settings.version:
            rules = cached[0]
        else:
            rules = RiskRules(settings, RiskKeywords.compile(settings.keywords, settings.exceptions))
        self._cached = (rules, self._monotonic())
        return rules


def flagged_event(ticket: Ticket, reasons: Sequence[RiskReason], actor: str, now: datetime) -> OutboxEvent:
    """`risk.flagged`: the ticket, the reasons just found (and every reason it has), its priority now."""
    payload = {
        "ticket_id": str(ticket.id),
        "number": ticket.number,
        "customer_no": ticket.customer_no,
        "status": ticket.status,
        "priority": ticket.priority.value,
        "assignee": ticket.assignee,
        "actor": actor,
        "flagged_at": rfc3339(ticket.risk_flagged_at or now),
        "new_reasons": [r.as_json() for r in reasons],
        "reasons": [r.as_json() for r in ticket.risk_reasons],
    }
    return OutboxEvent(new_id(), FLAGGED, "ticket", ticket.id, now, payload)


async def notify_managers(
    uow: UnitOfWork, ticket: Ticket, reasons: Sequence[RiskReason], actor: str, now: datetime
) -> int:
    """管理层立即介入: every active manager, and the assignee's supervisor, hears of the flag at once."""
    recipients: list[str | None] = list(await uow.agents.active_with_role(Role.MANAGER))
    if ticket.assignee is not None:
        agent = await uow.agents.get(ticket.assignee)
        recipients += [ticket.assignee, agent.data.supervisor if agent else None]
    why = "、".join(r.detail for r in reasons)
    why_en = ", ".join(r.detail for r in reasons)
    return await notify(
        uow,
        recipients=recipients,
        kind=NotificationKind.RISK_FLAGGED,
        subject=Subject("ticket", ticket.id, ticket.number),
        title={
            "zh-CN": f"高风险客诉：工单 {ticket.number}（{why}）",
            "en": f"High-risk complaint: ticket {ticket.number} ({why_en})",
        },
        now=now,
        actor=actor,
        data={"reasons": [r.as_json() for r in reasons], "priority": ticket.priority.value},
    )
