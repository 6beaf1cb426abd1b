"""The ticket workflow's action payloads: what each button must send besides `remark`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictInt, model_validator

from app.domain.money import is_iso_currency
from app.workflows.engine import Payload

USER_ID = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$"
KEY = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class AssignPayload(Payload):
    assignee: str = Field(pattern=USER_ID, description="Agent user id.")
    group: str | None = Field(None, pattern=KEY, description="Group the ticket belongs to from now on.")


class TransferPayload(Payload):
    assignee: str | None = Field(None, pattern=USER_ID, description="Agent to hand over to.")
    group: str | None = Field(None, pattern=KEY, description="Group to hand over to (its claim pool).")
    reason: str = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _somebody(self) -> TransferPayload:
        if self.assignee is None and self.group is None:
            raise ValueError("name an assignee, a group, or both")
        return self


class RequestInfoPayload(Payload):
    question: str = Field(min_length=1, max_length=2000, description="What the customer should tell us.")


class CustomerReplyPayload(Payload):
    message: str = Field(min_length=1, max_length=5000)


class SparePartIn(Payload):
    name: str = Field(min_length=1, max_length=200)
    quantity: StrictInt = Field(ge=1, le=10_000)
    sku: str | None = Field(None, pattern=KEY)


class ResolvePayload(Payload):
    solution: str = Field(min_length=1, max_length=5000, description="解决方案")
    spare_parts: list[SparePartIn] = Field(default_factory=list, max_length=100)
    labour_cost: StrictInt = Field(0, ge=0, le=10**12, description="人工成本, minor units.")
    material_cost: StrictInt = Field(0, ge=0, le=10**12, description="物料成本, minor units.")
    currency: str = Field("CNY", pattern=r"^[A-Z]{3}$")
    internal_note: str | None = Field(
        None,
        max_length=10_000,
        description="For staff only (root cause, what the tasks found); never shown to the customer.",
    )

    @model_validator(mode="after")
    def _currency(self) -> ResolvePayload:
        if not is_iso_currency(self.currency):
            raise ValueError(f"'{self.currency}' is not an ISO 4217 currency code")
        return self


class FollowUpPayload(Payload):
    outcome: Literal["satisfied", "unsatisfied", "unreachable"] = Field(description="回访结果")
    rating: StrictInt | None = Field(None, ge=1, le=5)


class ClosePayload(Payload):
    reason: Literal["duplicate", "invalid", "spam", "resolved_elsewhere", "customer_request", "other"]
    duplicate_of: str | None = Field(None, pattern=r"^T-\d{4}-\d{6,}$")


class ReasonPayload(Payload):
    reason: str = Field(min_length=1, max_length=500)


class OptionalReasonPayload(Payload):
    reason: str | None = Field(None, max_length=500)
