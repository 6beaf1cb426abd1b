"""Satisfaction surveys (满意度调查, CSAT/NPS): an invitation after a ticket is completed or an after-sales order
finishes well, answered once through a public link whose random token is stored only as its SHA-256; a low score
starts the complaint-escalation loop (客诉升级 → the supervisor's follow-up task → a second survey)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from typing import Protocol
from uuid import UUID

from app.domain.errors import FieldError, InvalidInput
from app.domain.events import OutboxCursor
from app.domain.pagination import Page, PageRequest

CSAT_MIN, CSAT_MAX = 1, 5
NPS_MIN, NPS_MAX = 0, 10
SATISFIED_FROM = 4
"""CSAT 4 and 5 count as satisfied (满意): CSAT = satisfied ÷ answered."""
PROMOTER_FROM = 9
DETRACTOR_UP_TO = 6
"""NPS 9–10 promote, 0–6 detract: NPS = % promoters − % detractors. A detractor answer is a low score too."""
COMMENT_MAX = 1000
TOKEN_BYTES = 32
"""256 random bits: a fast unsalted digest is as strong as a slow KDF, and lets the token be looked up by it."""
FIRST_ROUND, SECOND_ROUND = 1, 2
"""The invitation after a resolution, and the one after the low score's follow-up (回访后再次调查)."""


class SubjectType(StrEnum):
    TICKET = "ticket"
    AFTER_SALES = "after_sales"


class SurveyStatus(StrEnum):
    SCHEDULED = "scheduled"  # waiting for its send time; no token exists yet
    SENT = "sent"
    ANSWERED = "answered"
    SKIPPED = "skipped"  # at its send time the subject had been reopened or closed: nothing was sent


class SurveyState(StrEnum):
    """What a sent survey is at an instant: `expired` is derived from `expires_at`, never stored."""

    OPEN = "open"
    ANSWERED = "answered"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Wording:
    """A customer-facing text in both languages the service speaks."""

    zh: str
    en: str

    def pick(self, language: str) -> str:
        return self.en if language == "en" else self.zh


class ReasonCode(StrEnum):
    """Why a customer was not satisfied: a fixed list, so that reports can count reasons."""

    SLOW_RESPONSE = "slow_response"
    NOT_RESOLVED = "not_resolved"
    REPEATED_CONTACT = "repeated_contact"
    STAFF_ATTITUDE = "staff_attitude"
    LACK_OF_EXPERTISE = "lack_of_expertise"
    UNCLEAR_COMMUNICATION = "unclear_communication"
    REFUND_OR_COMPENSATION = "refund_or_compensation"
    DELIVERY_OR_VISIT = "delivery_or_visit"
    PRODUCT_QUALITY = "product_quality"
    OTHER = "other"


REASON_LABELS: dict[ReasonCode, Wording] = {
    ReasonCode.SLOW_RESPONSE: Wording("响应太慢", "Slow to respond"),
    ReasonCode.NOT_RESOLVED: Wording("问题没有解决", "The problem was not solved"),
    ReasonCode.REPEATED_CONTACT: Wording("多次联系才处理", "I had to get in touch several times"),
    ReasonCode.STAFF_ATTITUDE: Wording("服务态度不好", "Unfriendly service"),
    ReasonCode.LACK_OF_EXPERTISE: Wording("专业能力不足", "Lack of expertise"),
    ReasonCode.UNCLEAR_COMMUNICATION: Wording("沟通不清楚", "Unclear communication"),
    ReasonCode.REFUND_OR_COMPENSATION: Wording("退款或赔付不满意", "Unhappy with the refund or compensation"),
    ReasonCode.DELIVERY_OR_VISIT: Wording("物流或上门服务问题", "Delivery or on-site visit problems"),
    ReasonCode.PRODUCT_QUALITY: Wording("产品质量问题", "Product quality"),
    ReasonCode.OTHER: Wording("其他", "Other"),
}

