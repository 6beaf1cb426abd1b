"""Survey contract: the public page and answer of a survey link, staff's list items and figures, and the settings
document."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from app.domain.surveys import (
    BASE_URL_MAX,
    COMMENT_MAX,
    CSAT_MAX,
    CSAT_MIN,
    DELAY_MINUTES_MAX,
    EDIT_WINDOW_MINUTES_MAX,
    EXPIRY_DAYS_MAX,
    EXPIRY_DAYS_MIN,
    FOLLOW_UP_DUE_MINUTES_MAX,
    FOLLOW_UP_DUE_MINUTES_MIN,
    LOW_SCORE_BELOW_MAX,
    LOW_SCORE_BELOW_MIN,
    NPS_MAX,
    NPS_MIN,
    NPS_PERIOD_DAYS_MAX,
    NPS_PERIOD_DAYS_MIN,
    QUESTIONS,
    REASON_LABELS,
    THANKS,
    Answer,
    ReasonCode,
    SubjectType,
    Survey,
    SurveyCounts,
    SurveySettings,
    SurveyState,
    Wording,
)
from app.schemas.common import KEY_PATTERN, Input
from app.services.surveys import StaffSurvey, SurveyView

AFTER_SALES_TITLE = Wording("售后服务", "After-sales service")
LANGUAGE_TAGS = {"zh": "zh-CN", "en": "en"}


class SurveyAnswerIn(Input):
    """满意度评价. `reasons` (from the fixed list) are required with a CSAT below the settings' threshold (3 by
    default) and refused above it; `nps` only where the survey asked it (`questions` lists it)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"csat": 2, "reasons": ["not_resolved", "slow_response"], "nps": 3, "comment": "还是有异响"}]
        }
    )

    csat: StrictInt = Field(ge=CSAT_MIN, le=CSAT_MAX, description="1 (very dissatisfied) to 5 (very satisfied).")
    reasons: list[ReasonCode] = Field(
        default_factory=list, max_length=len(ReasonCode), description="What went wrong, each at most once."
    )
    nps: StrictInt | None = Field(
        None, ge=NPS_MIN, le=NPS_MAX, description="0–10: how likely the customer is to recommend us."
    )
    comment: str | None = Field(None, min_length=1, max_length=COMMENT_MAX, description="Free text.")

    def to_domain(self) -> Answer:
        return Answer(self.csat, tuple(self.reasons), self.nps, self.comment)


class ReasonOut(BaseModel):
    value: ReasonCode
    label: str


class QuestionOut(BaseModel):
    """One question of the page, in the reader's language; `required_below` (reasons): required when `csat` is
    below it."""

    key: Literal["csat", "reasons", "nps", "comment"]
    text: str
    required: bool
    min: int | None = None
    max: int | None = None
    options: list[ReasonOut] | None = None
    required_below: int | None = None
    max_length: int | None = None


class AnswerOut(BaseModel):
    csat: int
    reasons: list[ReasonCode]
    nps: int | None
    comment: str | None


def _answer(answer: Answer | None) -> AnswerOut | None:
    if answer is None:
        return None
    return AnswerOut(csat=answer.csat, reasons=list(answer.reasons), nps=answer.nps, comment=answer.comment)


class SurveyFormOut(BaseModel):
    """What the public link shows: the questions and what it is about (number and title), nothing internal."""

    subject_type: SubjectType
    number: str = Field(description="The ticket's or after-sales order's number, as the customer knows it.")
    title: str
    language: Literal["zh-CN", "en"]
    state: Literal["open", "answered"]
    can_answer: bool = Field(description="False once answered, unless the edit window is still open.")
    expires_at: datetime
    answered_at: datetime | None
    editable_until: datetime | None = Field(description="Until when the answer may be replaced; null: it may not.")
    questions: list[QuestionOut]
    answer: AnswerOut | None
    message: str | None = Field(description="A thank-you once answered.")

    @classmethod
    def of(cls, view: SurveyView, language: str) -> SurveyFormOut:
        survey, now = view.survey, view.now
        questions = [
            QuestionOut(key="csat", text=QUESTIONS["csat"].pick(language), required=True, min=CSAT_MIN, max=CSAT_MAX),
            QuestionOut(
                key="reasons",
                text=QUESTIONS["reasons"].pick(language),
                required=False,
                required_below=view.low_score_below,
                options=[
                    ReasonOut(value=reason, label=label.pick(language)) for reason, label in REASON_LABELS.items()
                ],
            ),
        ]
        if survey.nps_asked:
            questions.append(
                QuestionOut(key="nps", text=QUESTIONS["nps"].pick(language), required=False, min=NPS_MIN, max=NPS_MAX)
            )
        questions.append(
            QuestionOut(key="comment", text=QUESTIONS["comment"].pick(language), required=False, max_length=COMMENT_MAX)
        )
        title = survey.facts.title or AFTER_SALES_TITLE.pick(language)
        answered = survey.state(now) is SurveyState.ANSWERED
        editable = survey.edit_until if answered and survey.can_answer(now) else None
        return cls(
            subject_type=survey.subject_type,
            number=survey.facts.number,
            title=title,
            language=LANGUAGE_TAGS.get(language, "zh-CN"),  # type: ignore[arg-type]
            state="answered" if answered else "open",
            can_answer=survey.can_answer(now),
            expires_at=survey.expires_at or now,
            answered_at=survey.answered_at,
            editable_until=editable,
            questions=questions,
            answer=_answer(survey.answer),
            message=THANKS.pick(language) if answered else None,
        )


