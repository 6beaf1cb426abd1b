"""After-sales orders (售后单) for one sales order: refund, partial refund, return-and-refund, replenish,
exchange and compensation (seed 004), with the eligibility rules the customer is shown and the service enforces."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol
from uuid import UUID

from app.domain.evidence import Evidence, EvidenceRules
from app.domain.money import format_money
from app.domain.orders import FulfilmentStatus, SalesOrder
from app.domain.pagination import Page, PageRequest
from app.domain.tickets import Attachment, PoolStats

if TYPE_CHECKING:
    from app.domain.ledger import Ledger


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
RELEASED = frozenset({"rejected", "cancelled", "inspection_failed"})
"""States in which an after-sales order no longer holds the money or goods it claimed."""


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
    review_queue: str | None = None  # 审核队列 it was routed to on entering review; None: the general pool
    reviewed_by: str | None = None
    review_rule: str | None = None  # the auto-review rule that approved it, if one did
    lightning: bool = False  # 闪电退款: refund on pickup instead of on receipt
    return_shipment: Shipment = field(default_factory=Shipment)
    replacement_shipment: Shipment = field(default_factory=Shipment)
    inspection_passed: bool | None = None
    returned_at: datetime | None = None  # the warehouse received the returned goods
    business_line: str | None = None  # the product line of its goods, for staff scope
    payment_attempts: int = 0
    payment_reference: str | None = None
    urge_count: int = 0
    last_urged_at: datetime | None = None
    escalation_level: int = 0
    finished_at: datetime | None = None
    evidence: Evidence = field(default_factory=Evidence)  # 证据: photos the reason needs and those linked


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


@dataclass(frozen=True, slots=True)
class AutoReviewMatch:
    """Which rule approved an order and the conditions it met, for the timeline (极速审核 leaves a trail)."""

    rule: str  # e.g. auto_review/v3: the settings' version that decided
    conditions: tuple[str, ...]


def auto_review(
    rules: AutoReviewRules, kind: AfterSalesType, amount: int, order: SalesOrder, level: str, recent: int
) -> tuple[AutoReviewMatch | None, list[str]]:
    """The rule that approves this order automatically with the conditions it met, or None with the reasons it
    did not."""
    if not rules.enabled:
        return None, ["auto-review is off"]
    currency = order.data.currency
    checks: list[tuple[bool, str, str]] = [
        (kind in rules.types, f"type {kind} is auto-reviewed", f"type {kind} is reviewed by hand"),
    ]
    if rules.max_amount is not None:
        limit, asked = format_money(rules.max_amount, currency), format_money(amount, currency)
        checks.append((amount <= rules.max_amount, f"amount {asked} ≤ {limit}", f"amount {asked} is above {limit}"))
    if rules.only_before_shipping:
        shipped = order.data.fulfilment.status.rank >= FulfilmentStatus.SHIPPED.rank
        checks.append((not shipped, "the order has not shipped", "the order has shipped"))
    if rules.customer_levels:
        trusted = level in rules.customer_levels
        checks.append((trusted, f"customer level {level} is trusted", f"customer level {level} is not trusted"))
    if rules.max_recent_after_sales is not None:
        few = recent < rules.max_recent_after_sales
        checks.append(
            (
                few,
                f"{recent} after-sales orders in 30 days, fewer than {rules.max_recent_after_sales}",
                f"{recent} after-sales orders in the last 30 days",
            )
        )
    misses = [miss for held, _met, miss in checks if not held]
    if misses:
        return None, misses
    return AutoReviewMatch(f"auto_review/v{rules.version}", tuple(met for _held, met, _miss in checks)), []


@dataclass(frozen=True, slots=True)
class AfterSalesFilter:
    types: tuple[AfterSalesType, ...] = ()
    statuses: tuple[str, ...] = ()
    customer_no: str | None = None
    order_no: str | None = None
    assignee: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    business_lines: frozenset[str] | None = None  # staff scope: None means every line


class AfterSalesRepository(Protocol):
    async def next_sequence(self) -> int: ...
    async def get(self, ref: UUID | str, *, for_update: bool = False) -> AfterSalesOrder | None: ...
    async def add(self, order: AfterSalesOrder) -> None: ...
    async def update(self, order: AfterSalesOrder) -> None: ...
    async def list(self, where: AfterSalesFilter, page: PageRequest) -> Page[AfterSalesOrder]: ...
    async def recent_count(self, customer_no: str, since: datetime) -> int: ...
    async def claims(self, ids: Sequence[UUID]) -> dict[UUID, tuple[str | None, str | None]]:
        """Each order's (holder, review queue): what decides who may decide its review."""
        ...

    async def lock_ledger(self, ref: UUID | str) -> Ledger | None:
        """The totals of after-sales order `ref`'s sales order, that row locked (no per-line holds)."""
        ...

    async def ledger(self, order: SalesOrder) -> Ledger:
        """The order's money and per-line holds; callers that change them hold the sales order row's lock."""
        ...

    async def save_ledger(self, ledger: Ledger) -> None: ...
    async def auto_review_rules(self) -> AutoReviewRules: ...
    async def save_auto_review_rules(self, rules: AutoReviewRules, by: str, at: datetime) -> AutoReviewRules: ...
    async def evidence_rules(self) -> EvidenceRules: ...
    async def save_evidence_rules(self, rules: EvidenceRules, by: str, at: datetime) -> EvidenceRules: ...
    async def review_pool(
        self, queue: str, business_lines: frozenset[str] | None, page: PageRequest
    ) -> Page[AfterSalesOrder]:
        """The queue's unclaimed orders under review, oldest first, within the business lines (None: all)."""
        ...

    async def review_pool_stats(self, queue: str, business_lines: frozenset[str] | None) -> PoolStats:
        """How many `review_pool` holds and when its oldest was created, in one aggregate."""
        ...

    async def unclaimed_in(self, queue: str) -> bool:
        """Whether any order under review waits unclaimed in the queue."""
        ...

    async def held_reviews(
        self, assignee: str, business_lines: frozenset[str] | None, page: PageRequest
    ) -> Page[AfterSalesOrder]:
        """The orders under review `assignee` has claimed, latest activity first."""
        ...
