"""售后规则: what each line and the whole order allow now, how much, until when, and why not, in both languages.
Creation enforces exactly this answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.after_sales import GOODS_TYPES, MONEY_TYPES, AfterSalesType
from app.domain.ledger import Ledger
from app.domain.orders import FulfilmentStatus, PaymentStatus, SalesOrder

TYPE_NAMES = {
    AfterSalesType.REFUND: ("退款", "a refund"),
    AfterSalesType.PARTIAL_REFUND: ("部分退款", "a partial refund"),
    AfterSalesType.RETURN_REFUND: ("退货退款", "a return and refund"),
    AfterSalesType.REPLENISH: ("补发", "a replacement shipment"),
    AfterSalesType.EXCHANGE: ("换货", "an exchange"),
    AfterSalesType.COMPENSATION: ("赔付", "compensation"),
}
"""How the rule texts name each type, in Chinese and in English."""


@dataclass(frozen=True, slots=True)
class EligibilityPolicy:
    """The after-sales rules shown to customers (售后规则), configurable per deployment."""

    return_window: timedelta = timedelta(days=7)  # 7天无理由退货
    exchange_window: timedelta = timedelta(days=15)
    replenish_window: timedelta = timedelta(days=15)
    partial_refund_window: timedelta = timedelta(days=15)
    compensation_window: timedelta = timedelta(days=30)
    compensation_max_percent: int = 30  # of the amount paid, per order

    def window(self, kind: AfterSalesType) -> timedelta:
        return {
            AfterSalesType.PARTIAL_REFUND: self.partial_refund_window,
            AfterSalesType.RETURN_REFUND: self.return_window,
            AfterSalesType.EXCHANGE: self.exchange_window,
            AfterSalesType.REPLENISH: self.replenish_window,
            AfterSalesType.COMPENSATION: self.compensation_window,
        }[kind]


@dataclass(frozen=True, slots=True)
class Rule:
    """One after-sales type's verdict for a line or an order: allowed now or why not, in both languages."""

    type: AfterSalesType
    allowed: bool
    deadline: datetime | None
    text_zh: str
    text_en: str

    def refused(self, text_zh: str, text_en: str) -> Rule:
        return Rule(self.type, False, self.deadline, text_zh, text_en)


@dataclass(frozen=True, slots=True)
class LineEligibility:
    line_no: int
    sku: str
    unit_price: int
    purchased_quantity: int
    remaining_quantity: int  # not yet claimed by returns, exchanges or replenishments
    max_refundable: int  # the line's value less what is refunded or reserved on it, within the order's refundable
    rules: tuple[Rule, ...]

    def rule(self, kind: AfterSalesType) -> Rule:
        return next(r for r in self.rules if r.type is kind)


@dataclass(frozen=True, slots=True)
class Eligibility:
    order_no: str
    currency: str
    refundable: int
    compensable: int
    lines: tuple[LineEligibility, ...]
    order_rules: tuple[Rule, ...]  # refund and compensation apply to the whole order

    def rule(self, kind: AfterSalesType) -> Rule:
        return next(r for r in self.order_rules if r.type is kind)

    def line(self, sku: str) -> LineEligibility | None:
        return next((line for line in self.lines if line.sku == sku), None)


LINE_TYPES = (
    AfterSalesType.PARTIAL_REFUND,
    AfterSalesType.RETURN_REFUND,
    AfterSalesType.EXCHANGE,
    AfterSalesType.REPLENISH,
)
"""Types asked for line by line; refund and compensation are for the whole order."""


def _window_rule(kind: AfterSalesType, order: SalesOrder, window: timedelta, now: datetime) -> Rule:
    """Types allowed only after signing, within `window` of it."""
    signed_at = order.data.fulfilment.signed_at
    days = window.days
    zh, en = TYPE_NAMES[kind]
    if order.data.fulfilment.status is not FulfilmentStatus.SIGNED or signed_at is None:
        return Rule(kind, False, None, f"签收后方可申请{zh}", f"You can ask for {en} once the order is signed for")
    deadline = signed_at + window
    if now > deadline:
        return Rule(
            kind, False, deadline, f"已超过签收后{days}天的{zh}期限", f"The {days}-day window for {en} has passed"
        )
    return Rule(
        kind, True, deadline, f"签收后{days}天内可申请{zh}", f"You can ask for {en} within {days} days of signing"
    )


def _refund_rule(order: SalesOrder, refundable: int) -> Rule:
    kind = AfterSalesType.REFUND
    if order.data.fulfilment.status.rank >= FulfilmentStatus.PICKED.rank:
        return Rule(
            kind, False, None, "订单已拣货完成，请申请退货退款", "Picking is complete; ask for a return instead"
        )
    if refundable <= 0:
        return Rule(kind, False, None, "订单无可退金额", "Nothing is left to refund on this order")
    return Rule(kind, True, None, "拣货完成前可直接退款", "Refundable until picking completes")


def assess(order: SalesOrder, ledger: Ledger, policy: EligibilityPolicy, now: datetime) -> Eligibility:
    """What each line and the order allow now, from the order and what after-sales holds against it."""
    paid = order.data.payment_status is PaymentStatus.PAID
    refundable = ledger.refundable if paid else 0
    compensable = ledger.compensable(policy.compensation_max_percent)
    lines = []
    for line_no, line in enumerate(order.data.lines, start=1):
        remaining = ledger.line_remaining(line)
        line_refundable = ledger.line_refundable(line) if paid else 0
        rules = []
        for kind in LINE_TYPES:
            rule = _window_rule(kind, order, policy.window(kind), now)
            if rule.allowed and kind in GOODS_TYPES and remaining == 0:
                rule = rule.refused("该商品已无可申请数量", "No quantity is left on this line")
            if rule.allowed and kind in MONEY_TYPES and line_refundable == 0:
                rule = rule.refused("该商品已无可退金额", "Nothing is left to refund on this line")
            rules.append(rule)
        lines.append(
            LineEligibility(line_no, line.sku, line.unit_price, line.quantity, remaining, line_refundable, tuple(rules))
        )
    compensation = _window_rule(AfterSalesType.COMPENSATION, order, policy.compensation_window, now)
    if compensation.allowed and compensable == 0:
        compensation = compensation.refused("赔付额度已用完", "The compensation limit of this order is reached")
    return Eligibility(
        order.order_no,
        order.data.currency,
        refundable,
        compensable,
        tuple(lines),
        (_refund_rule(order, refundable), compensation),
    )
