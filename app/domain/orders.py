"""Sales orders (销售订单) as the ERP sends them: lines, money, and how far fulfilment has come.

After-sales eligibility reads this: refunds only before picking completes, returns only after signing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from app.domain.errors import Conflict, FieldError, InvalidInput
from app.domain.money import is_iso_currency
from app.domain.pagination import Page, PageRequest

CLOCK_SKEW = timedelta(minutes=5)


class PaymentStatus(StrEnum):
    UNPAID = "unpaid"
    PAID = "paid"


class FulfilmentStatus(StrEnum):
    """Ordered stages; an order only moves forward through them."""

    UNPAID = "unpaid"
    PAID = "paid"
    PICKING = "picking"
    PICKED = "picked"
    SHIPPED = "shipped"
    SIGNED = "signed"

    @property
    def rank(self) -> int:
        return _STAGES.index(self)


_STAGES = list(FulfilmentStatus)
# The timestamp field that records reaching each stage (unpaid has none).
STAGE_TIMESTAMP = {
    FulfilmentStatus.PAID: "paid_at",
    FulfilmentStatus.PICKING: "picking_at",
    FulfilmentStatus.PICKED: "picked_at",
    FulfilmentStatus.SHIPPED: "shipped_at",
    FulfilmentStatus.SIGNED: "signed_at",
}


@dataclass(frozen=True, slots=True)
class OrderLine:
    sku: str
    quantity: int
    unit_price: int

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_price


@dataclass(frozen=True, slots=True)
class Fulfilment:
    status: FulfilmentStatus
    paid_at: datetime | None = None
    picking_at: datetime | None = None
    picked_at: datetime | None = None
    shipped_at: datetime | None = None
    signed_at: datetime | None = None

    def reached_at(self, stage: FulfilmentStatus) -> datetime | None:
        return getattr(self, STAGE_TIMESTAMP[stage]) if stage in STAGE_TIMESTAMP else None


@dataclass(frozen=True, slots=True)
class OrderData:
    customer_no: str
    lines: tuple[OrderLine, ...]
    currency: str
    shipping_fee: int
    discount_amount: int
    paid_amount: int
    payment_status: PaymentStatus
    fulfilment: Fulfilment
    shipping_region: str | None
    placed_at: datetime

    @property
    def total_amount(self) -> int:
        """What the customer owes: lines plus shipping minus discount."""
        return sum(line.amount for line in self.lines) + self.shipping_fee - self.discount_amount

    @property
    def skus(self) -> set[str]:
        return {line.sku for line in self.lines}


@dataclass(frozen=True, slots=True)
class SalesOrder:
    id: UUID
    order_no: str
    data: OrderData
    version: int
    created_at: datetime
    updated_at: datetime


def validate_order(data: OrderData, now: datetime) -> None:
    """Raise InvalidInput naming every field that breaks an order rule."""
    errors: list[FieldError] = []
    if not is_iso_currency(data.currency):
        errors.append(FieldError("/currency", f"'{data.currency}' is not an ISO 4217 currency code"))
    seen: set[str] = set()
    for index, line in enumerate(data.lines):
        if line.sku in seen:
            errors.append(FieldError(f"/lines/{index}/sku", f"sku '{line.sku}' appears on more than one line"))
        seen.add(line.sku)
    goods = sum(line.amount for line in data.lines)
    if data.discount_amount > goods + data.shipping_fee:
        errors.append(FieldError("/discount_amount", "discount exceeds the goods and shipping amount"))
    elif data.payment_status is PaymentStatus.PAID and data.paid_amount != data.total_amount:
        errors.append(
            FieldError("/paid_amount", f"a paid order must have paid_amount equal to the total {data.total_amount}")
        )
    if data.payment_status is PaymentStatus.UNPAID:
        if data.paid_amount != 0:
            errors.append(FieldError("/paid_amount", "an unpaid order has paid_amount 0"))
        if data.fulfilment.status is not FulfilmentStatus.UNPAID:
            errors.append(FieldError("/fulfilment_status", "an unpaid order cannot be in fulfilment"))
    elif data.fulfilment.status is FulfilmentStatus.UNPAID:
        errors.append(FieldError("/fulfilment_status", "a paid order is at least in status 'paid'"))
    errors.extend(_timestamp_errors(data, now))
    if errors:
        raise InvalidInput("The order breaks one or more order rules", errors=errors)


def _timestamp_errors(data: OrderData, now: datetime) -> list[FieldError]:
    errors: list[FieldError] = []
    if data.placed_at > now + CLOCK_SKEW:
        errors.append(FieldError("/placed_at", "placed_at is in the future"))
    previous, previous_field = data.placed_at, "placed_at"
    for stage, field in STAGE_TIMESTAMP.items():
        at = data.fulfilment.reached_at(stage)
        reached = stage.rank <= data.fulfilment.status.rank
        if at is None:
            if stage is data.fulfilment.status:
                errors.append(FieldError(f"/{field}", f"required when fulfilment_status is '{stage}'"))
            continue
        if not reached:
            errors.append(FieldError(f"/{field}", f"set, but the order has not reached '{stage}'"))
        elif at > now + CLOCK_SKEW:
            errors.append(FieldError(f"/{field}", f"{field} is in the future"))
        elif at < previous:
            errors.append(FieldError(f"/{field}", f"{field} is earlier than {previous_field}"))
        else:
            previous, previous_field = at, field
    return errors


def check_order_change(existing: SalesOrder, incoming: OrderData) -> None:
    """An order's customer never changes, and its fulfilment never moves backwards."""
    if existing.data.customer_no != incoming.customer_no:
        raise Conflict(
            f"Order {existing.order_no} belongs to customer {existing.data.customer_no}; its customer cannot change",
            code="order_customer_changed",
            errors=[FieldError("/customer_no", "differs from the order's customer")],
        )
    if incoming.fulfilment.status.rank < existing.data.fulfilment.status.rank:
        raise Conflict(
            f"Order {existing.order_no} is '{existing.data.fulfilment.status}'; fulfilment cannot move back "
            f"to '{incoming.fulfilment.status}'",
            code="fulfilment_regressed",
            errors=[FieldError("/fulfilment_status", "earlier than the order's current status")],
        )
    if existing.data.currency != incoming.currency:
        raise Conflict(
            f"Order {existing.order_no} is in {existing.data.currency}; its currency cannot change",
            code="order_currency_changed",
            errors=[FieldError("/currency", "differs from the order's currency")],
        )


class OrderRepository(Protocol):
    async def get(self, order_no: str, *, for_update: bool = False) -> SalesOrder | None: ...
    async def add(self, order: SalesOrder) -> None: ...
    async def update(self, order: SalesOrder) -> None: ...
    async def list(self, page: PageRequest, *, customer_no: str | None = None) -> Page[SalesOrder]: ...
