"""流失预警 (churn warning): a customer's churn-risk score from what went wrong for them lately, so that someone calls
them before they leave (seed 002: churn signals trigger a follow-up call).

The score, 0 to 100, adds one capped contribution per kind of bad fact counted over the last `window_days` (90):

    refunds            = min(refund_cap,            refund_points            × refunds)
    refund_amount      = min(refund_amount_cap,     refund_amount_points     × ⌊refund_amount ÷ refund_amount_step⌋)
    repeat_complaints  = min(repeat_complaint_cap,  repeat_complaint_points  × max(0, complaints − 1))
    detractor_answers  = min(detractor_cap,         detractor_points         × detractor_answers)
    sla_breaches       = min(sla_breach_cap,        sla_breach_points        × sla_breaches)
    score              = min(100, sum of the five)

With the defaults (10/30, 5 per 500.00 CNY up to 20, 15/45, 15/30, 5/20): two refunds (20) of 1,200.00 CNY in all (10)
and three complaint tickets (two repeats: 30) score 60, the default warning threshold. Every term only grows with its
fact and stops at its cap, so more bad facts never lower the score and no single kind reaches 100 alone. A repeat
complaint is a complaint ticket after the first; a detractor answer is a survey answer that was a low score (CSAT below
the survey threshold or NPS 0-6, `SurveySettings.is_low`); an SLA breach is one breached deadline on the customer's
tickets. Refund amounts are summed in `currency` only; refunds in other currencies count by number. Integers only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from app.domain.errors import FieldError, InvalidInput
from app.domain.events import OutboxCursor
from app.domain.money import is_iso_currency

SCORE_MAX = 100
WINDOW_DAYS_MAX = 365
AMOUNT_STEP_MAX = 10**12


class ChurnReasonCode(StrEnum):
    """Why a customer scores: one code per kind of fact, in the order the formula lists them."""

    REFUNDS = "refunds"
    REFUND_AMOUNT = "refund_amount"
    REPEAT_COMPLAINTS = "repeat_complaints"
    DETRACTOR_ANSWERS = "detractor_answers"
    SLA_BREACHES = "sla_breaches"


@dataclass(frozen=True, slots=True)
class ChurnFacts:
    """What happened to one customer within the window: refunds (how many, and their sum in the params' currency in
    minor units), complaint tickets, detractor survey answers, breached SLA deadlines on their tickets."""

    refunds: int = 0
    refund_amount: int = 0
    complaints: int = 0
    detractor_answers: int = 0
    sla_breaches: int = 0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{f.name} is a count or an amount of at least 0, not {value!r}")


@dataclass(frozen=True, slots=True)
class ChurnReason:
    code: ChurnReasonCode
    points: int


@dataclass(frozen=True, slots=True)
class ChurnScore:
    """The score and what it is made of: each contributing kind of fact with its points, largest first (their sum may
    pass 100 where the score stops)."""

    score: int
    reasons: tuple[ChurnReason, ...]


@dataclass(frozen=True, slots=True)
class ChurnParams:
    """The formula's weights (`*_points` per fact), caps (`*_cap`, the most one kind adds) and warning threshold;
    defaults as in the module's docstring. Invalid values raise InvalidInput naming each field."""

    refund_points: int = 10
    refund_cap: int = 30
    refund_amount_points: int = 5
    refund_amount_step: int = 50_000
    refund_amount_cap: int = 20
    repeat_complaint_points: int = 15
    repeat_complaint_cap: int = 45
    detractor_points: int = 15
    detractor_cap: int = 30
    sla_breach_points: int = 5
    sla_breach_cap: int = 20
    threshold: int = 60
    window_days: int = 90
    currency: str = "CNY"

    def __post_init__(self) -> None:
        errors = churn_params_errors(self)
        if errors:
            raise InvalidInput(
                "The churn warning settings cannot be used as sent", code="invalid_churn_settings", errors=errors
            )


def churn_params_errors(params: ChurnParams) -> list[FieldError]:
    """Every problem of the settings, each a JSON pointer to its field."""
    errors: list[FieldError] = []
    for name in (
        "refund_points",
        "refund_cap",
        "refund_amount_points",
        "refund_amount_cap",
        "repeat_complaint_points",
        "repeat_complaint_cap",
        "detractor_points",
        "detractor_cap",
        "sla_breach_points",
        "sla_breach_cap",
    ):
        errors += _whole(name, getattr(params, name), 0, SCORE_MAX)
    errors += _whole("refund_amount_step", params.refund_amount_step, 1, AMOUNT_STEP_MAX)
    errors += _whole("threshold", params.threshold, 1, SCORE_MAX)
    errors += _whole("window_days", params.window_days, 1, WINDOW_DAYS_MAX)
    if not isinstance(params.currency, str) or not is_iso_currency(params.currency):
        errors.append(FieldError("/currency", "must be an ISO 4217 currency code such as CNY"))
    return errors


def _whole(name: str, value: object, low: int, high: int) -> list[FieldError]:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return [FieldError(f"/{name}", f"must be a whole number from {low:,} to {high:,}")]
    return []


