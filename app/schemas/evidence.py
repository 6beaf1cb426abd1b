"""证据要求 contract: the photos each after-sales reason needs (a settings document, If-Match protected), and an
order's evidence as its reads show it."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StrictInt, StringConstraints, field_validator

from app.domain.evidence import MAX_PHOTOS, Evidence, EvidenceRules
from app.schemas.common import KEY_PATTERN, Input, Output

ReasonCode = Annotated[str, StringConstraints(pattern=KEY_PATTERN)]


class EvidenceOut(Output):
    """证据: the photos the order's reason needs (fixed when it was made) and those it has; approval waits for them."""

    required: int = Field(description="Clean evidence photos the order's reason needs (0: none).")
    clean: int = Field(description="Evidence photos linked and cleared by the virus scanner.")
    pending: int = Field(description="Evidence photos linked and still waiting for the scan.")
    complete: bool = Field(description="Enough clean photos for a review to approve.")
    message: str | None = Field(description="While incomplete: what the customer is asked for, in Accept-Language.")

    @classmethod
    def of(cls, evidence: Evidence, language: str) -> EvidenceOut:
        message = evidence.message()
        return cls(
            required=evidence.required,
            clean=evidence.clean,
            pending=evidence.pending,
            complete=evidence.complete,
            message=message.pick(language) if message else None,
        )


class EvidenceRuleIn(Input):
    reason_code: ReasonCode = Field(description="An after-sales reason code, e.g. damaged, quality_issue.")
    photos: StrictInt = Field(ge=1, le=MAX_PHOTOS, description="Clean evidence photos an order of it needs.")


class EvidenceRulesIn(Input):
    """The reasons that need photos (images uploaded as evidence, scanned clean) before approval; a reason not listed
    needs none. Orders keep the requirement they were created under."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"rules": [{"reason_code": "damaged", "photos": 1}]}]})

    rules: list[EvidenceRuleIn] = Field(max_length=200)

    @field_validator("rules")
    @classmethod
    def _once_each(cls, rules: list[EvidenceRuleIn]) -> list[EvidenceRuleIn]:
        codes = [rule.reason_code for rule in rules]
        if len(set(codes)) != len(codes):
            raise ValueError("each reason code once")
        return rules

    def to_domain(self) -> EvidenceRules:
        return EvidenceRules(photos={rule.reason_code: rule.photos for rule in self.rules})


class EvidenceRuleOut(Output):
    reason_code: str
    photos: int


class EvidenceRulesOut(Output):
    rules: list[EvidenceRuleOut] = Field(description="Reasons that need photos, by reason code.")

    @classmethod
    def of(cls, rules: EvidenceRules) -> EvidenceRulesOut:
        return cls(rules=[EvidenceRuleOut(reason_code=code, photos=n) for code, n in sorted(rules.photos.items())])
