"""One workflow per after-sales scenario (seed 004), each with the agent's detailed states and the customer's few
plain steps. Review, cancellation and urging are shared; the steps after approval are the scenario's own, and the
steps the payment centre and the warehouse report are integration actions that are idempotent when repeated."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from pydantic import Field

from app.domain.after_sales import AfterSalesOrder, AfterSalesType, Shipment
from app.domain.approvals import not_deciding_now
from app.domain.attachments import Purpose
from app.domain.errors import Conflict, DomainError
from app.domain.principal import (
    CASE_HANDLERS,
    MANAGERS,
    ON_BEHALF_OF_CUSTOMER,
    RETURN_INSPECTORS,
    STAFF_ROLES,
    SYSTEMS,
    Principal,
    Role,
)
from app.domain.urging import UrgePolicy, urge
from app.workflows.attachments import ANY_PURPOSE, MAX_PER_REQUEST, AttachmentRef, AttachmentRefs
from app.workflows.engine import Guard, Label, Move, Payload, Refusal, State, Transition, Workflow
from app.workflows.ticket_payloads import USER_ID

DECIDERS = STAFF_ROLES
"""Who may decide a review: whom the review chain names at its level (a guard); the chain, not the role, says who."""


@dataclass(frozen=True, slots=True)
class AfterSalesContext:
    """What guards see: the order, the time, the urge policy, who may decide the review approval now (None
    when not loaded: roles decide alone, the approval engine checks the decision itself), and the active reviewers of
    the order's review queue (read for a queued order under review; empty otherwise, so nobody but a manager claims
    from a queue whose reviewers were not read)."""

    order: AfterSalesOrder
    now: datetime
    urge_policy: UrgePolicy
    approvers_now: frozenset[str] | None = None
    reviewers: frozenset[str] = frozenset()


class RemarkPayload(Payload):
    """An after-sales action's body. Staff remarks are deliberation: internal unless marked for the customer."""

    remark_public: bool = Field(False, description="Show the remark to the customer; staff-only by default.")


class TransferPayload(RemarkPayload):
    assignee: str = Field(pattern=USER_ID, description="转派: the reviewer of the order's queue who takes the claim.")


class ReasonPayload(RemarkPayload):
    reason: str = Field(min_length=1, max_length=500, description="Why the request is rejected (internal).")


class PaymentPayload(RemarkPayload):
    reference: str | None = Field(None, min_length=1, max_length=128, description="Payment centre's reference.")


class FailurePayload(RemarkPayload):
    reason: str = Field(min_length=1, max_length=500, description="Why the payment centre could not pay.")


class ShipmentPayload(RemarkPayload):
    carrier: str | None = Field(None, min_length=1, max_length=64)
    tracking_no: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")


class ReturnShippedPayload(RemarkPayload):
    carrier: str = Field(min_length=1, max_length=64)
    tracking_no: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")
    attachments: AttachmentRefs = Field(description="寄件凭证: the receipt or a photo of the parcel, by id.")


class InspectionPayload(RemarkPayload):
    result: Literal["pass", "fail"] = Field(description="质检结果")
    attachments: AttachmentRefs = Field(description="质检照片: photos of the returned goods, uploaded as evidence.")


class EvidencePayload(RemarkPayload):
    attachments: list[AttachmentRef] = Field(
        min_length=1,
        max_length=MAX_PER_REQUEST,
        description="补充证据: photos or videos of the fault or damage, uploaded as evidence, by id.",
    )


ATTACHING: dict[str, frozenset[Purpose]] = {
    "add_evidence": frozenset({Purpose.EVIDENCE}),
    "inspect": frozenset({Purpose.EVIDENCE}),
    "ship_return": ANY_PURPOSE,
}
"""Actions whose payload attaches files, and the purposes their files may have been uploaded for."""
ON_THE_ORDER = frozenset({"add_evidence"})
"""Actions whose files join the order's own list (its evidence); the others' stay on their timeline entry."""


def _label(zh: str, en: str) -> Label:
    return Label(zh, en)


def _step(label_zh: str, label_en: str, message_zh: str, message_en: str) -> tuple[Label, Label]:
    """A customer-facing step: its label and the message that explains it."""
    return Label(label_zh, label_en), Label(message_zh, message_en)