def churn_score(facts: ChurnFacts, params: ChurnParams) -> ChurnScore:
    """The customer's score by the module's formula."""
    contributions = (
        (ChurnReasonCode.REFUNDS, params.refund_points * facts.refunds, params.refund_cap),
        (
            ChurnReasonCode.REFUND_AMOUNT,
            params.refund_amount_points * (facts.refund_amount // params.refund_amount_step),
            params.refund_amount_cap,
        ),
        (
            ChurnReasonCode.REPEAT_COMPLAINTS,
            params.repeat_complaint_points * max(0, facts.complaints - 1),
            params.repeat_complaint_cap,
        ),
        (ChurnReasonCode.DETRACTOR_ANSWERS, params.detractor_points * facts.detractor_answers, params.detractor_cap),
        (ChurnReasonCode.SLA_BREACHES, params.sla_breach_points * facts.sla_breaches, params.sla_breach_cap),
    )
    reasons = [ChurnReason(code, min(cap, raw)) for code, raw, cap in contributions if min(cap, raw) > 0]
    order = list(ChurnReasonCode)
    reasons.sort(key=lambda reason: (-reason.points, order.index(reason.code)))
    return ChurnScore(min(SCORE_MAX, sum(reason.points for reason in reasons)), tuple(reasons))


def crossed(previous_score: int | None, new_score: int, threshold: int) -> bool:
    """True when the score reaches the threshold from below (risk.churn_warning fires once per crossing): the
    previous score under it, or none yet, and the new one at or above it. Staying above, or falling, is no crossing."""
    return (previous_score is None or previous_score < threshold) and new_score >= threshold


REFUNDED = "refunded"
"""A refund counts once its money was paid out: an after-sales order of a money type (`MONEY_TYPES`: refund, partial
refund, return-and-refund) that reached `refunded`, counted at its `finished_at`, for its `amount` (what the ledger
moved from reserved to refunded). Compensation is not a refund."""


@dataclass(frozen=True, slots=True)
class ChurnSettings:
    """流失预警设置 as stored: the formula's parameters, the defaults at version 0 (ETag "0") until first saved."""

    params: ChurnParams = field(default_factory=ChurnParams)
    version: int = 0


@dataclass(frozen=True, slots=True)
class ChurnStanding:
    """A customer's stored score: the latest one computed, its reasons and when, and the latest warning (None:
    never warned). Internal to staff: a customer never reads it."""

    score: int
    reasons: tuple[ChurnReason, ...]
    scored_at: datetime
    warned_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ScoredCustomer:
    """A customer as the scoring reads it: its id (what a warning is about), number and stored score (None: never
    scored)."""

    id: UUID
    customer_no: str
    standing: ChurnStanding | None


@dataclass(frozen=True, slots=True)
class ChurnFilter:
    """The customer list by stored score: at least `at_least` (then listed highest score first) and below `below`
    (a customer never scored counts as below)."""

    at_least: int | None = None
    below: int | None = None

    @classmethod
    def of(cls, threshold: int, warning: bool | None, min_score: int | None) -> ChurnFilter | None:
        """The filter for a warning asked (true: a score at `threshold` or above; false: below it, or none) and a
        lowest score; None when neither is."""
        if warning is None and min_score is None:
            return None
        if warning:
            return cls(at_least=max(threshold, min_score or 0))
        return cls(at_least=min_score, below=threshold if warning is False else None)


@dataclass(frozen=True, slots=True)
class Touch:
    """An outbox event that may change a customer's facts, at its cursor position; `customer_no` None when its
    subject is gone."""

    id: UUID
    occurred_at: datetime
    customer_no: str | None


class ChurnRepository(Protocol):
    async def settings(self, *, for_update: bool = False) -> ChurnSettings:
        """The settings in force; `for_update` holds them to the end of the transaction (an edit checking
        If-Match)."""
        ...

    async def save_settings(self, settings: ChurnSettings, by: str, at: datetime) -> ChurnSettings: ...
    async def cursor(self) -> OutboxCursor | None:
        """The scoring job's cursor, locked to the end of the transaction (one pass reads at a time)."""
        ...

    async def save_cursor(self, cursor: OutboxCursor, at: datetime) -> None: ...
    async def touches(self, after: OutboxCursor, until: datetime, types: Sequence[str], limit: int) -> list[Touch]:
        """Events of `types` after the cursor and at or before `until`, in (occurred_at, id) order, each with the
        customer of its ticket, after-sales order or survey."""
        ...

    async def customer(self, customer_no: str) -> ScoredCustomer | None:
        """The customer's stored score, its row locked to the end of the transaction."""
        ...

    async def facts(self, customer_no: str, since: datetime, currency: str) -> ChurnFacts:
        """The customer's facts from `since` on, counted in one statement: refunds paid (REFUNDED) and their sum in
        `currency`, complaint tickets created, low-score survey answers given, SLA breaches recorded on their
        tickets (idle reminders are not breaches)."""
        ...

    async def save_standing(self, customer_no: str, standing: ChurnStanding) -> None: ...
    async def stale(self, scored_before: datetime, limit: int) -> list[str]:
        """Up to `limit` customers scoring above 0 whose score was computed before `scored_before`, oldest first,
        locked; rows another transaction holds are skipped."""
        ...
