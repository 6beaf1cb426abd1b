"""`customer.upserted`, `product.upserted`, `order.upserted`: the outbox events of reference-data upserts, so that
downstream systems follow every change. Each carries the business key, the version, whether the record was created
or updated, and the record as `GET` answers it (tests/api/test_reference_events.py holds the views to the GET
bodies); an identical re-upsert changes nothing and announces nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic_core import to_jsonable_python

from app.domain.customers import Customer
from app.domain.events import OutboxEvent
from app.domain.ids import new_id
from app.domain.orders import SalesOrder
from app.domain.products import Product
from app.domain.unit_of_work import UnitOfWork
from app.services.revisions import Saved

E = TypeVar("E")


@dataclass(frozen=True, slots=True)
class Announced(Generic[E]):
    """One kind of record: its aggregate name, its business key's field and its `GET` view. Reference data announces
    `<aggregate>.upserted`; settings (`split`) announce `<aggregate>.created` and `<aggregate>.updated`."""

    aggregate: str
    key: str
    view: Callable[[E], dict[str, Any]]
    split: bool = False

    @property
    def event_type(self) -> str:
        return f"{self.aggregate}.upserted"

    def type_of(self, saved: Saved[E]) -> str:
        if not self.split:
            return self.event_type
        return f"{self.aggregate}.{'created' if saved.created else 'updated'}"


def _customer(customer: Customer) -> dict[str, Any]:
    data = customer.data
    return {
        "id": customer.id,
        "customer_no": customer.customer_no,
        "name": data.name,
        "phone": data.phone,
        "level": data.level,
        "region": data.region,
        "contact_channels": [
            {"kind": c.kind, "value": c.value, "preferred": c.preferred} for c in data.contact_channels
        ],
        "version": customer.version,
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
    }


def _product(product: Product) -> dict[str, Any]:
    data = product.data
    return {
        "id": product.id,
        "sku": product.sku,
        "name": data.name,
        "model": data.model,
        "warranty_months": data.warranty_months,
        "product_line": data.product_line,
        "version": product.version,
        "created_at": product.created_at,
        "updated_at": product.updated_at,
    }


def _order(order: SalesOrder) -> dict[str, Any]:
    data, fulfilment = order.data, order.data.fulfilment
    return {
        "id": order.id,
        "order_no": order.order_no,
        "customer_no": data.customer_no,
        "currency": data.currency,
        "lines": [
            {
                "line_no": n,
                "sku": line.sku,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "amount": line.amount,
            }
            for n, line in enumerate(data.lines, start=1)
        ],
        "goods_amount": sum(line.amount for line in data.lines),
        "shipping_fee": data.shipping_fee,
        "discount_amount": data.discount_amount,
        "total_amount": data.total_amount,
        "paid_amount": data.paid_amount,
        "payment_status": data.payment_status,
        "fulfilment_status": fulfilment.status,
        "paid_at": fulfilment.paid_at,
        "picking_at": fulfilment.picking_at,
        "picked_at": fulfilment.picked_at,
        "shipped_at": fulfilment.shipped_at,
        "signed_at": fulfilment.signed_at,
        "shipping_region": data.shipping_region,
        "placed_at": data.placed_at,
        "version": order.version,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
    }


CUSTOMER: Announced[Customer] = Announced("customer", "customer_no", _customer)
PRODUCT: Announced[Product] = Announced("product", "sku", _product)
ORDER: Announced[SalesOrder] = Announced("order", "order_no", _order)
UPSERTED_TYPES = frozenset(kind.event_type for kind in (CUSTOMER, PRODUCT, ORDER))


async def announce(uow: UnitOfWork, kind: Announced[E], saved: Saved[E], now: datetime) -> None:
    """Write the change's event into the caller's transaction, unless it changed nothing."""
    if not saved.changed:
        return
    record = to_jsonable_python(kind.view(saved.entity))
    payload = {
        kind.key: record[kind.key],
        "version": record["version"],
        "change": "created" if saved.created else "updated",
        kind.aggregate: record,
    }
    entity_id = saved.entity.id  # type: ignore[attr-defined]
    await uow.outbox.add(OutboxEvent(new_id(), kind.type_of(saved), kind.aggregate, entity_id, now, payload))
