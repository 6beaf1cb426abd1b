"""Sales order rows and their lines ↔ SalesOrder entities."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.orders import (
    STAGE_TIMESTAMP,
    Fulfilment,
    FulfilmentStatus,
    OrderData,
    OrderLine,
    PaymentStatus,
    SalesOrder,
)
from app.domain.pagination import Page, PageRequest
from app.persistence.keyset import fetch_page
from app.persistence.lookups import Lookup
from app.persistence.tables import order_lines, sales_orders


def _values(order: SalesOrder) -> dict[str, Any]:
    data = order.data
    return {
        "customer_no": data.customer_no,
        "currency": data.currency,
        "shipping_fee": data.shipping_fee,
        "discount_amount": data.discount_amount,
        "paid_amount": data.paid_amount,
        "payment_status": data.payment_status.value,
        "fulfilment_status": data.fulfilment.status.value,
        **{field: getattr(data.fulfilment, field) for field in STAGE_TIMESTAMP.values()},
        "shipping_region": data.shipping_region,
        "placed_at": data.placed_at,
        "version": order.version,
        "updated_at": order.updated_at,
    }


def _entity(row: Row[Any], lines: Sequence[OrderLine]) -> SalesOrder:
    return SalesOrder(
        id=row.id,
        order_no=row.order_no,
        data=OrderData(
            customer_no=row.customer_no,
            lines=tuple(lines),
            currency=row.currency,
            shipping_fee=row.shipping_fee,
            discount_amount=row.discount_amount,
            paid_amount=row.paid_amount,
            payment_status=PaymentStatus(row.payment_status),
            fulfilment=Fulfilment(
                status=FulfilmentStatus(row.fulfilment_status),
                **{field: getattr(row, field) for field in STAGE_TIMESTAMP.values()},
            ),
            shipping_region=row.shipping_region,
            placed_at=row.placed_at,
        ),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


_BY_NUMBER = Lookup(sales_orders, sales_orders.c.order_no)


class SqlOrderRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, order_no: str, *, for_update: bool = False) -> SalesOrder | None:
        row = await _BY_NUMBER.row(self._conn, order_no, for_update=for_update)
        if row is None:
            return None
        return _entity(row, (await self._lines([row.id]))[row.id])

    async def add(self, order: SalesOrder) -> None:
        await self._conn.execute(
            insert(sales_orders).values(
                id=order.id, order_no=order.order_no, created_at=order.created_at, **_values(order)
            )
        )
        await self._insert_lines(order)

    async def update(self, order: SalesOrder) -> None:
        await self._conn.execute(update(sales_orders).where(sales_orders.c.id == order.id).values(**_values(order)))
        await self._conn.execute(delete(order_lines).where(order_lines.c.order_id == order.id))
        await self._insert_lines(order)

    async def list(self, page: PageRequest, *, customer_no: str | None = None) -> Page[SalesOrder]:
        stmt = select(sales_orders)
        if customer_no is not None:
            stmt = stmt.where(sales_orders.c.customer_no == customer_no)
        rows, next_key = await fetch_page(self._conn, stmt, sales_orders.c.id, page)
        lines = await self._lines([row.id for row in rows])
        return Page([_entity(row, lines[row.id]) for row in rows], next_key)

    async def _insert_lines(self, order: SalesOrder) -> None:
        await self._conn.execute(
            insert(order_lines),
            [
                {
                    "order_id": order.id,
                    "line_no": n,
                    "sku": line.sku,
                    "quantity": line.quantity,
                    "unit_price": line.unit_price,
                }
                for n, line in enumerate(order.data.lines, start=1)
            ],
        )

    async def _lines(self, order_ids: list[UUID]) -> dict[UUID, list[OrderLine]]:
        found: dict[UUID, list[OrderLine]] = defaultdict(list)
        if not order_ids:
            return found
        stmt = (
            select(order_lines)
            .where(order_lines.c.order_id.in_(order_ids))
            .order_by(order_lines.c.order_id, order_lines.c.line_no)
        )
        for row in await self._conn.execute(stmt):
            found[row.order_id].append(OrderLine(sku=row.sku, quantity=row.quantity, unit_price=row.unit_price))
        return found