QUESTIONS: dict[str, Wording] = {
    "csat": Wording(
        "您对本次服务满意吗？请打分（1–5 分，5 分为非常满意）",
        "How satisfied are you with our service? (1–5, 5 = very satisfied)",
    ),
    "reasons": Wording("很抱歉让您不满意，请告诉我们原因（可多选）", "Sorry we let you down. What went wrong?"),
    "nps": Wording(
        "您有多大可能向朋友或同事推荐我们？（0–10 分）",
        "How likely are you to recommend us to a friend or colleague? (0–10)",
    ),
    "comment": Wording("还有什么想告诉我们的吗？（选填）", "Anything else you would like to tell us? (optional)"),
}
THANKS = Wording("感谢您的评价，我们会持续改进服务。", "Thank you for your feedback: it helps us improve.")
"""Questions and messages the public survey page shows, in the reader's language."""


# Settings bounds (the settings document refuses values outside them).
DELAY_MINUTES_MAX = 43_200  # 30 days
EXPIRY_DAYS_MIN, EXPIRY_DAYS_MAX = 1, 90
NPS_PERIOD_DAYS_MIN, NPS_PERIOD_DAYS_MAX = 1, 3650
LOW_SCORE_BELOW_MIN, LOW_SCORE_BELOW_MAX = 2, 5
EDIT_WINDOW_MINUTES_MAX = 1440
FOLLOW_UP_DUE_MINUTES_MIN, FOLLOW_UP_DUE_MINUTES_MAX = 30, 43_200
BASE_URL_MAX = 500
DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1/surveys/"
"""Where `make run` serves the public survey endpoint itself: a link that works before anyone configures one."""


@dataclass(frozen=True, slots=True)
class SurveySettings:
    """满意度调查设置. The delay (2 working hours by default) and the follow-up task's due time count in
    `calendar`'s working time (clock time when None); `edit_window_minutes` 0 makes an answer final at once. Durations
    are whole minutes: names ending in `hours` are work hours (decimal strings) in this API."""

    delay_minutes: int = 120
    calendar: str | None = None
    expiry_days: int = 7
    nps_period_days: int = 90
    low_score_below: int = 3
    edit_window_minutes: int = 0
    public_base_url: str = DEFAULT_BASE_URL
    follow_up_due_minutes: int = 1440
    version: int = 0

    def link(self, token: str) -> str:
        """The public link: the base URL with the token appended as it is (so `…/s/` and `…?t=` both work)."""
        return self.public_base_url + token

    def is_low(self, csat: int, nps: int | None) -> bool:
        """A low score (差评): CSAT below the threshold, or an NPS detractor."""
        return csat < self.low_score_below or (nps is not None and nps <= DETRACTOR_UP_TO)


@dataclass(frozen=True, slots=True)
class Answer:
    csat: int
    reasons: tuple[ReasonCode, ...] = ()
    nps: int | None = None
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class Facts:
    """What a survey keeps of its subject for the staff filters and for the public page (number and title)."""

    number: str
    customer_no: str
    title: str | None = None
    ticket_id: UUID | None = None
    agent: str | None = None
    group_key: str | None = None
    sku: str | None = None
    region: str | None = None
    channel: str | None = None
    business_line: str | None = None


