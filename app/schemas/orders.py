"""Sales order contract: lines, money in minor units, fulfilment stages with their times."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import AwareDatetime, ConfigDict, Field

from app.domain.orders import (
    Fulfilment,
    FulfilmentStatus,
    OrderData,
    OrderLine,
    PaymentStatus,
    SalesOrder,
)
from app.schemas.common import CustomerNo, Input, Line, MinorUnits, Output, Quantity, Sku


class OrderLineIn(Input):
    sku: Sku
    quantity: Quantity
    unit_price: MinorUnits


class OrderIn(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "customer_no": "C-10001",
                    "currency": "CNY",
                    "lines": [{"sku": "AP-X3-WHITE", "quantity": 1, "unit_price": 129900}],
                    "shipping_fee": 1000,
                    "discount_amount": 0,
                    "paid_amount": 130900,
                    "payment_status": "paid",
                    "fulfilment_status": "signed",
                    "paid_at": "2026-11-01T08:00:00Z",
                    "picking_at": "2026-11-01T10:00:00Z",
                    "picked_at": "2026-11-01T12:00:00Z",
                    "shipped_at": "2026-11-02T09:00:00Z",
                    "signed_at": "2026-11-03T15:30:00Z",
                    "shipping_region": "CN-31",
                    "placed_at": "2026-11-01T07:59:00Z",
                }
            ]
        }
    )

    customer_no: CustomerNo
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code.", examples=["CNY"])
    lines: list[OrderLineIn] = Field(min_length=1, max_length=500)
    shipping_fee: MinorUnits = 0
    discount_amount: MinorUnits = 0
    paid_amount: MinorUnits = Field(description="Equals the order total when paid; 0 when unpaid.")
    payment_status: PaymentStatus
    fulfilment_status: FulfilmentStatus = Field(description="Stages only move forward.")
    paid_at: AwareDatetime | None = None
    picking_at: AwareDatetime | None = None
    picked_at: AwareDatetime | None = None
    shipped_at: AwareDatetime | None = None
    signed_at: AwareDatetime | None = None
    shipping_region: Line | None = Field(None, min_length=1, max_length=64)
    placed_at: AwareDatetime

    def to_data(self) -> OrderData:
        return OrderData(
            customer_no=self.customer_no,
            lines=tuple(OrderLine(line.sku, line.quantity, line.unit_price) for line in self.lines),
            currency=self.currency,
            shipping_fee=self.shipping_fee,
            discount_amount=self.discount_amount,
            paid_amount=self.paid_amount,
            payment_status=self.payment_status,
            fulfilment=Fulfilment(
                status=self.fulfilment_status,
                paid_at=self.paid_at,
                picking_at=self.picking_at,
                picked_at=self.picked_at,
                shipped_at=self.shipped_at,
                signed_at=self.signed_at,
            ),
            shipping_region=self.shipping_region,
            placed_at=self.placed_at,
        )


class OrderLineOut(Output):
    line_no: int
    sku: str
    quantity: int
    unit_price: int
    amount: int


class OrderOut(Output):
    id: UUID
    order_no: str
    customer_no: str
    currency: str
    lines: list[OrderLineOut]
    goods_amount: int
    shipping_fee: int
    discount_amount: int
    total_amount: int
    paid_amount: int
    payment_status: PaymentStatus
    fulfilment_status: FulfilmentStatus
    paid_at: datetime | None
    picking_at: datetime | None
    picked_at: datetime | None
    shipped_at: datetime | None
    signed_at: datetime | None
    shipping_region: str | None
    placed_at: datetime
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, order: SalesOrder) -> OrderOut:
        data, fulfilment = order.data, order.data.fulfilment
        return cls(
            id=order.id,
            order_no=order.order_no,
            customer_no=data.customer_no,
            currency=data.currency,
            lines=[
                OrderLineOut(
                    line_no=n, sku=line.sku, quantity=line.quantity, unit_price=line.unit_price, amount=line.amount
                )
                for n, line in enumerate(data.lines, start=1)
            ],
            goods_amount=sum(line.amount for line in data.lines),
            shipping_fee=data.shipping_fee,
            discount_amount=data.discount_amount,
            total_amount=data.total_amount,
            paid_amount=data.paid_amount,
            payment_status=data.payment_status,
            fulfilment_status=fulfilment.status,
            paid_at=fulfilment.paid_at,
            picking_at=fulfilment.picking_at,
            picked_at=fulfilment.picked_at,
            shipped_at=fulfilment.shipped_at,
            signed_at=fulfilment.signed_at,
            shipping_region=data.shipping_region,
            placed_at=data.placed_at,
            version=order.version,
            created_at=order.created_at,
            updated_at=order.updated_at,
        )
