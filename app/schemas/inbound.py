"""Inbound event contract: the body other systems sign (`type`, `data`), the data of reference-data events (the PUT
bodies plus their business key), and what the service answers and keeps."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, TypeVar
from uuid import UUID

import orjson
from pydantic import AwareDatetime, ConfigDict, Field, PrivateAttr, ValidationError

from app.domain.customers import CustomerData
from app.domain.errors import FieldError, InvalidInput
from app.domain.inbound import InboundEvent, InboundStatus
from app.domain.orders import OrderData
from app.schemas.common import CustomerNo, Input, OrderNo, Output
from app.schemas.customers import CustomerIn
from app.schemas.orders import OrderIn
from app.services.inbound import Receipt

M = TypeVar("M", bound=Input)

EVENT_TYPE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"


def _field_errors(exc: ValidationError) -> list[FieldError]:
    """Pydantic's errors as the request validation handler words them, so an event's data and a PUT body sent with
    the same mistake get the same field errors."""
    return [
        FieldError(
            "".join(f"/{part}" for part in e["loc"]), "unknown field" if e["type"] == "extra_forbidden" else e["msg"]
        )
        for e in exc.errors()
    ]


def _invalid(errors: list[FieldError]) -> InvalidInput:
    return InvalidInput(f"The request has {len(errors)} invalid field(s)", code="validation_failed", errors=errors)


def _validated(model: type[M], value: Any) -> M:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise _invalid(_field_errors(exc)) from None


class InboundEventIn(Input):
    """The body of every inbound event (the Standard Webhooks payload shape)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "payment.succeeded",
                    "timestamp": "2026-11-25T08:00:00Z",
                    "data": {"after_sales": "AS-2026-000045", "reference": "PAY-20261125-0001"},
                }
            ]
        }
    )

    type: str = Field(pattern=EVENT_TYPE_PATTERN, description="Event type, e.g. payment.succeeded.")
    data: dict[str, Any] = Field(description="The event's fields; which ones depends on the type.")
    timestamp: AwareDatetime | None = Field(None, description="When the event happened at the source.")
    _payload: dict[str, Any] = PrivateAttr(default_factory=dict)

    @classmethod
    def parse(cls, body: bytes) -> InboundEventIn:
        """The validated event, or 422 naming the field; the body must be a JSON object."""
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise _invalid([FieldError("", f"the body is not valid JSON: {exc}")]) from None
        if not isinstance(payload, dict):
            raise _invalid([FieldError("", "the body must be a JSON object with `type` and `data`")])
        event = _validated(cls, payload)
        event._payload = payload
        return event

    @property
    def payload(self) -> dict[str, Any]:
        """The body exactly as sent, for the stored event."""
        return self._payload


class OrderUpsertedData(OrderIn):
    """`order.upserted`: the body of PUT /v1/orders/{order_no} plus the order number."""

    order_no: OrderNo


class CustomerUpsertedData(CustomerIn):
    """`customer.upserted`: the body of PUT /v1/customers/{customer_no} plus the customer number."""

    customer_no: CustomerNo


class ReferenceDataReader:
    """Reads reference-data events with the PUT routes' own schemas (field pointers relative to `data`)."""

    def order(self, data: Mapping[str, Any]) -> tuple[str, OrderData]:
        order = _validated(OrderUpsertedData, data)
        return order.order_no, order.to_data()

    def customer(self, data: Mapping[str, Any]) -> tuple[str, CustomerData]:
        customer = _validated(CustomerUpsertedData, data)
        return customer.customer_no, customer.to_data()


class InboundEventOut(Output):
    id: UUID
    source: str
    webhook_id: str
    type: str
    status: InboundStatus = Field(
        description="received (being processed), processed, failed (retried on the next delivery) or unknown."
    )
    detail: str | None = Field(description="What processing did, or why it failed or was not processed.")
    received_at: datetime
    processed_at: datetime | None

    @classmethod
    def of(cls, event: InboundEvent) -> InboundEventOut:
        return cls(
            id=event.id,
            source=event.source,
            webhook_id=event.webhook_id,
            type=event.type,
            status=event.status,
            detail=event.detail,
            received_at=event.received_at,
            processed_at=event.processed_at,
        )


class InboundEventDetailOut(InboundEventOut):
    payload: dict[str, Any] = Field(description="The body as the source sent it.")

    @classmethod
    def of(cls, event: InboundEvent) -> InboundEventDetailOut:
        return cls(**InboundEventOut.of(event).model_dump(), payload=event.payload)


class InboundReceiptOut(Output):
    id: UUID = Field(description="The stored event's id (GET /v1/inbound-events/{id}).")
    status: Literal["processed", "duplicate", "unknown"] = Field(
        description="processed now; duplicate: processed (or kept as unknown) before, nothing done again; unknown: "
        "a type not handled from this source, kept for inspection."
    )
    event: InboundEventOut

    @classmethod
    def of(cls, receipt: Receipt) -> InboundReceiptOut:
        event = receipt.event
        status: Literal["processed", "duplicate", "unknown"] = (
            "duplicate" if receipt.duplicate else "unknown" if event.status is InboundStatus.UNKNOWN else "processed"
        )
        return cls(id=event.id, status=status, event=InboundEventOut.of(event))