@dataclass(frozen=True, slots=True)
class Survey:
    """One invitation of one resolution (`resolved_at`: when the subject was completed) and round."""

    id: UUID
    subject_type: SubjectType
    subject_id: UUID
    resolved_at: datetime
    facts: Facts
    status: SurveyStatus
    send_at: datetime
    created_at: datetime
    updated_at: datetime
    round: int = FIRST_ROUND
    parent_id: UUID | None = None
    version: int = 1
    token_digest: str | None = None
    sent_at: datetime | None = None
    expires_at: datetime | None = None
    nps_asked: bool = False
    answer: Answer | None = None
    answered_at: datetime | None = None
    edit_until: datetime | None = None
    low_score: bool = False
    escalated_at: datetime | None = None
    follow_up_task_id: UUID | None = None
    follow_up_done_at: datetime | None = None
    skip_reason: str | None = None

    def state(self, now: datetime) -> SurveyState | None:
        """None while it is not sent (scheduled or skipped)."""
        if self.status is SurveyStatus.ANSWERED:
            return SurveyState.ANSWERED
        if self.status is not SurveyStatus.SENT or self.expires_at is None:
            return None
        return SurveyState.EXPIRED if now >= self.expires_at else SurveyState.OPEN

    def reachable(self, now: datetime) -> bool:
        """Whether its link still works: sent (answered or not) and not past its expiry."""
        return (
            self.expires_at is not None
            and self.status in (SurveyStatus.SENT, SurveyStatus.ANSWERED)
            and (now < self.expires_at)
        )

    def can_answer(self, now: datetime) -> bool:
        """Unanswered, or answered and still inside the edit window the settings gave it when first answered."""
        if not self.reachable(now):
            return False
        return self.status is SurveyStatus.SENT or (self.edit_until is not None and now < self.edit_until)


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def check_answer(survey: Survey, answer: Answer, settings: SurveySettings) -> None:
    """The rules a well-formed answer must still meet, each bad field named: reasons are required below the
    threshold and refused above it (they say what went wrong), and NPS only where the survey asked it."""
    errors: list[FieldError] = []
    threshold = settings.low_score_below
    if answer.csat < threshold and not answer.reasons:
        errors.append(FieldError("/reasons", f"give at least one reason for a score below {threshold}"))
    if answer.csat >= threshold and answer.reasons:
        errors.append(FieldError("/reasons", f"reasons are given only with a score below {threshold}"))
    if len(set(answer.reasons)) != len(answer.reasons):
        errors.append(FieldError("/reasons", "each reason at most once"))
    if answer.nps is not None and not survey.nps_asked:
        errors.append(FieldError("/nps", "this survey does not ask the recommendation question"))
    if errors:
        raise InvalidInput("The answer cannot be accepted as sent", code="invalid_survey_answer", errors=errors)


def answered(survey: Survey, answer: Answer, settings: SurveySettings, now: datetime) -> Survey:
    """The survey with `answer` recorded: the first answer sets when it was given and (the edit window on) until
    when it may be replaced, never past the link's expiry; an edit replaces the answer only. A low score that has
    started the escalation loop stays a low score."""
    first = survey.answered_at is None
    edit_until = survey.edit_until
    if first and settings.edit_window_minutes and survey.expires_at is not None:
        edit_until = min(now + timedelta(minutes=settings.edit_window_minutes), survey.expires_at)
    return replace(
        survey,
        status=SurveyStatus.ANSWERED,
        answer=answer,
        answered_at=now if first else survey.answered_at,
        edit_until=edit_until,
        low_score=settings.is_low(answer.csat, answer.nps) or survey.escalated_at is not None,
        version=survey.version + 1,
        updated_at=now,
    )