class SecondSurveyOut(BaseModel):
    id: UUID
    state: SurveyState | None = Field(description="Null while it waits to be sent.")
    csat: int | None
    answered_at: datetime | None


class SurveyOut(BaseModel):
    """A sent survey as staff read it: its subject, the handler and filters' facts, the answer and the low-score
    loop (escalation, follow-up task, second survey)."""

    id: UUID
    subject_type: SubjectType
    subject_id: UUID
    number: str
    title: str | None
    ticket_id: UUID | None
    customer_no: str
    round: int = Field(description="1: after the resolution; 2: after a low score's follow-up.")
    parent_id: UUID | None = Field(description="Round 2: the low-score survey it follows.")
    agent: str | None = Field(description="Who handled it (the assignee at completion).")
    group_key: str | None
    sku: str | None
    region: str | None
    channel: str | None
    state: SurveyState
    sent_at: datetime
    expires_at: datetime
    nps_asked: bool
    answered_at: datetime | None
    answer: AnswerOut | None
    low_score: bool = Field(description="CSAT below the threshold or NPS 0–6 (差评).")
    escalated_at: datetime | None = Field(description="When the low score escalated the ticket or order (客诉升级).")
    follow_up_task_id: UUID | None
    follow_up_done_at: datetime | None = Field(description="When the follow-up task was reported done.")
    second_survey: SecondSurveyOut | None
    recovered: bool | None = Field(
        description="Low scores: follow-up done and the second survey answered 4 or 5 (挽回); null otherwise."
    )

    @classmethod
    def of(cls, item: StaffSurvey) -> SurveyOut:
        survey, second, now = item.survey, item.second, item.now
        facts = survey.facts
        recovered = None
        if survey.low_score:
            csat = second.answer.csat if second and second.answer else None
            recovered = survey.follow_up_done_at is not None and csat is not None and csat >= 4
        return cls(
            id=survey.id,
            subject_type=survey.subject_type,
            subject_id=survey.subject_id,
            number=facts.number,
            title=facts.title,
            ticket_id=facts.ticket_id,
            customer_no=facts.customer_no,
            round=survey.round,
            parent_id=survey.parent_id,
            agent=facts.agent,
            group_key=facts.group_key,
            sku=facts.sku,
            region=facts.region,
            channel=facts.channel,
            state=survey.state(now) or SurveyState.OPEN,
            sent_at=survey.sent_at or now,
            expires_at=survey.expires_at or now,
            nps_asked=survey.nps_asked,
            answered_at=survey.answered_at,
            answer=_answer(survey.answer),
            low_score=survey.low_score,
            escalated_at=survey.escalated_at,
            follow_up_task_id=survey.follow_up_task_id,
            follow_up_done_at=survey.follow_up_done_at,
            second_survey=_second(second, now),
            recovered=recovered,
        )


def _second(second: Survey | None, now: datetime) -> SecondSurveyOut | None:
    if second is None:
        return None
    csat = second.answer.csat if second.answer else None
    return SecondSurveyOut(id=second.id, state=second.state(now), csat=csat, answered_at=second.answered_at)


