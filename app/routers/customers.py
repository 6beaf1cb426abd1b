"""/v1/customers: ERP/CRM upserts by customer_no; reads scoped to the caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Response
from pydantic import BeforeValidator

from app.domain.churn import SCORE_MAX
from app.domain.pagination import PageRequest
from app.schemas.after_sales import AfterSalesSummaryOut
from app.schemas.churn import ChurnOut
from app.schemas.common import KeyPath, PageOut, problems, upserted
from app.schemas.contracts import ContractOut
from app.schemas.customers import CustomerIn, CustomerListItemOut, CustomerOut, CustomerOverviewOut
from app.schemas.orders import OrderOut
from app.schemas.tickets import TicketSummaryOut
from app.web.auth import Anyone, ReferenceWriter, StaffOrIntegration
from app.web.language import Lang
from app.web.pagination import digits, encode_cursor, page_out, page_request
from app.web.preconditions import Guarded
from app.web.responses import saved, versioned
from app.web.routes import api_router
from app.web.wiring import Svc
from app.workflows.ticket import TICKET

router = api_router(prefix="/v1/customers", tags=["customers"])


@router.put("/{customer_no}", responses=upserted(CustomerOut, 412, 422, 428))
async def put_customer(
    customer_no: KeyPath, body: CustomerIn, _: ReferenceWriter, precondition: Guarded, response: Response, svc: Svc
) -> CustomerOut:
    """Create (201) or replace (200) a customer by its business key. Unchanged data keeps the version."""
    return saved(response, await svc.customers.upsert(customer_no, body.to_data(), precondition), CustomerOut.of)


@router.get("/{customer_no}", responses=problems(404, 422))
async def get_customer(customer_no: KeyPath, principal: Anyone, response: Response, svc: Svc) -> CustomerOut:
    """One customer. A customer may read only themselves; any other number answers 404."""
    return versioned(response, await svc.customers.get(principal, customer_no), CustomerOut.of)


@router.get("", responses=problems(422))
async def list_customers(
    _: StaffOrIntegration,
    page: Annotated[PageRequest, Depends(page_request)],
    svc: Svc,
    churn_warning: Annotated[
        bool | None,
        Query(description="true: customers whose churn score reaches the warning threshold; false: the others."),
    ] = None,
    min_churn_score: Annotated[
        int | None,
        Query(ge=1, le=SCORE_MAX, description="Customers whose churn score is at least this."),
        BeforeValidator(digits),
    ] = None,
) -> PageOut[CustomerListItemOut]:
    """Customers, newest first, in keyset pages, each with their churn score (流失预警). With `churn_warning=true` or
    `min_churn_score`, highest score first (a cursor of one order does not continue the other)."""
    found = await svc.customers.list(page, churn_warning=churn_warning, min_churn_score=min_churn_score)
    return page_out(found.page, lambda customer: CustomerListItemOut.listed(customer, found.churn_threshold))


@router.get("/{customer_no}/overview", responses=problems(404, 422))
async def get_customer_overview(
    customer_no: KeyPath, principal: Anyone, language: Lang, svc: Svc
) -> CustomerOverviewOut:
    """客户统一视图: the customer, their latest orders, tickets and after-sales orders, their service contracts, and
    (staff and integrations only) their churn score, in one read."""
    overview = await svc.customers.overview(principal, customer_no)
    return CustomerOverviewOut(
        customer=CustomerOut.of(overview.customer),
        recent_orders=[OrderOut.of(o) for o in overview.recent_orders.items],
        more_orders_cursor=encode_cursor(overview.recent_orders.next_key),
        recent_tickets=[TicketSummaryOut.of(t, principal, TICKET, language) for t in overview.recent_tickets.items],
        more_tickets_cursor=encode_cursor(overview.recent_tickets.next_key),
        recent_after_sales=[AfterSalesSummaryOut.of(o, principal, language) for o in overview.recent_after_sales.items],
        more_after_sales_cursor=encode_cursor(overview.recent_after_sales.next_key),
        contracts=[ContractOut.of(c) for c in overview.contracts.items],
        churn=ChurnOut.of(overview.churn.standing, overview.churn.threshold) if overview.churn else None,
    )
