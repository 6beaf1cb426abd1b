"""Why a ticket is high-risk (高风险原因), as the ticket keeps it; the rules that find the reasons are in
app/domain/risk.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.domain.clock import rfc3339


class RiskReasonCode(StrEnum):
    KEYWORD = "keyword"  # 敏感词: 12315, 媒体曝光, 律师, chargeback...
    VIP = "vip"  # the customer's level is one the settings name
    REPEAT_COMPLAINT = "repeat_complaint"  # the n-th complaint of one customer within N days


class RiskSource(StrEnum):
    """Where the reason was found: the ticket's intake, or a later message of the customer."""

    INTAKE = "intake"
    MESSAGE = "message"


@dataclass(frozen=True, slots=True)
class RiskReason:
    """One reason a ticket is high-risk: the keyword as configured, the customer's level, or the complaint count."""

    code: RiskReasonCode
    detail: str
    source: RiskSource
    at: datetime

    def as_json(self) -> dict[str, str]:
        """Its one JSON form: stored on the ticket, and in events, notifications and timeline entries."""
        return {"code": self.code.value, "detail": self.detail, "source": self.source.value, "at": rfc3339(self.at)}

    @classmethod
    def from_json(cls, value: dict[str, str]) -> RiskReason:
        return cls(
            RiskReasonCode(value["code"]),
            value["detail"],
            RiskSource(value["source"]),
            datetime.fromisoformat(value["at"]),
        )