# Agent-side states, shared by name across scenarios; customer labels are the scenario's own (below).
AGENT_LABELS = {
    "under_review": _label("审核中", "Under review"),
    "refunding": _label("待支付中心受理", "Refund sent to payment centre"),
    "payment_accepted": _label("支付中心已受理", "Accepted by payment centre"),
    "payment_failed": _label("退款失败", "Payment failed"),
    "refunded": _label("退款完成", "Refunded"),
    "awaiting_return": _label("待退货", "Awaiting return"),
    "returning": _label("退货运输中", "Return in transit"),
    "received": _label("退货已签收", "Return received"),
    "inspection_failed": _label("质检不通过", "Failed inspection"),
    "replenishing": _label("补货单已创建", "Replenishment ordered"),
    "awaiting_pickup": _label("取件中", "Awaiting pickup"),
    "picked_up": _label("取件完成", "Picked up"),
    "picking": _label("拣货中", "Picking"),
    "shipping": _label("配送中", "Shipping"),
    "signed": _label("已签收", "Signed for"),
    "paying": _label("赔付中", "Paying out"),
    "payment_failed_compensation": _label("赔付失败", "Payout failed"),
    "compensated": _label("赔付完成", "Compensated"),
    "rejected": _label("审核驳回", "Rejected"),
    "cancelled": _label("已取消", "Cancelled"),
}
FINAL = frozenset({"refunded", "inspection_failed", "signed", "compensated", "rejected", "cancelled"})

_REFUNDING = _step("退款中", "Refunding", "退款申请已受理，正在为您退款中", "Your refund is under way.")
_REFUNDED = _step("退款成功", "Refunded", "已到账", "The money is back in your account.")
_CLOSED = _step("售后关闭", "Closed", "很抱歉，您的申请未通过审核", "Sorry, your request was not approved.")
_CANCELLED = _step("已取消", "Cancelled", "您已取消该申请", "You cancelled this request.")
_SIGNED = _step("已签收", "Delivered", "商品已签收", "Delivered.")

CUSTOMER_LABELS: dict[AfterSalesType, dict[str, tuple[Label, Label]]] = {
    AfterSalesType.REFUND: {
        **dict.fromkeys(("under_review", "refunding", "payment_accepted", "payment_failed"), _REFUNDING),
        "refunded": _REFUNDED,
    },
    AfterSalesType.RETURN_REFUND: {
        "under_review": _step("退货审核中", "Return under review", "退货申请已受理", "We have your request."),
        "awaiting_return": _step(
            "待退货",
            "Awaiting your return",
            "请等待快递员上门取件或按地址寄回",
            "A courier will collect it, or send it back to us.",
        ),
        "returning": _step("退货运输中", "Return on its way", "退货正在运输中", "Your return is on its way."),
        "received": _step("退货已收到", "Return received", "我们已收到退货，正在质检", "We are checking it."),
        "inspection_failed": _step(
            "质检未通过",
            "Return not accepted",
            "退货未通过质检，将退回给您",
            "The item failed inspection and will be sent back.",
        ),
        **dict.fromkeys(("refunding", "payment_accepted", "payment_failed"), _REFUNDING),
        "refunded": _REFUNDED,
    },
    AfterSalesType.REPLENISH: {
        "under_review": _step("补货审核中", "Under review", "补货申请已受理", "We have your request."),
        "replenishing": _step("补货订单已创建", "Reshipment ordered", "补货订单已创建", "Ordered."),
        "picking": _step("拣货中", "Picking", "仓库正在拣货", "The warehouse is picking it."),
        "shipping": _step("配送中", "On its way", "商品正在配送中", "It is on its way."),
        "signed": _SIGNED,
    },
    AfterSalesType.EXCHANGE: {
        "under_review": _step("换货审核中", "Under review", "换货申请已受理", "We have your request."),
        "awaiting_pickup": _step("取件中", "Awaiting pickup", "快递员将上门取件", "A courier will collect it."),
        "picked_up": _step("取件完成", "Picked up", "旧件已取走", "We have collected the item."),
        "picking": _step("拣货中", "Picking", "新件正在拣货", "The replacement is being picked."),
        "shipping": _step("配送中", "On its way", "新件正在配送中", "The replacement is on its way."),
        "signed": _SIGNED,
    },
    AfterSalesType.COMPENSATION: {
        "under_review": _step(
            "赔付审核中", "Under review", "赔付申请已受理，正在为您审核赔付中", "We are reviewing your compensation."
        ),
        "paying": _step("赔付中", "Paying out", "赔付已审核通过，正在发放", "Approved; paying out."),
        "payment_failed_compensation": _step("赔付中", "Paying out", "正在重新发放", "Retrying the payout."),
        "compensated": _step("赔付成功", "Compensated", "已到账", "It has been paid."),
    },
}
CUSTOMER_LABELS[AfterSalesType.PARTIAL_REFUND] = CUSTOMER_LABELS[AfterSalesType.REFUND]