@dataclass(frozen=True, slots=True)
class SurveyFilter:
    """Staff filters of the list and the figures; `sent_from` inclusive, `sent_to` exclusive."""

    agent: str | None = None
    group_key: str | None = None
    sku: str | None = None
    region: str | None = None
    channel: str | None = None
    sent_from: datetime | None = None
    sent_to: datetime | None = None
    business_lines: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class SurveyCounts:
    """First-round invitations sent in a period, counted in SQL (integers, the same on every database); the rates
    are exact ratios of these counts, rounded once."""

    sent: int = 0
    answered: int = 0
    expired: int = 0
    satisfied: int = 0
    nps_answers: int = 0
    promoters: int = 0
    detractors: int = 0
    low_scores: int = 0
    follow_ups_done: int = 0
    recovered: int = 0

    @property
    def csat(self) -> float | None:
        """Satisfied (4–5) ÷ answered."""
        return _ratio(self.satisfied, self.answered)

    @property
    def nps(self) -> float | None:
        """% promoters − % detractors among the NPS answers, −100 to 100."""
        if not self.nps_answers:
            return None
        return float(round(Fraction(100 * (self.promoters - self.detractors), self.nps_answers), 1))

    @property
    def response_rate(self) -> float | None:
        """Answered ÷ sent, an invitation that expired unanswered left out of what was sent."""
        return _ratio(self.answered, self.sent - self.expired)

    @property
    def recovery_rate(self) -> float | None:
        """Detractor recovery (挽回率): low scores whose follow-up was done and whose second survey was answered
        satisfied (≥ 4), ÷ low scores."""
        return _ratio(self.recovered, self.low_scores)


def _ratio(part: int, whole: int) -> float | None:
    return float(round(Fraction(part, whole), 4)) if whole > 0 else None


@dataclass(frozen=True, slots=True)
class Completion:
    """An outbox event the invitation job reads: a completion, a successful after-sales finish or a follow-up
    task's report, with the cursor position it occupies."""

    id: UUID
    type: str
    aggregate_id: UUID
    occurred_at: datetime
    payload: dict[str, object] = field(default_factory=dict)


class SurveyRepository(Protocol):
    async def settings(self, *, for_update: bool = False) -> SurveySettings:
        """The settings in force (the defaults at version 0 until saved)."""
        ...

    async def save_settings(self, settings: SurveySettings, by: str, at: datetime) -> SurveySettings: ...
    async def cursor(self) -> OutboxCursor | None:
        """The invitation job's cursor, locked to the end of the transaction (one pass reads at a time)."""
        ...

    async def save_cursor(self, cursor: OutboxCursor, at: datetime) -> None: ...
    async def completions(
        self, after: OutboxCursor, until: datetime, types: Sequence[str], limit: int
    ) -> list[Completion]:
        """Events of `types` after the cursor and at or before `until`, in (occurred_at, id) order."""
        ...

    async def add(self, survey: Survey) -> bool:
        """False (nothing written) when the resolution already has its survey of that round."""
        ...

    async def update(self, survey: Survey) -> None: ...
    async def claim_due(self, now: datetime, limit: int) -> list[Survey]:
        """Scheduled surveys whose send time has come, locked; rows another transaction holds are skipped."""
        ...

    async def by_token(self, digest: str, *, for_update: bool = False) -> Survey | None: ...
    async def by_follow_up_task(self, task_id: UUID) -> Survey | None:
        """The low-score survey whose follow-up task this is, locked."""
        ...

    async def nps_asked_since(self, customer_no: str, since: datetime) -> bool: ...
    async def second_rounds(self, parent_ids: Sequence[UUID]) -> dict[UUID, Survey]:
        """The second survey of each of these low-score surveys that has one."""
        ...

    async def list(self, where: SurveyFilter, page: PageRequest) -> Page[Survey]:
        """Sent surveys, newest sent first."""
        ...

    async def counts(self, where: SurveyFilter, now: datetime) -> SurveyCounts: ...


MAX_REPORT_DAYS = 366
"""The longest period the figures cover in one request: a year, read through the sent_at index."""


def check_period(sent_from: datetime, sent_to: datetime) -> None:
    """A report's period: `sent_to` after `sent_from`, at most MAX_REPORT_DAYS apart."""
    if sent_to <= sent_from:
        problem = "must be after sent_from"
    elif sent_to - sent_from > timedelta(days=MAX_REPORT_DAYS):
        problem = f"at most {MAX_REPORT_DAYS} days after sent_from"
    else:
        return
    raise InvalidInput(
        f"sent_to {problem}",
        code="validation_failed",
        errors=[FieldError("sent_to", problem, location="query")],
    )
