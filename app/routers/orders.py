"""/v1/orders: sales orders upserted by the ERP; customers read their own."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Response

from app.domain.pagination import PageRequest
from app.schemas.common import KEY_PATTERN, KeyPath, PageOut, problems, upserted
from app.schemas.orders import OrderIn, OrderOut
from app.web.auth import Anyone, ReferenceWriter
from app.web.pagination import page_out, page_request
from app.web.preconditions import Guarded
from app.web.responses import saved, versioned
from app.web.routes import api_router
from app.web.wiring import Svc

router = api_router(prefix="/v1/orders", tags=["orders"])


@router.put("/{order_no}", responses=upserted(OrderOut, 409, 412, 422, 428))
async def put_order(
    order_no: KeyPath, body: OrderIn, _: ReferenceWriter, precondition: Guarded, response: Response, svc: Svc
) -> OrderOut:
    """Create (201) or replace (200) a sales order. Its customer and currency never change and its
    fulfilment only moves forward (409); lines must name known products (422)."""
    return saved(response, await svc.orders.upsert(order_no, body.to_data(), precondition), OrderOut.of)


@router.get("/{order_no}", responses=problems(404, 422))
async def get_order(order_no: KeyPath, principal: Anyone, response: Response, svc: Svc) -> OrderOut:
    """One order; another customer's order answers 404."""
    return versioned(response, await svc.orders.get(principal, order_no), OrderOut.of)


@router.get("", responses=problems(422))
async def list_orders(
    principal: Anyone,
    page: Annotated[PageRequest, Depends(page_request)],
    svc: Svc,
    customer_no: Annotated[str | None, Query(pattern=KEY_PATTERN, description="Only this customer's.")] = None,
) -> PageOut[OrderOut]:
    """Orders, newest first. Customers always get only their own."""
    result = await svc.orders.list(principal, page, customer_no=customer_no)
    return page_out(result, OrderOut.of)
