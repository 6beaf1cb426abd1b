"""After-sales orders (售后单) for one sales order: refund, partial refund, return-and-refund, replenish,
exchange and compensation (seed 004), with the eligibility rules the customer is shown and the service enforces."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from app.domain.orders import FulfilmentStatus, SalesOrder
from app.domain.pagination import Page, PageRequest
from app.domain.tickets import Attachment


class AfterSalesType(StrEnum):
    REFUND = "refund"  # 退款: before picking completes, the whole remaining amount
    PARTIAL_REFUND = "partial_refund"  # 部分退款: after signing, e.g. damaged items
    RETURN_REFUND = "return_refund"  # 退货退款
    REPLENISH = "replenish"  # 补货/补发: missing or wrong items
    EXCHANGE = "exchange"  # 换货
    COMPENSATION = "compensation"  # 赔付/理赔


MONEY_TYPES = frozenset({AfterSalesType.REFUND, AfterSalesType.PARTIAL_REFUND, AfterSalesType.RETURN_REFUND})
"""Types that pay money back against what the customer paid."""
GOODS_TYPES = frozenset({AfterSalesType.RETURN_REFUND, AfterSalesType.EXCHANGE, AfterSalesType.REPLENISH})
"""Types whose lines consume the purchased quantity of an order line."""


class CompensationKind(StrEnum):
    CASH = "cash"  # back to the original payment
    COUPON = "coupon"
    BALANCE = "balance"  # store balance


_NUMBER = re.compile(r"^AS-\d{4}-\d{6,}$")


def is_after_sales_number(text: str) -> bool:
    return _NUMBER.match(text) is not None


def after_sales_number(year: int, sequence: int) -> str:
    """AS-YYYY-NNNNNN, readable over the phone."""
    return f"AS-{year}-{sequence:06d}"


@dataclass(frozen=True, slots=True)
class AfterSalesLine:
    sku: str
    quantity: int
    amount: int  # money this line returns to the customer (0 for replenish and exchange)


@dataclass(frozen=True, slots=True)
class Shipment:
    """A parcel of the return or replacement: carrier and tracking number as logistics report them."""

    carrier: str | None = None
    tracking_no: str | None = None


@dataclass(frozen=True, slots=True)
class AfterSalesOrder:
    id: UUID
    number: str
    order_no: str
    customer_no: str
    type: AfterSalesType
    status: str
    currency: str
    amount: int  # refund or compensation amount, minor units; 0 for replenish and exchange
    lines: tuple[AfterSalesLine, ...]
    reason_code: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int = 1
    description: str | None = None
    attachments: tuple[Attachment, ...] = ()
    ticket_id: UUID | None = None
    compensation_kind: CompensationKind | None = None
    assignee: str | None = None  # the reviewer who claimed it from the pool (领取)
    reviewed_by: str | None = None
    review_rule: str | None = None  # the auto-review rule that approved it, if one did
    lightning: bool = False  # 闪电退款: refund on pickup instead of on receipt
    return_shipment: Shipment = field(default_factory=Shipment)
    replacement_shipment: Shipment = field(default_factory=Shipment)
    inspection_passed: bool | None = None
    payment_attempts: int = 0
    payment_reference: str | None = None
    urge_count: int = 0
    last_urged_at: datetime | None = None
    escalation_level: int = 0
    finished_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class EligibilityPolicy:
    """The after-sales rules shown to customers (售后规则), configurable per deployment."""

    return_window: timedelta = timedelta(days=7)  # 7天无理由退货
    exchange_window: timedelta = timedelta(days=15)
    replenish_window: timedelta = timedelta(days=15)
    partial_refund_window: timedelta = timedelta(days=15)
    compensation_window: timedelta = timedelta(days=30)
    compensation_max_percent: int = 30  # of the amount paid, per order


@dataclass(frozen=True, slots=True)
class Ledger:
    """A sales order's money: paid, refunded (settled), refunds under way (reserved) and cash compensation.
    Reserving at creation is what keeps concurrent refunds from paying back more than was paid."""

    order_no: str
    currency: str
    paid: int
    reserved: int = 0
    refunded: int = 0
    compensated: int = 0
    version: int = 0

    @property
    def refundable(self) -> int:
        return max(0, self.paid - self.reserved - self.refunded)


@dataclass(frozen=True, slots=True)
class Rule:
    """One after-sales type's verdict for a line or an order: allowed now or why not, in both languages."""

    type: AfterSalesType
    allowed: bool
    deadline: datetime | None
    text_zh: str
    text_en: str


@dataclass(frozen=True, slots=True)
class LineEligibility:
    line_no: int
    sku: str
    purchased_quantity: int
    remaining_quantity: int  # not yet claimed by returns, exchanges or replenishments
    max_refundable: int
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


def _window_rule(kind: AfterSalesType, order: SalesOrder, window: timedelta, now: datetime, name: str) -> Rule:
    """Types allowed only after signing, within `window` of it."""
    signed_at = order.data.fulfilment.signed_at
    days = window.days
    if order.data.fulfilment.status is not FulfilmentStatus.SIGNED or signed_at is None:
        return Rule(kind, False, None, f"签收后方可申请{name}", f"Available once the order is signed for ({kind})")
    deadline = signed_at + window
    if now > deadline:
        return Rule(kind, False, deadline, f"已超过签收后{days}天的{name}期限", f"The {days}-day window has passed")
    return Rule(kind, True, deadline, f"签收后{days}天内可申请{name}", f"Within {days} days of signing")


