"""Review queue contract: what a queue takes (business lines, after-sales types, an amount range), who reviews from
it, and its claim pool."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from app.domain.after_sales import AfterSalesType
from app.domain.review_queues import AmountRange, QueueConditions, ReviewQueue, ReviewQueueData
from app.schemas.after_sales import AfterSalesOut
from app.schemas.common import KEY_PATTERN, Input, Line, MinorUnits, Output
from app.schemas.people import USER_ID_PATTERN

BusinessLine = Annotated[str, Field(pattern=KEY_PATTERN, examples=["home-appliance"])]
ReviewerId = Annotated[str, Field(pattern=USER_ID_PATTERN, examples=["reviewer-wang"])]


class AmountRangeIn(Input):
    """Orders in `currency` whose amount is at least `min` and below `max` (minor units; either bound may be left
    out). An order in another currency is not taken."""

    currency: str = Field(pattern=r"^[A-Z]{3}$", examples=["CNY"], description="ISO 4217.")
    min: MinorUnits | None = Field(None, description="Inclusive lower bound; null: none.")
    max: MinorUnits | None = Field(None, description="Exclusive upper bound, above `min`; null: none.")

    def to_domain(self) -> AmountRange:
        return AmountRange(self.currency, self.min, self.max)


class QueueConditionsIn(Input):
    """Every condition set must hold; one left out or empty accepts anything. An order of no business line is taken
    only by a queue that names no business line."""

    business_lines: list[BusinessLine] = Field(default_factory=list, max_length=50, description="Any of these.")
    types: list[AfterSalesType] = Field(default_factory=list, max_length=6, description="Any of these types.")
    amount: AmountRangeIn | None = None

    def to_domain(self) -> QueueConditions:
        return QueueConditions(
            business_lines=frozenset(self.business_lines),
            types=frozenset(self.types),
            amount=self.amount.to_domain() if self.amount else None,
        )


class ReviewQueueIn(Input):
    """审核队列. Queues are tried by `position` (ties by key) as an order enters review; the first whose conditions
    hold takes it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "家电大额退款",
                    "position": 1,
                    "conditions": {
                        "business_lines": ["home-appliance"],
                        "types": ["refund", "return_refund"],
                        "amount": {"currency": "CNY", "min": 50000, "max": None},
                    },
                    "reviewers": ["reviewer-wang", "reviewer-li"],
                }
            ]
        }
    )

    name: Line = Field(min_length=1, max_length=200)
    position: StrictInt = Field(ge=1, le=10_000, description="Matching order: lower first.")
    conditions: QueueConditionsIn = Field(default_factory=QueueConditionsIn)
    reviewers: list[ReviewerId] = Field(
        min_length=1, max_length=100, description="User ids of registered, active agents who claim from the queue."
    )

    def to_data(self) -> ReviewQueueData:
        return ReviewQueueData(self.name, self.position, self.conditions.to_domain(), tuple(self.reviewers))


class AmountRangeOut(BaseModel):
    currency: str
    min: int | None
    max: int | None


class QueueConditionsOut(BaseModel):
    business_lines: list[str]
    types: list[AfterSalesType]
    amount: AmountRangeOut | None


class ReviewQueueOut(Output):
    id: UUID
    key: str
    name: str
    position: int
    conditions: QueueConditionsOut
    reviewers: list[str]
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, queue: ReviewQueue) -> ReviewQueueOut:
        data, amount = queue.data, queue.data.conditions.amount
        return cls(
            id=queue.id,
            key=queue.key,
            name=data.name,
            position=data.position,
            conditions=QueueConditionsOut(
                business_lines=sorted(data.conditions.business_lines),
                types=sorted(data.conditions.types),
                amount=None
                if amount is None
                else AmountRangeOut(currency=amount.currency, min=amount.minimum, max=amount.maximum),
            ),
            reviewers=list(data.reviewers),
            version=queue.version,
            created_at=queue.created_at,
            updated_at=queue.updated_at,
        )


class ReviewPoolOut(BaseModel):
    """待领取: a page of a review queue's unclaimed orders with the pool's size and age."""

    items: list[AfterSalesOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")
    total: int = Field(description="Unclaimed orders under review in the queue, within the caller's business lines.")
    oldest_age_seconds: int | None = Field(description="How long the oldest has waited; null when none waits.")
