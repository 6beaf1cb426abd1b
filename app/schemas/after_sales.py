"""After-sales contract: eligibility, requests, the two views of status, and the auto-review settings."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from app.domain.after_sales import (
    AfterSalesOrder,
    AfterSalesType,
    AutoReviewRules,
    CompensationKind,
    Shipment,
)
from app.domain.approvals import Approval
from app.domain.customers import CustomerLevel
from app.domain.eligibility import Eligibility, Rule
from app.domain.principal import Principal
from app.schemas.approvals import ApprovalSummaryOut
from app.schemas.attachments import AttachmentOut, AttachmentRefs
from app.schemas.common import KEY_PATTERN, Input, MinorUnits, OrderNo, Output, Quantity, Sku
from app.schemas.evidence import EvidenceOut
from app.schemas.sla import SlaOut
from app.schemas.workflows import AvailableActionOut, CustomerStatusOut, customer_status
from app.services.sla import SubjectSla
from app.workflows.after_sales import AFTER_SALES_WORKFLOWS
from app.workflows.engine import AvailableAction


class RuleOut(BaseModel):
    type: AfterSalesType
    allowed: bool
    deadline: datetime | None = Field(description="Last moment to ask, when a window applies.")
    rule_text: str = Field(description="售后规则 as shown to the customer, in Accept-Language.")

    @classmethod
    def of(cls, rule: Rule, language: str) -> RuleOut:
        return cls(
            type=rule.type,
            allowed=rule.allowed,
            deadline=rule.deadline,
            rule_text=rule.text_en if language == "en" else rule.text_zh,
        )


class LineEligibilityOut(BaseModel):
    line_no: int
    sku: str
    purchased_quantity: int
    remaining_quantity: int = Field(description="Not yet claimed by returns, exchanges or replenishments.")
    max_refundable_amount: int = Field(
        description="The line's value less what is refunded or reserved on it, within the order's refundable."
    )
    rules: list[RuleOut]


class EligibilityOut(BaseModel):
    order_no: str
    currency: str
    refundable_amount: int = Field(description="Paid minus refunded minus refunds under way.")
    compensable_amount: int = Field(description="What compensation may still pay on this order.")
    order_rules: list[RuleOut] = Field(description="Refund (the whole order) and compensation.")
    lines: list[LineEligibilityOut]

    @classmethod
    def of(cls, found: Eligibility, language: str) -> EligibilityOut:
        return cls(
            order_no=found.order_no,
            currency=found.currency,
            refundable_amount=found.refundable,
            compensable_amount=found.compensable,
            order_rules=[RuleOut.of(rule, language) for rule in found.order_rules],
            lines=[
                LineEligibilityOut(
                    line_no=line.line_no,
                    sku=line.sku,
                    purchased_quantity=line.purchased_quantity,
                    remaining_quantity=line.remaining_quantity,
                    max_refundable_amount=line.max_refundable,
                    rules=[RuleOut.of(rule, language) for rule in line.rules],
                )
                for line in found.lines
            ],
        )


class AfterSalesLineIn(Input):
    sku: Sku
    quantity: Quantity


class AfterSalesIn(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "order_no": "SO-2026-0001",
                    "type": "return_refund",
                    "reason_code": "no_reason_7_days",
                    "lines": [{"sku": "FLT-X3", "quantity": 1}],
                    "description": "不想要了",
                },
                {
                    "order_no": "SO-2026-0001",
                    "type": "compensation",
                    "reason_code": "late_delivery",
                    "compensation_kind": "coupon",
                    "amount": 2000,
                },
            ]
        }
    )

    order_no: OrderNo
    type: AfterSalesType
    reason_code: str = Field(pattern=KEY_PATTERN, description="Why, e.g. damaged, wrong_item, no_reason_7_days.")
    lines: list[AfterSalesLineIn] = Field(
        default_factory=list, max_length=500, description="Required except for refund and compensation."
    )
    amount: MinorUnits | None = Field(None, ge=1, description="Partial refund or compensation amount.")
    compensation_kind: CompensationKind | None = Field(None, description="Required for compensation.")
    description: str | None = Field(None, max_length=5000)
    attachments: AttachmentRefs = Field(description="Evidence (photos, videos) and documents (invoices), by id.")
    ticket: str | None = Field(
        None, pattern=r"^(T-\d{4}-\d{6,}|[0-9a-fA-F-]{36})$", description="The complaint that led here."
    )


class AfterSalesLineOut(BaseModel):
    sku: str
    quantity: int
    amount: int


class ShipmentOut(BaseModel):
    carrier: str | None
    tracking_no: str | None

    @classmethod
    def of(cls, shipment: Shipment) -> ShipmentOut:
        return cls(carrier=shipment.carrier, tracking_no=shipment.tracking_no)


class AfterSalesOut(Output):
    view: Literal["agent", "customer"]
    id: UUID
    number: str
    order_no: str
    customer_no: str
    type: AfterSalesType
    type_label: str
    status: str
    status_label: str = Field(description="The status as this caller's view names it, in Accept-Language.")
    customer_status: CustomerStatusOut
    currency: str
    amount: int = Field(description="Refund or compensation amount in minor units; 0 for goods-only types.")
    lines: list[AfterSalesLineOut]
    reason_code: str
    description: str | None
    attachments: list[AttachmentOut]
    evidence: EvidenceOut
    ticket_id: UUID | None
    compensation_kind: CompensationKind | None
    lightning_refund: bool = Field(description="闪电退款: refunds on pickup rather than on receipt.")
    return_shipment: ShipmentOut
    replacement_shipment: ShipmentOut
    inspection_passed: bool | None
    returned_at: datetime | None = Field(description="When the warehouse received the returned goods.")
    urge_count: int
    assignee: str | None = Field(description="Null in the customer's view.")
    review_queue: str | None = Field(
        description="审核队列 it was routed to on entering review; null: the general pool, and in the customer's view."
    )
    reviewed_by: str | None = Field(description="Null in the customer's view.")
    review_rule: str | None = Field(description="The auto-review rule that approved it; null in the customer's view.")
    payment_attempts: int | None
    payment_reference: str | None
    escalation_level: int | None
    created_by: str | None
    finished_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int
    approval: ApprovalSummaryOut | None = Field(
        None, description="The review under way (审核), with its levels and who may decide now; staff only."
    )
    sla: SlaOut = Field(description="The SLA clocks, review and refund_completion (staff), or the promise (customer).")
    available_actions: list[AvailableActionOut]

    @classmethod
    def of(
        cls,
        order: AfterSalesOrder,
        actions: list[AvailableAction],
        principal: Principal,
        language: str,
        sla: SubjectSla,
        approval: Approval | None = None,
    ) -> AfterSalesOut:
        workflow = AFTER_SALES_WORKFLOWS[order.type]
        state = workflow.state(order.status)
        customer = principal.is_customer

        def staff(value: object) -> object:
            return None if customer else value

        return cls(
            view="customer" if customer else "agent",
            id=order.id,
            number=order.number,
            order_no=order.order_no,
            customer_no=order.customer_no,
            type=order.type,
            type_label=workflow.title.pick(language),
            status=order.status,
            status_label=(state.customer if customer else state.agent).pick(language),
            customer_status=customer_status(state, language),
            currency=order.currency,
            amount=order.amount,
            lines=[AfterSalesLineOut(sku=li.sku, quantity=li.quantity, amount=li.amount) for li in order.lines],
            reason_code=order.reason_code,
            description=order.description,
            attachments=[AttachmentOut.of(a, principal) for a in order.attachments],
            evidence=EvidenceOut.of(order.evidence, language),
            ticket_id=order.ticket_id,
            compensation_kind=order.compensation_kind,
            lightning_refund=order.lightning,
            return_shipment=ShipmentOut.of(order.return_shipment),
            replacement_shipment=ShipmentOut.of(order.replacement_shipment),
            inspection_passed=order.inspection_passed,
            returned_at=order.returned_at,
            urge_count=order.urge_count,
            assignee=staff(order.assignee),
            review_queue=staff(order.review_queue),
            reviewed_by=staff(order.reviewed_by),
            review_rule=staff(order.review_rule),
            payment_attempts=staff(order.payment_attempts),
            payment_reference=staff(order.payment_reference),
            escalation_level=staff(order.escalation_level),
            created_by=staff(order.created_by),
            finished_at=order.finished_at,
            created_at=order.created_at,
            updated_at=order.updated_at,
            version=order.version,
            approval=_review_summary(approval, principal, actions) if approval and not customer else None,
            sla=SlaOut.of(sla, customer=customer, language=language),
            available_actions=[AvailableActionOut.of(a) for a in actions],
        )


def _review_summary(approval: Approval, principal: Principal, actions: list[AvailableAction]) -> ApprovalSummaryOut:
    """The review under way; `you_may_decide` only while the order's own rules let the caller decide too (a claimed
    order is decided by its holder), as its buttons say."""
    summary = ApprovalSummaryOut.of(approval, principal)
    if summary.you_may_decide and not any(a.action in ("approve", "reject") for a in actions):
        return summary.model_copy(update={"you_may_decide": False})
    return summary


class AfterSalesSummaryOut(BaseModel):
    """An after-sales order in someone's history (the customer overview): what it is and where it stands."""

    id: UUID
    number: str
    order_no: str
    type: AfterSalesType
    status: str
    status_label: str
    customer_status: CustomerStatusOut
    amount: int
    currency: str
    created_at: datetime

    @classmethod
    def of(cls, order: AfterSalesOrder, principal: Principal, language: str) -> AfterSalesSummaryOut:
        state = AFTER_SALES_WORKFLOWS[order.type].state(order.status)
        return cls(
            id=order.id,
            number=order.number,
            order_no=order.order_no,
            type=order.type,
            status=order.status,
            status_label=(state.customer if principal.is_customer else state.agent).pick(language),
            customer_status=customer_status(state, language),
            amount=order.amount,
            currency=order.currency,
            created_at=order.created_at,
        )