# ---- guards: None when the action may proceed, else why not ---------------------------------------------------


def reviews_now(ctx: AfterSalesContext, principal: Principal, _payload: object) -> str | None:
    """Only the review approval's approvers at its current level (审核分层: large amounts also need a manager)."""
    return not_deciding_now(ctx.approvers_now, principal, ctx.order.created_by)


def unclaimed(ctx: AfterSalesContext, _principal: Principal, _payload: object) -> str | None:
    return None if ctx.order.assignee is None else f"already claimed by {ctx.order.assignee}"


def claimed(ctx: AfterSalesContext, _principal: Principal, _payload: object) -> str | None:
    return None if ctx.order.assignee is not None else "nobody has claimed it"


def queued(ctx: AfterSalesContext, _principal: Principal, _payload: object) -> str | None:
    return None if ctx.order.review_queue is not None else "it waits in the general pool, not in a review queue"


def serves_queue(ctx: AfterSalesContext, principal: Principal, _payload: object) -> str | None:
    """审核队列: a queued order is claimed by a reviewer serving its queue, or by a manager; the general pool's by
    any staff member."""
    queue = ctx.order.review_queue
    if queue is None or principal.is_manager or principal.subject in ctx.reviewers:
        return None
    return f"you do not review queue '{queue}'"


def holds_review(ctx: AfterSalesContext, principal: Principal, _payload: object) -> str | None:
    """A claimed order is decided by its holder, or by a manager; a queued one is claimed before it is decided. An
    order of the general pool nobody holds is decided by the review chain's approvers alone."""
    return holder_refusal(ctx.order.assignee, ctx.order.review_queue, principal)


def holder_refusal(holder: str | None, review_queue: str | None, principal: Principal) -> str | None:
    """`holds_review` from the two facts it reads, for the approvals list (which reads no orders whole)."""
    if principal.is_manager or principal.subject == holder:
        return None
    if holder is not None:
        return f"claimed by {holder}"
    if review_queue is not None:
        return f"claim it from review queue '{review_queue}' first"
    return None


def evidence_complete(ctx: AfterSalesContext, _principal: Principal, _payload: object) -> str | None:
    """证据要求: an order whose reason needs photos is approved only once that many are linked and scanned clean."""
    return ctx.order.evidence.missing()


def _evidence_missing(ctx: AfterSalesContext, refused: Conflict) -> DomainError:
    evidence = ctx.order.evidence
    return Conflict(
        f"Order {ctx.order.number} cannot be approved yet: reason '{ctx.order.reason_code}' "
        f"{evidence.missing()}; add photos with `add_evidence`",
        code="evidence_missing",
        extra={
            **refused.extra,
            "evidence": evidence.as_json(),
        },
    )


NAMED_REFUSALS: dict[Guard, Refusal] = {evidence_complete: _evidence_missing}
"""The evidence guard's refusal says what is missing, so that the caller can supply it."""


def lightning(ctx: AfterSalesContext, _principal: Principal, _payload: object) -> str | None:
    return None if ctx.order.lightning else "refunds on receipt, not on pickup"


def not_lightning(ctx: AfterSalesContext, _principal: Principal, _payload: object) -> str | None:
    return None if not ctx.order.lightning else "闪电退款: refunds on pickup"


def passed(_ctx: AfterSalesContext, _principal: Principal, payload: object) -> str | None:
    return None if payload is None or getattr(payload, "result", None) == "pass" else "the inspection failed"


def failed(_ctx: AfterSalesContext, _principal: Principal, payload: object) -> str | None:
    return None if payload is None or getattr(payload, "result", None) == "fail" else "the inspection passed"