class SurveyStatsOut(BaseModel):
    """First-round invitations sent in the period: counts (SQL, the same on every database) and the rates drawn
    from them; a rate is null when its denominator is 0."""

    sent_from: datetime
    sent_to: datetime
    sent: int
    answered: int
    expired: int = Field(description="Sent, unanswered, past their expiry.")
    satisfied: int = Field(description="Answered 4 or 5.")
    nps_answers: int
    promoters: int = Field(description="NPS 9–10.")
    detractors: int = Field(description="NPS 0–6.")
    low_scores: int = Field(description="CSAT below the threshold or NPS 0–6.")
    follow_ups_done: int
    recovered: int = Field(description="Low scores with the follow-up done and the second survey answered 4–5.")
    csat: float | None = Field(description="satisfied ÷ answered, 4 decimals.")
    nps: float | None = Field(description="% promoters − % detractors of the NPS answers, −100 to 100, 1 decimal.")
    response_rate: float | None = Field(description="answered ÷ (sent − expired), 4 decimals.")
    recovery_rate: float | None = Field(description="recovered ÷ low_scores (挽回率), 4 decimals.")

    @classmethod
    def of(cls, counts: SurveyCounts, sent_from: datetime, sent_to: datetime) -> SurveyStatsOut:
        return cls(
            sent_from=sent_from,
            sent_to=sent_to,
            sent=counts.sent,
            answered=counts.answered,
            expired=counts.expired,
            satisfied=counts.satisfied,
            nps_answers=counts.nps_answers,
            promoters=counts.promoters,
            detractors=counts.detractors,
            low_scores=counts.low_scores,
            follow_ups_done=counts.follow_ups_done,
            recovered=counts.recovered,
            csat=counts.csat,
            nps=counts.nps,
            response_rate=counts.response_rate,
            recovery_rate=counts.recovery_rate,
        )


class SurveySettingsIn(Input):
    """满意度调查设置: every field, as the document is replaced whole. `edit_window_minutes` 0 (the default) makes an
    answer final; more lets the customer replace it for that long."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "delay_minutes": 120,
                    "calendar": "cn-office",
                    "expiry_days": 7,
                    "nps_period_days": 90,
                    "low_score_below": 3,
                    "edit_window_minutes": 0,
                    "public_base_url": "https://survey.example.com/s/",
                    "follow_up_due_minutes": 1440,
                }
            ]
        }
    )

    delay_minutes: StrictInt = Field(
        ge=0, le=DELAY_MINUTES_MAX, description="Minutes of the calendar's working time from completion to invitation."
    )
    calendar: str | None = Field(
        pattern=KEY_PATTERN, description="Business calendar key the delay and the follow-up count in; null: clock time."
    )
    expiry_days: StrictInt = Field(ge=EXPIRY_DAYS_MIN, le=EXPIRY_DAYS_MAX, description="Days a link works.")
    nps_period_days: StrictInt = Field(
        ge=NPS_PERIOD_DAYS_MIN, le=NPS_PERIOD_DAYS_MAX, description="A customer is asked NPS at most once per this."
    )
    low_score_below: StrictInt = Field(
        ge=LOW_SCORE_BELOW_MIN, le=LOW_SCORE_BELOW_MAX, description="A CSAT below this is a low score."
    )
    edit_window_minutes: StrictInt = Field(
        ge=0, le=EDIT_WINDOW_MINUTES_MAX, description="Minutes an answer may be replaced; 0: never (off)."
    )
    public_base_url: str = Field(
        pattern=r"^https?://[^\s]+$",
        max_length=BASE_URL_MAX,
        description="The link is this followed by the token, e.g. `https://survey.example.com/s/`.",
    )
    follow_up_due_minutes: StrictInt = Field(
        ge=FOLLOW_UP_DUE_MINUTES_MIN,
        le=FOLLOW_UP_DUE_MINUTES_MAX,
        description="Minutes of working time the low score's follow-up task is due in.",
    )

    def to_domain(self) -> SurveySettings:
        return SurveySettings(**self.model_dump())


class SurveySettingsOut(BaseModel):
    delay_minutes: int
    calendar: str | None
    expiry_days: int
    nps_period_days: int
    low_score_below: int
    edit_window_minutes: int
    public_base_url: str
    follow_up_due_minutes: int
    version: int

    @classmethod
    def of(cls, settings: SurveySettings) -> SurveySettingsOut:
        return cls(
            delay_minutes=settings.delay_minutes,
            calendar=settings.calendar,
            expiry_days=settings.expiry_days,
            nps_period_days=settings.nps_period_days,
            low_score_below=settings.low_score_below,
            edit_window_minutes=settings.edit_window_minutes,
            public_base_url=settings.public_base_url,
            follow_up_due_minutes=settings.follow_up_due_minutes,
            version=settings.version,
        )
