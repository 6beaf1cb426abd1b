"""Why a ticket is high-risk (高风险原因), as the ticket keeps it; the rules that find the reasons are in
app/domain/risk.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


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