def received(ctx: AfterSalesContext, _principal: Principal, _payload: object) -> str | None:
    return None if ctx.order.returned_at is not None else "the returned goods have not arrived"


def not_received(ctx: AfterSalesContext, _principal: Principal, _payload: object) -> str | None:
    return None if ctx.order.returned_at is None else "the returned goods were already received"


def not_inspected(ctx: AfterSalesContext, _principal: Principal, _payload: object) -> str | None:
    return None if ctx.order.inspection_passed is None else "the returned goods were already inspected"


# ---- shared fragments: each workflow below is a literal table of these and its own steps -----------------------


def T(action: str, source: tuple[str, ...] | str, dest: str | None, roles: frozenset[Role], **kw: object) -> Transition:
    """One row of a workflow table: `source` is a state or a tuple of states."""
    return Transition(action, (source,) if isinstance(source, str) else source, dest, roles, **kw)  # type: ignore[arg-type]


def review(approved: str) -> list[Transition]:
    """审核: claim from the pool (a queued order by its queue's reviewers), hand the claim to another of them (转派,
    managers), approve into `approved` or reject (the holder, once claimed); the customer may cancel before review."""
    return [
        T(
            "claim",
            "under_review",
            None,
            STAFF_ROLES,
            guards=(unclaimed, serves_queue),
            public=False,
            payload=RemarkPayload,
            description="领取: take the order from the review pool.",
        ),
        T(
            "transfer",
            "under_review",
            None,
            MANAGERS,
            guards=(queued, claimed),
            public=False,
            payload=TransferPayload,
            description="转派: move the claim to another reviewer of the order's queue.",
        ),
        T(
            "approve",
            "under_review",
            approved,
            DECIDERS,
            guards=(holds_review, reviews_now, evidence_complete),
            payload=RemarkPayload,
            description="审核通过 (once the evidence its reason needs is linked and scanned clean)",
        ),
        T(
            "reject",
            "under_review",
            "rejected",
            DECIDERS,
            payload=ReasonPayload,
            guards=(holds_review, reviews_now),
            description="审核驳回",
        ),
        T(
            "cancel",
            "under_review",
            "cancelled",
            ON_BEHALF_OF_CUSTOMER,
            customer=True,
            payload=RemarkPayload,
            description="Cancel before review.",
        ),
        T(
            "add_evidence",
            "under_review",
            None,
            STAFF_ROLES | ON_BEHALF_OF_CUSTOMER,
            customer=True,
            payload=EvidencePayload,
            description="补充证据: add photos or videos while the request is reviewed.",
        ),
    ]


def payment(first: str, done: str, failed_state: str, *, accepting: bool) -> list[Transition]:
    """The payment centre's steps after an instruction: accepted (refunds only), succeeded or failed; a failed
    payment is sent again by staff."""
    paid_from = (first, "payment_accepted") if accepting else (first,)
    accepted = [
        T(
            "payment_accepted",
            first,
            "payment_accepted",
            SYSTEMS,
            payload=PaymentPayload,
            idempotent=True,
            description="支付中心受理: the payment centre accepted the instruction.",
        ),
    ]
    return [
        *(accepted if accepting else []),
        T(
            "payment_succeeded",
            paid_from,
            done,
            SYSTEMS,
            payload=PaymentPayload,
            idempotent=True,
            description="The money arrived.",
        ),
        T(
            "payment_failed",
            paid_from,
            failed_state,
            SYSTEMS,
            payload=FailurePayload,
            description="The payment centre could not pay.",
        ),
        T(
            "retry_payment",
            failed_state,
            first,
            CASE_HANDLERS,
            payload=RemarkPayload,
            description="Send the instruction again.",
        ),
    ]


def delivery(first: str) -> list[Transition]:
    """The warehouse's and logistics' steps of sending goods: picking, shipping, signed for."""
    return [
        T(
            "picking_started",
            first,
            "picking",
            SYSTEMS,
            idempotent=True,
            payload=RemarkPayload,
            description="The warehouse is picking.",
        ),
        T(
            "shipped",
            (first, "picking"),
            "shipping",
            SYSTEMS,
            payload=ShipmentPayload,
            idempotent=True,
            description="Handed to the carrier.",
        ),
        T(
            "signed",
            "shipping",
            "signed",
            SYSTEMS,
            idempotent=True,
            payload=RemarkPayload,
            description="The customer signed for it.",
        ),
    ]


