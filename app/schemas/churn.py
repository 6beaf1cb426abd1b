"""Churn warning contract (流失预警): the settings document, and a customer's score as staff read it."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from app.domain.churn import (
    AMOUNT_STEP_MAX,
    SCORE_MAX,
    WINDOW_DAYS_MAX,
    ChurnParams,
    ChurnReasonCode,
    ChurnSettings,
    ChurnStanding,
)
from app.schemas.common import Input, Output

Points = Annotated[StrictInt, Field(ge=0, le=SCORE_MAX, description="Points per fact of this kind.")]
Cap = Annotated[StrictInt, Field(ge=0, le=SCORE_MAX, description="The most this kind of fact adds to the score.")]


class ChurnSettingsIn(Input):
    """流失预警设置, replaced whole. Each kind of fact over the last `window_days` adds
    min(cap, points × count): refunds paid; each `refund_amount_step` (minor units of `currency`) of their sum;
    complaint tickets after the first; detractor survey answers; SLA breaches on the customer's tickets. The score
    (at most 100) warns at `threshold`."""

    model_config = ConfigDict(json_schema_extra={"examples": [asdict(ChurnParams())]})

    refund_points: Points
    refund_cap: Cap
    refund_amount_points: Points
    refund_amount_step: StrictInt = Field(
        ge=1, le=AMOUNT_STEP_MAX, description="Minor units of refunded money per `refund_amount_points`."
    )
    refund_amount_cap: Cap
    repeat_complaint_points: Points
    repeat_complaint_cap: Cap
    detractor_points: Points
    detractor_cap: Cap
    sla_breach_points: Points
    sla_breach_cap: Cap
    threshold: StrictInt = Field(ge=1, le=SCORE_MAX, description="A score reaching this warns (risk.churn_warning).")
    window_days: StrictInt = Field(ge=1, le=WINDOW_DAYS_MAX, description="Facts of the last this many days count.")
    currency: str = Field(
        pattern=r"^[A-Z]{3}$", description="ISO 4217 code refund amounts are summed in.", examples=["CNY"]
    )

    def to_domain(self) -> ChurnParams:
        return ChurnParams(**self.model_dump())


class ChurnSettingsOut(BaseModel):
    refund_points: int
    refund_cap: int
    refund_amount_points: int
    refund_amount_step: int
    refund_amount_cap: int
    repeat_complaint_points: int
    repeat_complaint_cap: int
    detractor_points: int
    detractor_cap: int
    sla_breach_points: int
    sla_breach_cap: int
    threshold: int
    window_days: int
    currency: str
    version: int

    @classmethod
    def of(cls, settings: ChurnSettings) -> ChurnSettingsOut:
        return cls(**asdict(settings.params), version=settings.version)


class ChurnReasonOut(Output):
    code: ChurnReasonCode = Field(description="The kind of fact.")
    points: int = Field(description="What it adds to the score, after its cap.")


class ChurnOut(Output):
    """A customer's churn score as the service last computed it (staff only: never shown to the customer)."""

    score: int = Field(description="0–100; 0 while never scored.", examples=[60])
    threshold: int = Field(description="The warning threshold in force.", examples=[60])
    warning: bool = Field(description="score ≥ threshold.")
    reasons: list[ChurnReasonOut] = Field(description="Each kind of fact that adds points, largest first.")
    scored_at: datetime | None = Field(description="When the score was computed; null: never (no fact counted).")
    warned_at: datetime | None = Field(description="The latest warning (risk.churn_warning); null: never.")

    @classmethod
    def of(cls, standing: ChurnStanding | None, threshold: int) -> ChurnOut:
        if standing is None:
            return cls(score=0, threshold=threshold, warning=False, reasons=[], scored_at=None, warned_at=None)
        return cls(
            score=standing.score,
            threshold=threshold,
            warning=standing.score >= threshold,
            reasons=[ChurnReasonOut.model_validate(reason) for reason in standing.reasons],
            scored_at=standing.scored_at,
            warned_at=standing.warned_at,
        )
