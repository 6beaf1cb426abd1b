"""After-sales use cases: eligibility, creation with review (manual or 极速审核), workflow actions with the money
ledger, reads scoped to the caller, and the auto-review settings.

Every use case that changes money locks the sales order row first (`FOR UPDATE` on PostgreSQL; SQLite serialises
writers), then re-reads the ledger, checks, and writes: two concurrent refunds can never both pass the check."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from app.domain.after_sales import (
    GOODS_TYPES,
    MONEY_TYPES,
    RECENT_WINDOW,
    RELEASED,
    AfterSalesFilter,
    AfterSalesLine,
    AfterSalesOrder,
    AfterSalesType,
    AutoReviewRules,
    CompensationKind,
    after_sales_number,
    auto_review,
    is_after_sales_number,
)
from app.domain.approvals import Approval, Decision, Status, SubjectKind, Verdict
from app.domain.attachment_links import SubjectType
from app.domain.clock import Clock
from app.domain.eligibility import Eligibility, EligibilityPolicy, assess
from app.domain.errors import Conflict, FieldError, InvalidInput, NotFound
from app.domain.events import OutboxEvent, TimelineEntry
from app.domain.evidence import Evidence, EvidenceRules
from app.domain.ids import new_id
from app.domain.invariants import present
from app.domain.ledger import Ledger, allocate
from app.domain.money import format_money
from app.domain.notifications import Subject
from app.domain.orders import SalesOrder
from app.domain.pagination import Page, PageRequest
from app.domain.preconditions import Precondition
from app.domain.principal import Principal, Role
from app.domain.review_queues import route
from app.domain.sla import AfterSalesChange
from app.domain.unit_of_work import UnitOfWork, UnitOfWorkFactory
from app.domain.urging import UrgePolicy
from app.services.approvals import ApprovalEngine, ApprovalRequest
from app.services.attachment_links import Attached, Attaching, AttachmentLinker
from app.services.history import Change, record_after_sales_change
from app.services.sla import SlaService, SubjectSla
from app.workflows.after_sales import (
    AFTER_SALES_WORKFLOWS,
    ATTACHING,
    ON_THE_ORDER,
    REQUESTS,
    AfterSalesContext,
    apply,
    holder_refusal,
)
from app.workflows.attachments import ids_of
from app.workflows.engine import AvailableAction, Move
from app.workflows.standard_texts import AUTO_REVIEWED, NO_REVIEW_LEVEL

AUTO_REVIEWER = Principal("auto-review", frozenset({Role.MANAGER}))
"""极速审核 acts as a manager would, and the timeline says which rule decided."""


@dataclass(frozen=True, slots=True)
class RequestedLine:
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class AfterSalesDraft:
    """What a customer or an agent asks for; the service works out amounts from the order."""

    order_no: str
    type: AfterSalesType
    reason_code: str
    lines: tuple[RequestedLine, ...] = ()
    amount: int | None = None
    compensation_kind: CompensationKind | None = None
    description: str | None = None
    attachment_ids: tuple[UUID, ...] = ()
    ticket: UUID | str | None = None


@dataclass(frozen=True, slots=True)
class AfterSalesPolicy:
    eligibility: EligibilityPolicy
    urge: UrgePolicy


@dataclass(frozen=True, slots=True)
class AfterSalesView:
    order: AfterSalesOrder
    available_actions: list[AvailableAction]
    sla: SubjectSla
    approval: Approval | None = None
    already_passed: bool = False  # the action was another system's step the order had gone through: no change


def after_sales_not_found(ref: UUID | str) -> NotFound:
    return NotFound(f"No after-sales order '{ref}'", code="after_sales_not_found")


def _order_not_found(order_no: str) -> NotFound:
    return NotFound(f"No order '{order_no}'", code="order_not_found")


class AfterSalesService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        policy: AfterSalesPolicy,
        approvals: ApprovalEngine,
        sla: SlaService,
        linker: AttachmentLinker,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._approvals = approvals
        self._sla = sla
        self._linker = linker

    def _context(
        self,
        order: AfterSalesOrder,
        now: datetime,
        approval: Approval | None = None,
        reviewers: frozenset[str] = frozenset(),
    ) -> AfterSalesContext:
        approvers = frozenset(approval.pending_approvers()) if approval else None
        return AfterSalesContext(order, now, self._policy.urge, approvers, reviewers)

    async def _views(
        self,
        uow: UnitOfWork,
        orders: Sequence[AfterSalesOrder],
        principal: Principal,
        now: datetime,
        approvals: Mapping[UUID, Approval],
    ) -> list[AfterSalesView]:
        """Buttons from the same context the action decides with (the order, the time, the review under way and
        its queue's reviewers), and each order's SLA clocks, their logs read in one query."""
        slas = await self._sla.slas(uow, [o.id for o in orders], now, {})
        reviewers = await uow.review_queues.reviewers({q for o in orders if (q := _reviewed_in(o)) is not None})
        return [
            AfterSalesView(
                order,
                AFTER_SALES_WORKFLOWS[order.type].available(
                    self._context(
                        order, now, approvals.get(order.id), reviewers.get(order.review_queue or "", frozenset())
                    ),
                    principal,
                ),
                slas[order.id],
                approvals.get(order.id),
            )
            for order in orders
        ]

    async def views_in(
        self, uow: UnitOfWork, orders: Sequence[AfterSalesOrder], principal: Principal, now: datetime
    ) -> list[AfterSalesView]:
        """A page of orders as the caller sees them, the reviews under way read for the whole page at once (lists,
        review pools and personal queues draw the buttons the single read draws)."""
        reviewing = [o.id for o in orders if o.status == "under_review"]
        approvals = await uow.approvals.pending_for_subjects(reviewing)
        return await self._views(uow, orders, principal, now, approvals)

    async def _view(
        self, uow: UnitOfWork, order: AfterSalesOrder, principal: Principal, now: datetime
    ) -> AfterSalesView:
        """One order's view, with the review under way if it is being reviewed."""
        approval = await _review_under_way(uow, order)
        approvals = {order.id: approval} if approval else {}
        return (await self._views(uow, [order], principal, now, approvals))[0]

    @property
    def _compensation_percent(self) -> int:
        return self._policy.eligibility.compensation_max_percent

    async def eligibility(self, principal: Principal, order_no: str) -> Eligibility:
        """The same answer creation enforces: what each line allows now, how much, until when, and why not."""
        now = self._clock.now()
        async with self._uow.read() as uow:
            order = await uow.orders.get(order_no)
            if order is None or not principal.can_see_customer(order.data.customer_no):
                raise _order_not_found(order_no)
            ledger = await uow.after_sales.ledger(order)
        return assess(order, ledger, self._policy.eligibility, now)

    async def create(self, principal: Principal, draft: AfterSalesDraft) -> AfterSalesView:
        now = self._clock.now()
        async with self._uow.write() as uow:
            order = await uow.orders.get(draft.order_no, for_update=True)  # the ledger's lock
            if order is None or not principal.can_see_customer(order.data.customer_no):
                raise InvalidInput(
                    "No such order for this customer",
                    code="invalid_after_sales",
                    errors=[FieldError("/order_no", f"no order '{draft.order_no}' of yours")],
                )
            ledger = await uow.after_sales.ledger(order)
            lines, amount = _priced(draft, order, assess(order, ledger, self._policy.eligibility, now))
            ticket_id = await _linked_ticket(uow, draft, order)
            attached = await self._linker.check(
                uow, principal, Attaching(draft.attachment_ids), customer_no=order.data.customer_no
            )
            clean, pending = attached.photos()
            required = (await uow.after_sales.evidence_rules()).required_for(draft.reason_code)
            customer = await uow.customers.get(order.data.customer_no)
            level = customer.data.level.value if customer else "regular"
            rules = await uow.after_sales.auto_review_rules()
            created = AfterSalesOrder(
                id=new_id(),
                number=after_sales_number(now.year, await uow.after_sales.next_sequence()),
                order_no=order.order_no,
                customer_no=order.data.customer_no,
                type=draft.type,
                status="under_review",
                currency=order.data.currency,
                amount=amount,
                lines=lines,
                reason_code=draft.reason_code,
                description=draft.description,
                attachments=attached.snapshots(),
                evidence=Evidence(required, clean, pending),
                ticket_id=ticket_id,
                compensation_kind=draft.compensation_kind,
                lightning=draft.type is AfterSalesType.RETURN_REFUND and level in rules.lightning_refund_levels,
                business_line=await _business_line(uow, lines or order.data.lines),
                created_by=principal.subject,
                created_at=now,
                updated_at=now,
            )
            ledger = ledger.reserve(created, order.data.lines, self._compensation_percent)
            await uow.after_sales.save_ledger(ledger)
            recent = await uow.after_sales.recent_count(created.customer_no, now - RECENT_WINDOW)  # before this one
            match, misses = auto_review(rules, draft.type, amount, order, level, recent)
            if match is not None and not created.evidence.complete:  # 极速审核 never approves without the photos
                match, misses = None, [f"evidence: {created.evidence.missing()}"]
            await _record(uow, created, principal, now, Change("created", "create", to_status="under_review"))
            subject = (SubjectType.AFTER_SALES, created.id)
            await self._linker.link(uow, attached, subject, public=True, actor=principal.subject, now=now)
            if match is None:
                created = replace(created, review_queue=await _review_queue(uow, created))
                await uow.after_sales.add(created)
                submitted = AfterSalesChange(now, created.status, created.type, created=True)
                await self._sla.record_after_sales(uow, created, submitted, [])
                facts = {"reasons": misses, "review_queue": created.review_queue}
                review_needed = Change("updated", "review_needed", payload=facts, public=False)
                await _record(uow, created, AUTO_REVIEWER, now, review_needed)
                result = await self._request_review(uow, created, ledger, principal, now)
            else:
                result = await self._move(
                    uow,
                    replace(created, review_rule=match.rule),
                    ledger,
                    AUTO_REVIEWER,
                    "approve",
                    {},
                    now,
                    remark=AUTO_REVIEWED.text(),
                    facts={"rule": match.rule, "matched": list(match.conditions)},
                    stored=False,
                )
            view = await self._view(uow, result, principal, now)
            await uow.commit()
        return view

    async def _request_review(
        self, uow: UnitOfWork, order: AfterSalesOrder, ledger: Ledger, principal: Principal, now: datetime
    ) -> AfterSalesOrder:
        """Manual review through the approval chain (审核分层); with no level applying it is approved at once."""
        request = ApprovalRequest(
            kind=SubjectKind.AFTER_SALES_REVIEW,
            subject=_subject(order),
            title=f"售后审核 {order.type.value}",
            requested_by=principal.subject,
            amount=order.amount,
            currency=order.currency,
            subject_type=order.type.value,
            facts={"order_no": order.order_no, "customer_no": order.customer_no, "reason_code": order.reason_code},
        )
        approval = await self._approvals.request(uow, request, now)
        if approval.status is not Status.APPROVED or not order.evidence.complete:
            return order
        return await self._move(uow, order, ledger, AUTO_REVIEWER, "approve", {}, now, remark=NO_REVIEW_LEVEL.text())

    async def review_refusals(self, uow: UnitOfWork, approvals: Sequence[Approval], principal: Principal) -> set[UUID]:
        """The reviews the approvals list must not offer the caller: claimed by another, or queued and unclaimed (the
        workflow's holder rule, `holds_review`)."""
        claims = await uow.after_sales.claims([a.subject_id for a in approvals])
        return {
            a.id
            for a in approvals
            if a.subject_id in claims and holder_refusal(*claims[a.subject_id], principal) is not None
        }

    async def decide_review(
        self, uow: UnitOfWork, order_id: UUID, verdict: Verdict, principal: Principal, now: datetime
    ) -> None:
        """The approvals endpoint's way in (see `ApprovalService.register`)."""
        current, ledger = await self._locked(uow, principal, order_id)
        approving = verdict.decision is Decision.APPROVE
        action = "approve" if approving else "reject"
        body = {"remark": verdict.comment} if approving else {"reason": verdict.comment or ""}
        if not approving and not verdict.comment:
            raise InvalidInput(
                "Say why the request is rejected",
                code="validation_failed",
                errors=[FieldError("/comment", "required to reject")],
            )
        await self._review(uow, current, ledger, verdict.approval_id, principal, action, body, now)

    async def _locked(self, uow: UnitOfWork, principal: Principal, ref: UUID | str) -> tuple[AfterSalesOrder, Ledger]:
        """The after-sales order and its sales order's ledger totals, locked in the order every writer takes: the
        sales order row first (as creation does), then the after-sales row."""
        ledger = await uow.after_sales.lock_ledger(ref)
        current = await _visible(uow, principal, ref, for_update=True)
        return current, present(ledger, "the after-sales order's sales order")

    async def _review(
        self,
        uow: UnitOfWork,
        current: AfterSalesOrder,
        ledger: Ledger,
        approval_id: UUID | None,
        principal: Principal,
        action: str,
        body: dict[str, Any],
        now: datetime,
        reviewers: frozenset[str] | None = None,
    ) -> AfterSalesOrder:
        """One reviewer's decision at the chain's current level; the final outcome approves or rejects the order.
        The workflow decides with the approval and the queue's reviewers in its context, as the buttons were drawn
        (`reviewers` None: read here)."""
        if reviewers is None:
            reviewers = await _queue_reviewers(uow, current)
        try:
            approval = await self._approvals.pending(uow, current.id, approval_id)
        except Conflict:
            if approval_id is not None:
                raise
            # Under review with no approval open: no level of the chain applied, so the review was approved when it
            # was asked, and the order waited only for the evidence its reason needs. The workflow decides alone.
            return await self._move(uow, current, ledger, principal, action, body, now, reviewers=reviewers)
        move = AFTER_SALES_WORKFLOWS[current.type].decide(
            self._context(current, now, approval, reviewers), principal, action, body
        )
        decision = Decision.APPROVE if action == "approve" else Decision.REJECT
        comment = getattr(move.payload, "reason", None) or move.payload.remark
        decided = await self._approvals.decide(uow, approval, principal, decision, comment, {}, now, _subject(current))
        if decided.status is Status.PENDING:
            return current
        return await self._move(uow, current, ledger, principal, action, body, now)

    async def act(
        self, principal: Principal, ref: UUID | str, action: str, body: dict[str, Any], precondition: Precondition
    ) -> AfterSalesView:
        now = self._clock.now()
        async with self._uow.write() as uow:
            current, ledger = await self._locked(uow, principal, ref)
            precondition.check(current.version)
            workflow = AFTER_SALES_WORKFLOWS[current.type]
            reviewers = await _queue_reviewers(uow, current)
            if workflow.passed(self._context(current, now, reviewers=reviewers), principal, action):
                return replace(await self._view(uow, current, principal, now), already_passed=True)
            if action in ("approve", "reject") and current.status == "under_review":
                after = await self._review(uow, current, ledger, None, principal, action, body, now, reviewers)
            else:
                after = await self._move(uow, current, ledger, principal, action, body, now, reviewers=reviewers)
                if after.status == "cancelled":
                    await self._approvals.cancel_pending(uow, after.id, now)
            view = await self._view(uow, after, principal, now)
            await uow.commit()
        return view

    async def _move(
        self,
        uow: UnitOfWork,
        current: AfterSalesOrder,
        ledger: Ledger,
        principal: Principal,
        action: str,
        body: dict[str, Any],
        now: datetime,
        remark: str | None = None,
        facts: dict[str, Any] | None = None,
        *,
        stored: bool = True,
        reviewers: frozenset[str] = frozenset(),
    ) -> AfterSalesOrder:
        """Take the action and write what follows from it; `stored` False: the order is new (approved as it is
        created) and is inserted as it stands after the move. `reviewers`: the active reviewers of its queue."""
        ctx = self._context(current, now, reviewers=reviewers)
        move = AFTER_SALES_WORKFLOWS[current.type].decide(ctx, principal, action, body)
        if move.transition.action == "transfer":
            await _check_transfer(uow, current, getattr(move.payload, "assignee", ""), reviewers)
        attached = await self._attached(uow, current, principal, move)
        after = await _with_files(uow, apply(ctx, principal, move), attached, action)
        await self._settle(uow, ledger, current, move)
        await (uow.after_sales.update(after) if stored else uow.after_sales.add(after))
        if stored:
            moved = AfterSalesChange(now, after.status, after.type, previous_status=current.status)
            await self._sla.record_after_sales(uow, after, moved)
        else:  # approved as it was submitted (极速审核)
            submitted = AfterSalesChange(now, after.status, after.type, created=True)
            await self._sla.record_after_sales(uow, after, submitted, [])
        payload = move.payload.model_dump(mode="json", exclude={"remark", "remark_public"}, exclude_none=True)
        if attached.files:
            payload["attachments"] = attached.as_json()
        change = Change(
            "action",
            action,
            current.status,
            after.status,
            move.payload.remark or remark,
            {**payload, **(facts or {})},
            public=move.transition.public,
            remark_public=principal.is_customer or getattr(move.payload, "remark_public", False),
        )
        requested = after.status != current.status and after.status in REQUESTS
        instructions = [_instruction_event(after, now)] if requested else []
        entry = await _record(uow, after, principal, now, change, instructions)
        subject = (SubjectType.AFTER_SALES, after.id)
        public = move.transition.public
        await self._linker.link(
            uow, attached, subject, public=public, actor=principal.subject, now=now, entry_id=entry.id
        )
        return after

    async def _attached(self, uow: UnitOfWork, order: AfterSalesOrder, principal: Principal, move: Move) -> Attached:
        """The files an action attaches (return receipts, inspection photos, 补充证据), checked for the order."""
        purposes = ATTACHING.get(move.transition.action)
        if purposes is None:
            return Attached()
        files = Attaching(ids_of(getattr(move.payload, "attachments", [])), purposes=purposes)
        subject = (SubjectType.AFTER_SALES, order.id)
        return await self._linker.check(uow, principal, files, customer_no=order.customer_no, subject=subject)

    async def _settle(self, uow: UnitOfWork, ledger: Ledger, current: AfterSalesOrder, move: Move) -> None:
        """Money follows the workflow: a released order frees its reservation, a paid refund becomes refunded.
        Goods-only orders hold nothing in the stored totals (their lines stop holding by their state)."""
        if current.type not in MONEY_TYPES and current.type is not AfterSalesType.COMPENSATION:
            return
        if move.dest in RELEASED and move.source not in RELEASED:
            await uow.after_sales.save_ledger(ledger.release(current))
        elif move.dest == "refunded" and move.source != "refunded":
            await uow.after_sales.save_ledger(ledger.settle(current))

    async def get(self, principal: Principal, ref: UUID | str) -> AfterSalesView:
        async with self._uow.read() as uow:
            order = await _visible(uow, principal, ref)
            return await self._view(uow, order, principal, self._clock.now())

    async def list(self, principal: Principal, where: AfterSalesFilter, page: PageRequest) -> Page[AfterSalesView]:
        """Customers always list only their own, whatever filter they send; staff only their business lines. The
        reviews under way come for the whole page in one read, so list buttons match the single read's."""
        if principal.is_customer:
            where = replace(where, customer_no=principal.customer_no)
        where = replace(where, business_lines=principal.business_line_scope)
        async with self._uow.read() as uow:
            found = await uow.after_sales.list(where, page)
            views = await self.views_in(uow, found.items, principal, self._clock.now())
        return Page(views, found.next_key)

    async def timeline(self, principal: Principal, ref: UUID | str, page: PageRequest) -> Page[TimelineEntry]:
        async with self._uow.read() as uow:
            order = await _visible(uow, principal, ref)
            return await uow.timeline.list(order.id, page, public_only=principal.is_customer)

    async def auto_review_rules(self) -> AutoReviewRules:
        async with self._uow.read() as uow:
            return await uow.after_sales.auto_review_rules()

    async def evidence_rules(self) -> EvidenceRules:
        async with self._uow.read() as uow:
            return await uow.after_sales.evidence_rules()

    async def set_evidence_rules(
        self, principal: Principal, rules: EvidenceRules, precondition: Precondition
    ) -> EvidenceRules:
        """New orders take their requirement from these rules; orders already made keep theirs."""
        async with self._uow.write() as uow:
            current = await uow.after_sales.evidence_rules()
            precondition.check(current.version)
            saved = await uow.after_sales.save_evidence_rules(
                replace(rules, version=current.version), principal.subject, self._clock.now()
            )
            await uow.commit()
        return saved

    async def set_auto_review_rules(
        self, principal: Principal, rules: AutoReviewRules, precondition: Precondition
    ) -> AutoReviewRules:
        async with self._uow.write() as uow:
            current = await uow.after_sales.auto_review_rules()
            precondition.check(current.version)
            saved = await uow.after_sales.save_auto_review_rules(
                replace(rules, version=current.version), principal.subject, self._clock.now()
            )
            await uow.commit()
        return saved


def _priced(
    draft: AfterSalesDraft, order: SalesOrder, eligibility: Eligibility
) -> tuple[tuple[AfterSalesLine, ...], int]:
    """The lines and amount of a request that eligibility allows, or every reason it does not, named by field.
    Money is held per line: each line's share is at most its value less what is refunded or reserved on it."""
    errors: list[FieldError] = []
    kind = draft.type
    if kind in (AfterSalesType.REFUND, AfterSalesType.COMPENSATION):
        rule = eligibility.rule(kind)
        if not rule.allowed:
            errors.append(FieldError("/type", f"{kind} is not possible now: {rule.text_en}"))
    seen: set[str] = set()
    caps: list[tuple[str, int, int]] = []  # sku, quantity, the most this line may refund
    for i, requested in enumerate(draft.lines):
        line = eligibility.line(requested.sku)
        if line is None:
            errors.append(FieldError(f"/lines/{i}/sku", f"'{requested.sku}' is not on order {order.order_no}"))
            continue
        if requested.sku in seen:
            errors.append(FieldError(f"/lines/{i}/sku", f"'{requested.sku}' appears on more than one line"))
            continue
        seen.add(requested.sku)
        if kind not in (AfterSalesType.REFUND, AfterSalesType.COMPENSATION) and not line.rule(kind).allowed:
            errors.append(FieldError(f"/lines/{i}/sku", f"{kind} is not possible now: {line.rule(kind).text_en}"))
        if kind in GOODS_TYPES and requested.quantity > line.remaining_quantity:
            errors.append(FieldError(f"/lines/{i}/quantity", f"at most {line.remaining_quantity} left on this line"))
        if requested.quantity > line.purchased_quantity:
            errors.append(FieldError(f"/lines/{i}/quantity", f"only {line.purchased_quantity} were bought"))
        caps.append((requested.sku, requested.quantity, min(line.unit_price * requested.quantity, line.max_refundable)))
    if (kind is AfterSalesType.COMPENSATION) != (draft.compensation_kind is not None):
        errors.append(FieldError("/compensation_kind", "required for compensation, and only for it"))
    if draft.amount is not None and kind not in (AfterSalesType.PARTIAL_REFUND, AfterSalesType.COMPENSATION):
        errors.append(FieldError("/amount", f"the service computes the amount of a {kind}; leave it out"))
    if (kind in GOODS_TYPES or kind is AfterSalesType.PARTIAL_REFUND) and not draft.lines:
        errors.append(FieldError("/lines", f"name the lines of a {kind}"))
    if kind is AfterSalesType.REFUND:
        caps = [(line.sku, line.purchased_quantity, line.max_refundable) for line in eligibility.lines]
    amount = _amount(draft, eligibility, caps, errors)
    if errors:
        raise InvalidInput("The after-sales request cannot be accepted as sent", code="not_eligible", errors=errors)
    if kind in MONEY_TYPES:
        return allocate(amount, caps), amount
    return tuple(AfterSalesLine(sku, quantity, 0) for sku, quantity, _cap in caps), amount


def _amount(
    draft: AfterSalesDraft, eligibility: Eligibility, caps: list[tuple[str, int, int]], errors: list[FieldError]
) -> int:
    kind = draft.type
    currency = eligibility.currency
    lines_cap = sum(cap for _sku, _quantity, cap in caps)
    if kind is AfterSalesType.REFUND:
        return eligibility.refundable
    if kind is AfterSalesType.RETURN_REFUND:
        return min(lines_cap, eligibility.refundable)
    if kind not in (AfterSalesType.PARTIAL_REFUND, AfterSalesType.COMPENSATION):
        return 0
    amount = draft.amount
    if amount is None:
        errors.append(FieldError("/amount", f"required for a {kind}"))
        return 0
    if kind is AfterSalesType.COMPENSATION:
        if amount > eligibility.compensable:
            errors.append(
                FieldError(
                    "/amount",
                    f"above the compensation limit: at most {format_money(eligibility.compensable, currency)}",
                )
            )
    elif caps and lines_cap < eligibility.refundable and amount > lines_cap:
        errors.append(
            FieldError(
                "/amount", f"above what the lines named may still refund: at most {format_money(lines_cap, currency)}"
            )
        )
    elif amount > eligibility.refundable:
        errors.append(
            FieldError("/amount", f"above refundable: at most {format_money(eligibility.refundable, currency)}")
        )
    return amount


async def _with_files(uow: UnitOfWork, after: AfterSalesOrder, attached: Attached, action: str) -> AfterSalesOrder:
    """The order counting the evidence photos an action linked (each photo once per order), with the files of an
    action that adds to its own evidence (ON_THE_ORDER) on its list."""
    if not attached.files:
        return after
    clean, pending = attached.photos()
    if clean or pending:  # a photo linked to the order before (on another action) is counted already
        ids = [file.id for file in attached.files]
        clean, pending = attached.photos(
            await uow.attachment_links.already_linked(SubjectType.AFTER_SALES, after.id, ids)
        )
    files = after.attachments + attached.snapshots() if action in ON_THE_ORDER else after.attachments
    return replace(after, attachments=files, evidence=after.evidence.linked(clean=clean, pending=pending))


async def _business_line(uow: UnitOfWork, lines: Iterable[AfterSalesLine] | Iterable[Any]) -> str | None:
    """The product line of the first goods, as a ticket takes its product's: it scopes staff access."""
    first = next(iter(lines), None)
    product = await uow.products.get(first.sku) if first is not None else None
    return product.data.product_line if product else None


def _reviewed_in(order: AfterSalesOrder) -> str | None:
    """The review queue whose reviewers the order's guards need: its own, while it is under review."""
    return order.review_queue if order.status == "under_review" else None


async def _queue_reviewers(uow: UnitOfWork, order: AfterSalesOrder) -> frozenset[str]:
    queue = _reviewed_in(order)
    if queue is None:
        return frozenset()
    return (await uow.review_queues.reviewers({queue})).get(queue, frozenset())


_ROUTING_ATTEMPTS = 5
"""Each retry needs a queue deleted or changed in the moment between the read and the lock; past this, the general
pool takes the order."""


async def _review_queue(uow: UnitOfWork, order: AfterSalesOrder) -> str | None:
    """审核队列: the first queue (by position) that takes the order, share-locked to the commit so that it is neither
    deleted nor changed under the order routed to it. A queue deleted or changed meanwhile: matched again."""
    for _ in range(_ROUTING_ATTEMPTS):
        queue = route(await uow.review_queues.ordered(), order)
        if queue is None:
            return None
        held = await uow.review_queues.hold(queue.key)
        if held is not None and held.data.conditions.hold(order):
            return held.key
    return None


async def _check_transfer(uow: UnitOfWork, order: AfterSalesOrder, assignee: str, reviewers: frozenset[str]) -> None:
    """转派: the agent named takes the claim only as a registered, active reviewer of the order's queue (the claim
    guard's rule for someone else, known once the body names them)."""
    if assignee == order.assignee:
        problem = "already holds the claim"
    elif not await uow.review_queues.active_agents({assignee}):
        problem = "is not a registered, active agent"
    elif assignee not in reviewers:
        problem = f"does not review queue '{order.review_queue}'"
    else:
        return
    raise InvalidInput(
        f"'{assignee}' cannot take the review: {problem}",
        code="invalid_assignee",
        errors=[FieldError("/assignee", f"'{assignee}' {problem}")],
    )


async def _review_under_way(uow: UnitOfWork, order: AfterSalesOrder) -> Approval | None:
    """The review approval the view draws its buttons from; only an order under review has one."""
    return await uow.approvals.pending_for(order.id) if order.status == "under_review" else None


async def _linked_ticket(uow: UnitOfWork, draft: AfterSalesDraft, order: SalesOrder) -> UUID | None:
    """A complaint can lead to an after-sales order; the ticket must be the same customer's."""
    if draft.ticket is None:
        return None
    ticket = await uow.tickets.get(draft.ticket)
    if ticket is None or ticket.customer_no != order.data.customer_no:
        raise InvalidInput(
            "No such ticket for this customer",
            code="invalid_after_sales",
            errors=[FieldError("/ticket", "no ticket of this order's customer")],
        )
    return ticket.id


async def _visible(
    uow: UnitOfWork, principal: Principal, ref: UUID | str, *, for_update: bool = False
) -> AfterSalesOrder:
    """The order if this caller may see it: a customer their own, staff their business lines; else 404."""
    if isinstance(ref, str) and not is_after_sales_number(ref):
        raise after_sales_not_found(ref)
    order = await uow.after_sales.get(ref, for_update=for_update)
    if (
        order is None
        or not principal.can_see_customer(order.customer_no)
        or not principal.can_see_business_line(order.business_line)
    ):
        raise after_sales_not_found(ref)
    return order


def _instruction_event(order: AfterSalesOrder, now: datetime) -> OutboxEvent:
    """Entering a state in REQUESTS asks the payment centre or the warehouse to act, with what they need."""
    return OutboxEvent(new_id(), REQUESTS[order.status], "after_sales", order.id, now, _instruction(order))


def _instruction(order: AfterSalesOrder) -> dict[str, Any]:
    return {
        "after_sales_id": str(order.id),
        "number": order.number,
        "order_no": order.order_no,
        "customer_no": order.customer_no,
        "type": order.type.value,
        "amount": order.amount,
        "currency": order.currency,
        "compensation_kind": order.compensation_kind.value if order.compensation_kind else None,
        "lines": [{"sku": line.sku, "quantity": line.quantity} for line in order.lines],
        "attempt": order.payment_attempts,
    }


def _subject(order: AfterSalesOrder) -> Subject:
    return Subject("after_sales", order.id, order.number)


async def _record(
    uow: UnitOfWork,
    order: AfterSalesOrder,
    principal: Principal,
    now: datetime,
    change: Change,
    also: Sequence[OutboxEvent] = (),
) -> TimelineEntry:
    return await record_after_sales_change(uow, order, principal.subject, now, change, also)