def urging(*states: str) -> Transition:
    return T("urge", states, None, ON_BEHALF_OF_CUSTOMER, customer=True, payload=RemarkPayload, description="催单")


REFUND_STATES = ("refunding", "payment_accepted", "payment_failed")
"""Money on its way back; after a 闪电退款 the returned goods may still arrive and be inspected meanwhile."""

REFUND_STEPS = [*review("refunding"), *payment("refunding", "refunded", "payment_failed", accepting=True)]

RETURN_REFUND_STEPS = [
    *review("awaiting_return"),
    T(
        "ship_return",
        "awaiting_return",
        "returning",
        ON_BEHALF_OF_CUSTOMER,
        payload=ReturnShippedPayload,
        customer=True,
        description="The customer sent the item back themselves: carrier and tracking number.",
    ),
    T(
        "picked_up",
        "awaiting_return",
        "refunding",
        SYSTEMS,
        payload=ShipmentPayload,
        guards=(lightning,),
        idempotent=True,
        description="闪电退款: picked up from a trusted customer; refund now.",
    ),
    T(
        "picked_up",
        "awaiting_return",
        "returning",
        SYSTEMS,
        payload=ShipmentPayload,
        guards=(not_lightning,),
        idempotent=True,
        description="Logistics collected the return.",
    ),
    T(
        "return_received",
        ("awaiting_return", "returning"),
        "received",
        SYSTEMS,
        idempotent=True,
        payload=RemarkPayload,
        description="The warehouse received the return.",
    ),
    T(
        "inspect",
        "received",
        "refunding",
        RETURN_INSPECTORS,
        payload=InspectionPayload,
        guards=(passed,),
        description="质检通过: refund.",
    ),
    T(
        "inspect",
        "received",
        "inspection_failed",
        RETURN_INSPECTORS,
        payload=InspectionPayload,
        guards=(failed,),
        description="质检不通过: no refund; the item goes back.",
    ),
    T(
        "return_received",
        (*REFUND_STATES, "refunded"),
        None,
        SYSTEMS,
        guards=(lightning, not_received),
        payload=RemarkPayload,
        description="闪电退款: the goods arrived after the refund was sent.",
    ),
    T(
        "inspect",
        (*REFUND_STATES, "refunded"),
        None,
        RETURN_INSPECTORS,
        payload=InspectionPayload,
        guards=(lightning, received, not_inspected),
        description="闪电退款: inspect goods already refunded; a failure is followed up, the refund stands.",
    ),
    *payment("refunding", "refunded", "payment_failed", accepting=True),
]

REPLENISH_STEPS = [*review("replenishing"), *delivery("replenishing")]

EXCHANGE_STEPS = [
    *review("awaiting_pickup"),
    T(
        "picked_up",
        "awaiting_pickup",
        "picked_up",
        SYSTEMS,
        payload=ShipmentPayload,
        idempotent=True,
        description="Logistics collected the old item; the replacement is ordered.",
    ),
    *delivery("picked_up"),
]

COMPENSATION_STEPS = [
    *review("paying"),
    *payment("paying", "compensated", "payment_failed_compensation", accepting=False),
]


def after_sales_workflow(kind: AfterSalesType, title: Label, steps: list[Transition]) -> Workflow[AfterSalesContext]:
    """A scenario's table with its customer labels, urging allowed in every open state."""
    labels = CUSTOMER_LABELS[kind]
    open_states = tuple(name for name in labels if name not in FINAL)
    names = list(dict.fromkeys([*labels, "rejected", "cancelled"]))
    states = [
        State(
            name,
            AGENT_LABELS[name],
            *(labels.get(name) or (_CLOSED if name == "rejected" else _CANCELLED)),
            final=name in FINAL,
        )
        for name in names
    ]
    return Workflow[AfterSalesContext](
        name=kind.value,
        title=title,
        initial="under_review",
        state_of=lambda ctx: ctx.order.status,
        is_own_customer=lambda ctx, principal: principal.customer_no == ctx.order.customer_no,
        refusals=NAMED_REFUSALS,
        states=states,
        transitions=[*steps, urging(*open_states)],
    )


