"""Risk settings contract (风险识别设置): the keyword list matched on every intake and customer message, the VIP
levels, the repeat-complaint rule, and the priority each reason raises a ticket to."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from app.domain.customers import CustomerLevel
from app.domain.risk import (
    DEFAULT_PRIORITIES,
    REPEAT_COUNT_MAX,
    REPEAT_COUNT_MIN,
    REPEAT_WINDOW_DAYS_MAX,
    REPEAT_WINDOW_DAYS_MIN,
    RiskSettings,
)
from app.domain.risk_keywords import MAX_KEYWORD_LENGTH, MAX_KEYWORDS
from app.domain.risk_reasons import RiskReasonCode
from app.domain.tickets import Priority
from app.schemas.common import Input

Keyword = Annotated[StrictStr, Field(min_length=1, max_length=MAX_KEYWORD_LENGTH)]


class RiskPrioritiesIn(Input):
    """The priority each reason raises a flagged ticket to (never lowering it); null: that reason raises none."""

    keyword: Priority | None = DEFAULT_PRIORITIES[RiskReasonCode.KEYWORD]
    vip: Priority | None = DEFAULT_PRIORITIES[RiskReasonCode.VIP]
    repeat_complaint: Priority | None = DEFAULT_PRIORITIES[RiskReasonCode.REPEAT_COMPLAINT]

    def to_domain(self) -> dict[RiskReasonCode, Priority]:
        return {RiskReasonCode(code): p for code, p in self.model_dump().items() if p is not None}


class RiskSettingsIn(Input):
    """高风险客诉识别. Keywords are matched on normalised text (NFKC, full-width digits, Traditional → Simplified,
    spacing inside a word ignored); English ones on word boundaries, numbers not inside longer numbers."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "enabled": True,
                    "keywords": ["12315", "消协", "媒体", "曝光", "律师", "起诉", "投诉到", "chargeback", "lawyer"],
                    "exceptions": ["多媒体", "曝光补偿", "投诉到现在"],
                    "vip_levels": ["vip"],
                    "repeat_complaints": 3,
                    "repeat_window_days": 30,
                    "priorities": {"keyword": "urgent", "vip": "high", "repeat_complaint": "high"},
                }
            ]
        }
    )

    enabled: StrictBool = Field(description="Off: no ticket is flagged.")
    keywords: list[Keyword] = Field(
        min_length=1, max_length=MAX_KEYWORDS, description=f"1 to {MAX_KEYWORDS:,} keywords, distinct once normalised."
    )
    exceptions: list[Keyword] = Field(
        max_length=MAX_KEYWORDS,
        description="Phrases in which a keyword is no threat (多媒体 holds 媒体, 曝光补偿 holds 曝光): a keyword's "
        "occurrence inside one does not count. Distinct once normalised, none a keyword itself.",
    )
    vip_levels: list[CustomerLevel] = Field(
        description="Customers of these levels are flagged on intake; empty: none.", max_length=len(CustomerLevel)
    )
    repeat_complaints: StrictInt | None = Field(
        ge=REPEAT_COUNT_MIN,
        le=REPEAT_COUNT_MAX,
        description="The n-th complaint of one customer within `repeat_window_days` is flagged; null: off.",
    )
    repeat_window_days: StrictInt = Field(ge=REPEAT_WINDOW_DAYS_MIN, le=REPEAT_WINDOW_DAYS_MAX)
    priorities: RiskPrioritiesIn = Field(default_factory=RiskPrioritiesIn)

    def to_domain(self) -> RiskSettings:
        return RiskSettings(
            enabled=self.enabled,
            keywords=tuple(self.keywords),
            exceptions=tuple(self.exceptions),
            vip_levels=tuple(self.vip_levels),
            repeat_complaints=self.repeat_complaints,
            repeat_window_days=self.repeat_window_days,
            priorities=self.priorities.to_domain(),
        )


class RiskSettingsOut(BaseModel):
    enabled: bool
    keywords: list[str]
    exceptions: list[str]
    vip_levels: list[CustomerLevel]
    repeat_complaints: int | None
    repeat_window_days: int
    priorities: dict[RiskReasonCode, Priority] = Field(description="The reasons that raise a priority, with it.")
    version: int

    @classmethod
    def of(cls, settings: RiskSettings) -> RiskSettingsOut:
        return cls(
            enabled=settings.enabled,
            keywords=list(settings.keywords),
            exceptions=list(settings.exceptions),
            vip_levels=list(settings.vip_levels),
            repeat_complaints=settings.repeat_complaints,
            repeat_window_days=settings.repeat_window_days,
            priorities=dict(settings.priorities),
            version=settings.version,
        )
