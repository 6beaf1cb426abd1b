"""/v1/after-sales (售后单), /v1/orders/{order_no}/eligibility, /v1/settings/auto-review and
/v1/settings/evidence-rules."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Body, Depends, Path, Query, Response, status

from app.domain.after_sales import AfterSalesFilter, AfterSalesType
from app.domain.pagination import PageRequest
from app.domain.principal import Principal
from app.schemas.after_sales import AfterSalesIn, AfterSalesOut, AutoReviewIn, AutoReviewOut, EligibilityOut
from app.schemas.attachments import ids_of
from app.schemas.common import KEY_PATTERN, KeyPath, PageOut, QueryInstant, problems
from app.schemas.evidence import EvidenceRulesIn, EvidenceRulesOut
from app.schemas.workflows import ActionIn, TimelineEntryOut, action_payloads
from app.services.after_sales import AfterSalesDraft, AfterSalesView, RequestedLine
from app.web.auth import Anyone, SettingsWriter, StaffOrIntegration
from app.web.language import Lang
from app.web.pagination import page_out, page_request
from app.web.preconditions import Guarded, set_etag
from app.web.query_params import one_of
from app.web.refs import uuid_or_number
from app.web.routes import api_router
from app.web.wiring import Svc
from app.workflows.after_sales import AFTER_SALES_WORKFLOWS

router = api_router(tags=["after-sales"])
STATES = frozenset(state.name for workflow in AFTER_SALES_WORKFLOWS.values() for state in workflow.states)
Page = Annotated[PageRequest, Depends(page_request)]


async def after_sales_ref(
    id: Annotated[str, Path(description="The after-sales order's UUID or its number, e.g. AS-2026-000045.")],
) -> UUID | str:
    return uuid_or_number(id)


Ref = Annotated[UUID | str, Depends(after_sales_ref)]


def _out(view: AfterSalesView, principal: Principal, language: str) -> AfterSalesOut:
    return AfterSalesOut.of(view.order, view.available_actions, principal, language, view.sla, view.approval)


@router.get("/v1/orders/{order_no}/eligibility", responses=problems(404, 422))
async def order_eligibility(order_no: KeyPath, principal: Anyone, language: Lang, svc: Svc) -> EligibilityOut:
    """Per order line: which after-sales types are allowed now, the most that can be refunded, the quantity left,
    the deadline and the rule text shown to the customer (e.g. 7天无理由退货), or why not. Creation enforces the
    same answer."""
    return EligibilityOut.of(await svc.after_sales.eligibility(principal, order_no), language)


@router.post("/v1/after-sales", status_code=status.HTTP_201_CREATED, responses=problems(409, 422))
async def create_after_sales(
    body: AfterSalesIn, principal: Anyone, language: Lang, response: Response, svc: Svc
) -> AfterSalesOut:
    """Ask for a refund, partial refund, return-and-refund, replenishment, exchange or compensation on one sales
    order. Customers for their own orders; agents and integrations on their behalf. Amounts are computed from the
    order except for partial refunds and compensation; money is reserved at once, so concurrent requests can
    never refund more than was paid. When the auto-review rules match, the answer is already approved."""
    draft = AfterSalesDraft(
        order_no=body.order_no,
        type=body.type,
        reason_code=body.reason_code,
        lines=tuple(RequestedLine(line.sku, line.quantity) for line in body.lines),
        amount=body.amount,
        compensation_kind=body.compensation_kind,
        description=body.description,
        attachment_ids=ids_of(body.attachments),
        ticket=after_sales_ticket(body.ticket),
    )
    view = await svc.after_sales.create(principal, draft)
    set_etag(response, view.order.version)
    response.headers["Location"] = f"/v1/after-sales/{view.order.id}"
    return _out(view, principal, language)


def after_sales_ticket(ref: str | None) -> UUID | str | None:
    if ref is None:
        return None
    try:
        return UUID(ref)
    except ValueError:
        return ref


_ONE_OF = "Combine at most one of `assignee`, `type` (besides `status`), unless `customer_no` or `order_no` is given."
_NARROWS = "One customer's (or sales order's) after-sales orders; every other filter then narrows them."
_CREATED = "Created at or after / before this instant; with no other filter but `customer_no` or `order_no`."


@router.get("/v1/after-sales", responses=problems(422))
async def list_after_sales(
    principal: Anyone,
    language: Lang,
    page: Page,
    svc: Svc,
    type_: Annotated[
        list[AfterSalesType] | None, Query(alias="type", description=f"Any of these types. {_ONE_OF}")
    ] = None,
    status_: Annotated[
        list[str] | None, Query(alias="status", max_length=20, description="Any of these states; not with `created_*`.")
    ] = None,
    customer_no: Annotated[str | None, Query(pattern=KEY_PATTERN, description=_NARROWS)] = None,
    order_no: Annotated[str | None, Query(pattern=KEY_PATTERN, description=_NARROWS)] = None,
    assignee: Annotated[str | None, Query(max_length=128, description=f"User id, or `me`. {_ONE_OF}")] = None,
    created_from: Annotated[QueryInstant | None, Query(description=_CREATED)] = None,
    created_to: Annotated[QueryInstant | None, Query(description=_CREATED)] = None,
) -> PageOut[AfterSalesOut]:
    """After-sales orders matching every filter, newest first. Customers get only their own. Every page is read
    through an index in page order; a combination no index serves is refused with 422 naming the parameters."""
    where = AfterSalesFilter(
        types=tuple(type_ or ()),
        statuses=one_of(status_, STATES, "status"),
        customer_no=customer_no,
        order_no=order_no,
        assignee=principal.subject if assignee == "me" else assignee,
        created_from=created_from,
        created_to=created_to,
    )
    found = await svc.after_sales.list(principal, where, page)
    return page_out(found, lambda view: _out(view, principal, language))


@router.get("/v1/after-sales/{id}", responses=problems(404, 422))
async def get_after_sales(ref: Ref, principal: Anyone, language: Lang, response: Response, svc: Svc) -> AfterSalesOut:
    """One after-sales order with the caller's view of its status and the actions available now."""
    view = await svc.after_sales.get(principal, ref)
    set_etag(response, view.order.version)
    return _out(view, principal, language)


