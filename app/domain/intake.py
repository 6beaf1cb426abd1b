"""What a ticket's intake checks about the references it names, read at once (受理校验)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class IntakeFacts:
    """For the customer, order, product and group a new ticket names: whether each exists, and what intake takes
    from them. Fields about a reference that was not named are None/False."""

    customer_known: bool
    order_customer_no: str | None = None  # the named order's customer; None when there is no such order
    order_placed_at: datetime | None = None
    sku_on_order: bool = False
    product_known: bool = False
    product_line: str | None = None
    warranty_months: int | None = None
    group_known: bool = False
    customer_level: str | None = None
    earlier_complaints: int = 0  # the customer's complaints since `complaints_since`, at most `complaints_needed`
    drawn_number: int | None = None  # the ticket number sequence's next value, when the reader drew it with the facts


class IntakeReader(Protocol):
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
        """Counts the customer's complaints since `complaints_since` up to `complaints_needed` (0 or no time: none,
        the repeat-complaint check is off). `draw_number`: also draw the next ticket number in the same statement
        where the database can (a sequence; `drawn_number` stays None where it cannot)."""
        ...
