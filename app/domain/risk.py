"""高风险客诉 (high-risk complaints): a ticket is flagged the moment its customer threatens a regulator, the press, a
lawyer or a chargeback, is a VIP, or complains for the n-th time within N days, so that management steps in at once
(seed 002). The flag names its reasons, raises the ticket's priority as configured and is never lowered by itself."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from app.domain.customers import CustomerLevel
from app.domain.errors import FieldError, InvalidInput
from app.domain.risk_keywords import DEFAULT_EXCEPTIONS, DEFAULT_KEYWORDS, RiskKeywords
from app.domain.risk_reasons import RiskReason, RiskReasonCode, RiskSource
from app.domain.tickets import Priority

REPEAT_COUNT_MIN, REPEAT_COUNT_MAX = 2, 100
REPEAT_WINDOW_DAYS_MIN, REPEAT_WINDOW_DAYS_MAX = 1, 365
PRIORITY_ORDER = tuple(Priority)
"""Low to urgent: a flag raises a ticket's priority to its reasons' highest, never below what the ticket has."""


DEFAULT_PRIORITIES: Mapping[RiskReasonCode, Priority] = {
    RiskReasonCode.KEYWORD: Priority.URGENT,
    RiskReasonCode.VIP: Priority.HIGH,
    RiskReasonCode.REPEAT_COMPLAINT: Priority.HIGH,
}


@dataclass(frozen=True, slots=True)
class RiskSettings:
    """风险识别设置. `exceptions` are phrases in which a keyword is no threat (多媒体 holds 媒体); `repeat_complaints`
    None switches the repeat check off; `vip_levels` empty switches the VIP check
    off; `priorities` names the priority each reason raises a ticket to (a reason left out raises none)."""

    enabled: bool = True
    keywords: tuple[str, ...] = DEFAULT_KEYWORDS
    exceptions: tuple[str, ...] = DEFAULT_EXCEPTIONS
    vip_levels: tuple[CustomerLevel, ...] = (CustomerLevel.VIP,)
    repeat_complaints: int | None = 3
    repeat_window_days: int = 30
    priorities: Mapping[RiskReasonCode, Priority] = field(default_factory=lambda: dict(DEFAULT_PRIORITIES))
    version: int = 0


def check_settings(settings: RiskSettings) -> RiskKeywords:
    """Every problem of the settings in one 422, each a JSON pointer; answers the compiled keyword list."""
    errors: list[FieldError] = []
    matcher = None
    try:
        matcher = RiskKeywords.compile(settings.keywords, settings.exceptions)
    except InvalidInput as refused:
        errors += refused.errors
    if (
        settings.repeat_complaints is not None
        and not REPEAT_COUNT_MIN <= settings.repeat_complaints <= REPEAT_COUNT_MAX
    ):
        errors.append(
            FieldError("/repeat_complaints", f"must be from {REPEAT_COUNT_MIN} to {REPEAT_COUNT_MAX}, or null (off)")
        )
    if not REPEAT_WINDOW_DAYS_MIN <= settings.repeat_window_days <= REPEAT_WINDOW_DAYS_MAX:
        errors.append(
            FieldError("/repeat_window_days", f"must be from {REPEAT_WINDOW_DAYS_MIN} to {REPEAT_WINDOW_DAYS_MAX} days")
        )
    if len(set(settings.vip_levels)) != len(settings.vip_levels):
        errors.append(FieldError("/vip_levels", "each level at most once"))
    if errors or matcher is None:
        raise InvalidInput("The risk settings cannot be used as sent", code="invalid_risk_settings", errors=errors)
    return matcher


@dataclass(frozen=True, slots=True)
class CustomerRisk:
    """What intake knows of the customer and the ticket: whether it is a complaint, the customer's level, and their
    complaint tickets within the window before this one (None when the repeat check is off)."""

    complaint: bool
    level: CustomerLevel | None
    earlier_complaints: int | None = None


def intake_reasons(
    text: str, customer: CustomerRisk, settings: RiskSettings, matcher: RiskKeywords, now: datetime
) -> tuple[RiskReason, ...]:
    """The reasons a new ticket is high-risk: keywords in its text (any ticket type), and for a complaint the
    customer's level and the complaint's number within the window (a VIP's repair request is no complaint)."""
    reasons = list(message_reasons(text, (), matcher, now, RiskSource.INTAKE))
    if not customer.complaint:
        return tuple(reasons)
    if customer.level is not None and customer.level in settings.vip_levels:
        reasons.append(RiskReason(RiskReasonCode.VIP, customer.level.value, RiskSource.INTAKE, now))
    repeat = settings.repeat_complaints
    if repeat is not None and customer.earlier_complaints is not None and customer.earlier_complaints + 1 >= repeat:
        detail = f"complaint {customer.earlier_complaints + 1} within {settings.repeat_window_days} days"
        reasons.append(RiskReason(RiskReasonCode.REPEAT_COMPLAINT, detail, RiskSource.INTAKE, now))
    return tuple(reasons)


def message_reasons(
    text: str,
    known: Sequence[RiskReason],
    matcher: RiskKeywords,
    now: datetime,
    source: RiskSource = RiskSource.MESSAGE,
) -> tuple[RiskReason, ...]:
    """The keywords of a customer's message that the ticket was not flagged for yet: a second 12315 is no news."""
    seen = {reason.detail for reason in known if reason.code is RiskReasonCode.KEYWORD}
    return tuple(
        RiskReason(RiskReasonCode.KEYWORD, keyword, source, now)
        for keyword in matcher.find(text)
        if keyword not in seen
    )


def raised_priority(current: Priority, reasons: Sequence[RiskReason], settings: RiskSettings) -> Priority:
    """The highest of the current priority and those the reasons raise it to."""
    wanted = [settings.priorities[r.code] for r in reasons if r.code in settings.priorities]
    return max([current, *wanted], key=PRIORITY_ORDER.index)


class RiskSettingsRepository(Protocol):
    async def settings(self, *, for_update: bool = False) -> RiskSettings:
        """The settings in force (the defaults at version 0 until saved)."""
        ...

    async def save_settings(self, settings: RiskSettings, by: str, at: datetime) -> RiskSettings: ...