class AutoReviewIn(Input):
    """极速审核 and 闪电退款 rules. An order is approved without a reviewer when every set condition holds."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "enabled": True,
                    "types": ["refund", "partial_refund"],
                    "max_amount": 10000,
                    "only_before_shipping": False,
                    "customer_levels": ["gold", "vip"],
                    "max_recent_after_sales": 3,
                    "lightning_refund_levels": ["vip"],
                }
            ]
        }
    )

    enabled: bool
    types: list[AfterSalesType] = Field(max_length=6, description="Types that may be approved automatically.")
    max_amount: MinorUnits | None = Field(description="Amounts above this go to a reviewer; null: any amount.")
    only_before_shipping: bool = Field(description="Only orders that have not shipped yet.")
    customer_levels: list[CustomerLevel] = Field(max_length=4, description="Only these levels; empty: any.")
    max_recent_after_sales: StrictInt | None = Field(
        ge=0, le=1000, description="Fewer than this many after-sales orders by the customer in 30 days; null: any."
    )
    lightning_refund_levels: list[CustomerLevel] = Field(
        max_length=4, description="闪电退款: these levels' returns refund on pickup."
    )

    def to_domain(self) -> AutoReviewRules:
        return AutoReviewRules(
            enabled=self.enabled,
            types=tuple(dict.fromkeys(self.types)),
            max_amount=self.max_amount,
            only_before_shipping=self.only_before_shipping,
            customer_levels=tuple(dict.fromkeys(level.value for level in self.customer_levels)),
            max_recent_after_sales=self.max_recent_after_sales,
            lightning_refund_levels=tuple(dict.fromkeys(level.value for level in self.lightning_refund_levels)),
        )


class AutoReviewOut(BaseModel):
    enabled: bool
    types: list[AfterSalesType]
    max_amount: int | None
    only_before_shipping: bool
    customer_levels: list[str]
    max_recent_after_sales: int | None
    lightning_refund_levels: list[str]
    version: int

    @classmethod
    def of(cls, rules: AutoReviewRules) -> AutoReviewOut:
        return cls(
            enabled=rules.enabled,
            types=list(rules.types),
            max_amount=rules.max_amount,
            only_before_shipping=rules.only_before_shipping,
            customer_levels=list(rules.customer_levels),
            max_recent_after_sales=rules.max_recent_after_sales,
            lightning_refund_levels=list(rules.lightning_refund_levels),
            version=rules.version,
        )
