"""The facts a ticket's intake checks, in one statement of scalar subqueries: customer, order, order line,
product and group, instead of a round trip for each."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, exists, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.intake import IntakeFacts
from app.persistence.tables import customers, groups, order_lines, products, sales_orders


def _facts_statement() -> Any:
    so, ol, p = sales_orders.c, order_lines.c, products.c
    order_no, sku = bindparam("order_no"), bindparam("sku")
    return select(
        exists().where(customers.c.customer_no == bindparam("customer_no")).label("customer_known"),
        select(so.customer_no).where(so.order_no == order_no).scalar_subquery().label("order_customer_no"),
        select(so.placed_at).where(so.order_no == order_no).scalar_subquery().label("order_placed_at"),
        exists()
        .where(ol.order_id == select(so.id).where(so.order_no == order_no).scalar_subquery(), ol.sku == sku)
        .label("sku_on_order"),
        select(literal(True)).where(p.sku == sku).scalar_subquery().label("product_known"),
        select(p.product_line).where(p.sku == sku).scalar_subquery().label("product_line"),
        select(p.warranty_months).where(p.sku == sku).scalar_subquery().label("warranty_months"),
        exists().where(groups.c.key == bindparam("group_key")).label("group_known"),
    )


_FACTS = _facts_statement()
"""Built once: its compiled form is cached."""


class SqlIntakeReader:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def facts(
        self, customer_no: str, order_no: str | None, sku: str | None, group_key: str | None
    ) -> IntakeFacts:
        params = {"customer_no": customer_no, "order_no": order_no, "sku": sku, "group_key": group_key}
        row = (await self._conn.execute(_FACTS, params)).one()
        return IntakeFacts(
            customer_known=bool(row.customer_known),
            order_customer_no=row.order_customer_no,
            order_placed_at=row.order_placed_at,
            sku_on_order=bool(row.sku_on_order),
            product_known=bool(row.product_known),
            product_line=row.product_line,
            warranty_months=row.warranty_months,
            group_known=bool(row.group_known),
        )