@router.post(
    "/v1/after-sales/{id}/actions/{action}",
    responses=problems(404, 409, 412, 422, 428),
    openapi_extra=action_payloads("AfterSales"),
)
async def act_on_after_sales(
    ref: Ref,
    action: Annotated[str, Path(pattern=r"^[a-z_]{1,32}$", description="One of the order's workflow actions.")],
    principal: Anyone,
    language: Lang,
    precondition: Guarded,
    response: Response,
    svc: Svc,
    body: Annotated[ActionIn, Body()],
) -> AfterSalesOut:
    """Run a workflow action: review (claim, approve, reject), the customer's (cancel, urge, ship_return), and the
    payment centre's and warehouse's steps (payment_accepted, payment_succeeded, payment_failed, picked_up,
    return_received, picking_started, shipped, signed) with the integration role. Repeating an external step that
    already took effect answers 200 and changes nothing; an action not possible now is a 409."""
    fields = body.model_dump(exclude_unset=True)
    view = await svc.after_sales.act(principal, ref, action, fields, precondition)
    set_etag(response, view.order.version)
    return _out(view, principal, language)


@router.get("/v1/after-sales/{id}/timeline", responses=problems(404, 422))
async def after_sales_timeline(
    ref: Ref, principal: Anyone, language: Lang, page: Page, svc: Svc
) -> PageOut[TimelineEntryOut]:
    """Every step, oldest first, including which rule approved it. Customers see public entries only."""
    view = await svc.after_sales.get(principal, ref)
    found = await svc.after_sales.timeline(principal, ref, page)
    workflow = AFTER_SALES_WORKFLOWS[view.order.type]
    return page_out(found, lambda entry: TimelineEntryOut.of(entry, principal, workflow, language))


@router.get("/v1/settings/auto-review", responses=problems(422))
async def get_auto_review(_: StaffOrIntegration, response: Response, svc: Svc) -> AutoReviewOut:
    """极速审核 and 闪电退款 rules in force."""
    rules = await svc.after_sales.auto_review_rules()
    set_etag(response, rules.version)
    return AutoReviewOut.of(rules)


@router.put("/v1/settings/auto-review", responses=problems(412, 422, 428))
async def put_auto_review(
    body: AutoReviewIn, principal: SettingsWriter, precondition: Guarded, response: Response, svc: Svc
) -> AutoReviewOut:
    """Replace the auto-review rules (managers and admins). Send If-Match with the ETag last read."""
    rules = await svc.after_sales.set_auto_review_rules(principal, body.to_domain(), precondition)
    set_etag(response, rules.version)
    return AutoReviewOut.of(rules)


@router.get("/v1/settings/evidence-rules", responses=problems(422))
async def get_evidence_rules(_: StaffOrIntegration, response: Response, svc: Svc) -> EvidenceRulesOut:
    """证据要求: the photos each after-sales reason needs before a review may approve (damaged and quality_issue need
    one until changed)."""
    rules = await svc.after_sales.evidence_rules()
    set_etag(response, rules.version)
    return EvidenceRulesOut.of(rules)


@router.put("/v1/settings/evidence-rules", responses=problems(412, 422, 428))
async def put_evidence_rules(
    body: EvidenceRulesIn, principal: SettingsWriter, precondition: Guarded, response: Response, svc: Svc
) -> EvidenceRulesOut:
    """Replace the evidence rules (managers and admins), for orders created from now on. Send If-Match with the
    ETag last read."""
    rules = await svc.after_sales.set_evidence_rules(principal, body.to_domain(), precondition)
    set_etag(response, rules.version)
    return EvidenceRulesOut.of(rules)