AFTER_SALES_WORKFLOWS: dict[AfterSalesType, Workflow[AfterSalesContext]] = {
    AfterSalesType.REFUND: after_sales_workflow(AfterSalesType.REFUND, Label("退款", "Refund"), REFUND_STEPS),
    AfterSalesType.PARTIAL_REFUND: after_sales_workflow(
        AfterSalesType.PARTIAL_REFUND, Label("部分退款", "Partial refund"), REFUND_STEPS
    ),
    AfterSalesType.RETURN_REFUND: after_sales_workflow(
        AfterSalesType.RETURN_REFUND, Label("退货退款", "Return and refund"), RETURN_REFUND_STEPS
    ),
    AfterSalesType.REPLENISH: after_sales_workflow(
        AfterSalesType.REPLENISH, Label("补货", "Replenishment"), REPLENISH_STEPS
    ),
    AfterSalesType.EXCHANGE: after_sales_workflow(AfterSalesType.EXCHANGE, Label("换货", "Exchange"), EXCHANGE_STEPS),
    AfterSalesType.COMPENSATION: after_sales_workflow(
        AfterSalesType.COMPENSATION, Label("赔付", "Compensation"), COMPENSATION_STEPS
    ),
}


REQUESTS = {
    "refunding": "after_sales.refund_requested",
    "paying": "after_sales.compensation_requested",
    "awaiting_return": "after_sales.pickup_requested",
    "awaiting_pickup": "after_sales.pickup_requested",
    "replenishing": "after_sales.replenishment_requested",
    "picked_up": "after_sales.replacement_requested",
}
"""Entering these states asks the payment centre or the warehouse to act: an outbox event, same transaction."""


def _shipment(payload: Payload, current: Shipment) -> Shipment:
    carrier, tracking_no = getattr(payload, "carrier", None), getattr(payload, "tracking_no", None)
    return Shipment(carrier, tracking_no) if carrier or tracking_no else current


def _reference(ctx: AfterSalesContext, _principal: Principal, payload: Payload) -> dict[str, object]:
    return {"payment_reference": getattr(payload, "reference", None) or ctx.order.payment_reference}


def _urge(ctx: AfterSalesContext, _principal: Principal, _payload: Payload) -> dict[str, object]:
    order = ctx.order
    urged = urge(order.urge_count, order.last_urged_at, order.escalation_level, ctx.now, ctx.urge_policy)
    return {"urge_count": urged.count, "last_urged_at": urged.at, "escalation_level": urged.escalation_level}


EFFECTS: dict[str, Callable[[AfterSalesContext, Principal, Payload], dict[str, object]]] = {
    "claim": lambda _ctx, principal, _p: {"assignee": principal.subject},
    "transfer": lambda _ctx, _principal, payload: {"assignee": getattr(payload, "assignee", None)},
    "approve": lambda _ctx, principal, _p: {"reviewed_by": principal.subject},
    "reject": lambda _ctx, principal, _p: {"reviewed_by": principal.subject},
    "ship_return": lambda ctx, _pr, payload: {"return_shipment": _shipment(payload, ctx.order.return_shipment)},
    "picked_up": lambda ctx, _pr, payload: {"return_shipment": _shipment(payload, ctx.order.return_shipment)},
    "shipped": lambda ctx, _pr, payload: {"replacement_shipment": _shipment(payload, ctx.order.replacement_shipment)},
    "return_received": lambda ctx, _pr, _payload: {"returned_at": ctx.now},
    "inspect": lambda _ctx, _pr, payload: {"inspection_passed": getattr(payload, "result", None) == "pass"},
    "payment_accepted": _reference,
    "payment_succeeded": _reference,
    "urge": _urge,
}


def apply(ctx: AfterSalesContext, principal: Principal, move: Move) -> AfterSalesOrder:
    """The order after `move`: new state, the action's own changes, payment attempts, when it finished."""
    effect = EFFECTS.get(move.transition.action)
    changes = effect(ctx, principal, move.payload) if effect else {}
    if move.dest in ("refunding", "paying") and move.source != move.dest:
        changes["payment_attempts"] = ctx.order.payment_attempts + 1
    if move.dest in FINAL and move.source not in FINAL:
        changes["finished_at"] = ctx.now
    return replace(ctx.order, **changes, status=move.dest, version=ctx.order.version + 1, updated_at=ctx.now)
