"""The facts a ticket's intake checks, in one statement of scalar subqueries: customer, order, order line,
product and group, instead of a round trip for each."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Sequence, bindparam, exists, func, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.intake import IntakeFacts
from app.domain.tickets import TicketType
from app.persistence.numbering import SEQUENCES
from app.persistence.tables import customers, groups, order_lines, products, sales_orders, tickets


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
        select(customers.c.level)
        .where(customers.c.customer_no == bindparam("customer_no"))
        .scalar_subquery()
        .label("customer_level"),
        select(func.count()).select_from(_recent_complaints()).scalar_subquery().label("earlier_complaints"),
    )


def _recent_complaints() -> Any:
    """At most `complaints_needed` of the customer's complaints since `complaints_since`, newest first through the
    (customer_no, id) index: the count stops as soon as it has what the rule asks, however many tickets the customer
    has (a marketplace account may have thousands)."""
    return (
        select(literal(1))
        .where(
            tickets.c.customer_no == bindparam("customer_no"),
            tickets.c.type == TicketType.COMPLAINT.value,
            tickets.c.created_at >= bindparam("complaints_since"),
        )
        .order_by(tickets.c.id.desc())
        .limit(bindparam("complaints_needed"))
        .subquery()
    )


_FACTS = _facts_statement()
"""Built once: its compiled form is cached."""
_FACTS_NUMBERED = _FACTS.add_columns(Sequence(SEQUENCES["ticket"]).next_value().label("drawn_number"))
"""With the next ticket number drawn from its PostgreSQL sequence: a create's round trip fewer. A refused intake
leaves a gap in the numbers, as a rolled-back create always did (numbers are unique and increasing, not dense)."""


class SqlIntakeReader:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def facts(
        self,
        customer_no: str,
        order_no: str | None,
        sku: str | None,
        group_key: str | None,
        complaints_since: datetime | None = None,
        complaints_needed: int = 0,
        *,
        draw_number: bool = False,
    ) -> IntakeFacts:
        numbered = draw_number and self._conn.dialect.name == "postgresql"
        params = {
            "customer_no": customer_no,
            "order_no": order_no,
            "sku": sku,
            "group_key": group_key,
            "complaints_since": complaints_since,
            "complaints_needed": complaints_needed,
        }
        row = (await self._conn.execute(_FACTS_NUMBERED if numbered else _FACTS, params)).one()
        return IntakeFacts(
            customer_known=bool(row.customer_known),
            order_customer_no=row.order_customer_no,
            order_placed_at=row.order_placed_at,
            sku_on_order=bool(row.sku_on_order),
            product_known=bool(row.product_known),
            product_line=row.product_line,
            warranty_months=row.warranty_months,
            group_known=bool(row.group_known),
            customer_level=row.customer_level,
            earlier_complaints=row.earlier_complaints or 0,
            drawn_number=row.drawn_number if numbered else None,
        )