def _refund_rule(order: SalesOrder, refundable: int) -> Rule:
    kind = AfterSalesType.REFUND
    if order.data.fulfilment.status.rank >= FulfilmentStatus.PICKED.rank:
        return Rule(
            kind, False, None, "订单已拣货完成，请申请退货退款", "Picking is complete; ask for a return instead"
        )
    if refundable <= 0:
        return Rule(kind, False, None, "订单无可退金额", "Nothing left to refund")
    return Rule(kind, True, None, "拣货完成前可直接退款", "Refundable until picking completes")


def assess(
    order: SalesOrder, ledger: Ledger, claimed: dict[str, int], policy: EligibilityPolicy, now: datetime
) -> Eligibility:
    """What each line and the order allow now. `claimed`: quantity per sku held by live returns, exchanges and
    replenishments."""
    refundable = ledger.refundable if order.data.payment_status == "paid" else 0
    compensable = max(0, order.data.paid_amount * policy.compensation_max_percent // 100 - ledger.compensated)
    windows = {
        AfterSalesType.PARTIAL_REFUND: (policy.partial_refund_window, "部分退款"),
        AfterSalesType.RETURN_REFUND: (policy.return_window, "退货退款"),
        AfterSalesType.EXCHANGE: (policy.exchange_window, "换货"),
        AfterSalesType.REPLENISH: (policy.replenish_window, "补发"),
    }
    lines = []
    for line_no, line in enumerate(order.data.lines, start=1):
        remaining = max(0, line.quantity - claimed.get(line.sku, 0))
        rules = []
        for kind, (window, name) in windows.items():
            rule = _window_rule(kind, order, window, now, name)
            if rule.allowed and kind in GOODS_TYPES and remaining == 0:
                rule = Rule(kind, False, rule.deadline, "该商品已无可申请数量", "No quantity left on this line")
            if rule.allowed and kind in MONEY_TYPES and refundable == 0:
                rule = Rule(kind, False, rule.deadline, "订单无可退金额", "Nothing left to refund")
            rules.append(rule)
        refundable_line = min(line.amount, refundable)
        lines.append(LineEligibility(line_no, line.sku, line.quantity, remaining, refundable_line, tuple(rules)))
    compensation = _window_rule(AfterSalesType.COMPENSATION, order, policy.compensation_window, now, "赔付")
    if compensation.allowed and compensable == 0:
        compensation = Rule(
            compensation.type, False, compensation.deadline, "赔付额度已用完", "Compensation limit reached"
        )
    return Eligibility(
        order.order_no,
        order.data.currency,
        refundable,
        compensable,
        tuple(lines),
        (_refund_rule(order, refundable), compensation),
    )


@dataclass(frozen=True, slots=True)
class AutoReviewRules:
    """极速审核: an after-sales order matching every set condition is approved without a reviewer.
    闪电退款: a trusted customer's return refunds on pickup instead of on receipt."""

    enabled: bool = False
    types: tuple[AfterSalesType, ...] = (AfterSalesType.REFUND, AfterSalesType.PARTIAL_REFUND)
    max_amount: int | None = 10_000
    only_before_shipping: bool = False
    customer_levels: tuple[str, ...] = ()  # empty: any level
    max_recent_after_sales: int | None = 3  # after-sales orders by the customer in the last 30 days
    lightning_refund_levels: tuple[str, ...] = ("vip",)
    version: int = 0


RECENT_WINDOW = timedelta(days=30)


def auto_review(
    rules: AutoReviewRules, kind: AfterSalesType, amount: int, order: SalesOrder, level: str, recent: int
) -> tuple[str | None, list[str]]:
    """The name of the rule set that approves this order automatically, or None with the reasons it did not."""
    if not rules.enabled:
        return None, ["auto-review is off"]
    misses = []
    if kind not in rules.types:
        misses.append(f"type {kind} is reviewed by hand")
    if rules.max_amount is not None and amount > rules.max_amount:
        misses.append(f"amount {amount} is above {rules.max_amount}")
    if rules.only_before_shipping and order.data.fulfilment.status.rank >= FulfilmentStatus.SHIPPED.rank:
        misses.append("the order has shipped")
    if rules.customer_levels and level not in rules.customer_levels:
        misses.append(f"customer level {level} is not trusted")
    if rules.max_recent_after_sales is not None and recent >= rules.max_recent_after_sales:
        misses.append(f"{recent} after-sales orders in the last 30 days")
    return (None, misses) if misses else ("auto_review", [])


@dataclass(frozen=True, slots=True)
class AfterSalesFilter:
    types: tuple[AfterSalesType, ...] = ()
    statuses: tuple[str, ...] = ()
    customer_no: str | None = None
    order_no: str | None = None
    assignee: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


class AfterSalesRepository(Protocol):
    async def next_sequence(self) -> int: ...
    async def get(self, ref: UUID | str, *, for_update: bool = False) -> AfterSalesOrder | None: ...
    async def add(self, order: AfterSalesOrder) -> None: ...
    async def update(self, order: AfterSalesOrder) -> None: ...
    async def list(self, where: AfterSalesFilter, page: PageRequest) -> Page[AfterSalesOrder]: ...
    async def claimed_quantities(self, order_no: str) -> dict[str, int]: ...
    async def recent_count(self, customer_no: str, since: datetime) -> int: ...
    async def ledger(self, order: SalesOrder) -> Ledger: ...
    async def save_ledger(self, ledger: Ledger) -> None: ...
    async def auto_review_rules(self) -> AutoReviewRules: ...
    async def save_auto_review_rules(self, rules: AutoReviewRules, by: str, at: datetime) -> AutoReviewRules: ...
