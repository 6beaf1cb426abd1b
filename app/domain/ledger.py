"""A sales order's money and goods as after-sales holds them (账务): per order and per line.

Creating an after-sales order reserves (预占) its money and quantities at once, so that concurrent requests,
each checked under the sales order's lock, can never hold more than was paid or bought, for the order and for
every line. The service persists the order totals; the per-line holds are what live after-sales orders say."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from app.domain.after_sales import GOODS_TYPES, MONEY_TYPES, AfterSalesLine, AfterSalesOrder, AfterSalesType
from app.domain.errors import Conflict, FieldError
from app.domain.money import format_money
from app.domain.orders import OrderData, OrderLine


@dataclass(frozen=True, slots=True)
class LineHold:
    """What live after-sales orders hold against one order line: money refunded or reserved, and quantity
    claimed by returns, exchanges and replenishments."""

    amount: int = 0
    quantity: int = 0


@dataclass(frozen=True, slots=True)
class Ledger:
    """`reserved`: refunds under way; `refunded`: refunds paid; `compensated`: compensation granted (any kind).
    `lines`: holds per sku. `version` 0: nothing stored yet."""

    order_no: str
    currency: str
    paid: int
    reserved: int = 0
    refunded: int = 0
    compensated: int = 0
    version: int = 0
    lines: Mapping[str, LineHold] = field(default_factory=dict)

    @property
    def refundable(self) -> int:
        """What may still be refunded on the whole order."""
        return max(0, self.paid - self.reserved - self.refunded)

    def held(self, sku: str) -> LineHold:
        return self.lines.get(sku, LineHold())

    def line_refundable(self, line: OrderLine) -> int:
        """A line's value minus what is refunded or reserved on it, and never more than the order allows."""
        return max(0, min(line.amount - self.held(line.sku).amount, self.refundable))

    def line_remaining(self, line: OrderLine) -> int:
        """Units of a line not yet claimed by returns, exchanges or replenishments."""
        return max(0, line.quantity - self.held(line.sku).quantity)

    def compensable(self, max_percent: int) -> int:
        """What compensation may still grant: a share of the amount paid, less what was granted."""
        return max(0, self.paid * max_percent // 100 - self.compensated)

    def reserve(self, order: AfterSalesOrder, lines: Iterable[OrderLine], compensation_percent: int) -> Ledger:
        """The ledger holding `order` too; refuses (the invariant behind every eligibility check) to hold more
        money or goods than the order and each of its `lines` allow."""
        by_sku = {line.sku: line for line in lines}
        over: list[str] = []
        if order.type in MONEY_TYPES and order.amount > self.refundable:
            over.append(f"refund {self._money(order.amount)} above refundable {self._money(self.refundable)}")
        if order.type is AfterSalesType.COMPENSATION and order.amount > self.compensable(compensation_percent):
            over.append(f"compensation {self._money(order.amount)} above the limit")
        for claim in order.lines:
            line = by_sku.get(claim.sku)
            if line is None:
                over.append(f"'{claim.sku}' is not on the order")
                continue
            if order.type in MONEY_TYPES and claim.amount > self.line_refundable(line):
                over.append(f"'{claim.sku}' refunds {self._money(claim.amount)} above its refundable value")
            if order.type in GOODS_TYPES and claim.quantity > self.line_remaining(line):
                over.append(f"'{claim.sku}' claims {claim.quantity} of {self.line_remaining(line)} left")
        if over:
            raise Conflict(
                f"Order {self.order_no} cannot hold this after-sales order: {'; '.join(over)}",
                code="refund_exceeds_refundable",
            )
        return self._moved(order, +1)

    def release(self, order: AfterSalesOrder) -> Ledger:
        """A rejected, cancelled or failed order frees what it held."""
        return self._moved(order, -1)

    def settle(self, order: AfterSalesOrder) -> Ledger:
        """A paid refund: reserved becomes refunded; the line keeps holding it."""
        if order.type not in MONEY_TYPES:
            return self
        return replace(self, reserved=self.reserved - order.amount, refunded=self.refunded + order.amount)

    def check_fits(self, incoming: OrderData, compensation_percent: int) -> None:
        """An ERP re-upsert may not shrink the order below what after-sales holds against it (409 naming each)."""
        errors: list[FieldError] = []
        held = self.reserved + self.refunded
        if incoming.paid_amount < held:
            errors.append(FieldError("/paid_amount", f"refunds hold {self._money(held)} of this order"))
        if self.compensated > incoming.paid_amount * compensation_percent // 100:
            errors.append(
                FieldError("/paid_amount", f"compensation of {self._money(self.compensated)} was granted on it")
            )
        index = {line.sku: (n, line) for n, line in enumerate(incoming.lines)}
        for sku, hold in self.lines.items():
            if not (hold.amount or hold.quantity):
                continue
            if sku not in index:
                errors.append(FieldError("/lines", f"'{sku}' is held by after-sales orders and cannot be removed"))
                continue
            n, line = index[sku]
            if line.quantity < hold.quantity:
                errors.append(FieldError(f"/lines/{n}/quantity", f"{hold.quantity} units are claimed by after-sales"))
            if line.amount < hold.amount:
                errors.append(
                    FieldError(f"/lines/{n}/unit_price", f"refunds hold {self._money(hold.amount)} of this line")
                )
        if errors:
            raise Conflict(
                f"Order {self.order_no} cannot shrink below what after-sales holds against it",
                code="order_below_held",
                errors=errors,
            )

    def _moved(self, order: AfterSalesOrder, sign: int) -> Ledger:
        if order.type is AfterSalesType.COMPENSATION:
            return replace(self, compensated=self.compensated + sign * order.amount)
        if order.type not in MONEY_TYPES and order.type not in GOODS_TYPES:
            return self
        lines = dict(self.lines)
        for claim in order.lines:
            hold = self.held(claim.sku)
            money = claim.amount if order.type in MONEY_TYPES else 0
            goods = claim.quantity if order.type in GOODS_TYPES else 0
            lines[claim.sku] = LineHold(hold.amount + sign * money, hold.quantity + sign * goods)
        reserved = self.reserved + sign * order.amount if order.type in MONEY_TYPES else self.reserved
        return replace(self, reserved=reserved, lines=lines)

    def _money(self, amount: int) -> str:
        return format_money(amount, self.currency)


def allocate(amount: int, caps: Iterable[tuple[str, int, int]]) -> tuple[AfterSalesLine, ...]:
    """Spread `amount` over lines `(sku, quantity, cap)` in order, each taking at most its cap: the per-line money
    an after-sales order holds. The caller has checked that the caps cover the amount."""
    lines, left = [], amount
    for sku, quantity, cap in caps:
        share = min(cap, left)
        left -= share
        lines.append(AfterSalesLine(sku, quantity, share))
    return tuple(lines)
