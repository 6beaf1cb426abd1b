"""/v1/products: the catalogue, upserted by SKU."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Response

from app.domain.pagination import PageRequest
from app.schemas.common import LINE_PATTERN, KeyPath, PageOut, problems, upserted
from app.schemas.products import ProductIn, ProductOut
from app.web.auth import Anyone, ReferenceWriter
from app.web.pagination import page_out, page_request
from app.web.preconditions import Guarded
from app.web.responses import saved, versioned
from app.web.routes import api_router
from app.web.wiring import Svc

router = api_router(prefix="/v1/products", tags=["products"])


@router.put("/{sku}", responses=upserted(ProductOut, 412, 422, 428))
async def put_product(
    sku: KeyPath, body: ProductIn, _: ReferenceWriter, precondition: Guarded, response: Response, svc: Svc
) -> ProductOut:
    """Create (201) or replace (200) a product by SKU."""
    return saved(response, await svc.products.upsert(sku, body.to_data(), precondition), ProductOut.of)


@router.get("/{sku}", responses=problems(404, 422))
async def get_product(sku: KeyPath, _: Anyone, response: Response, svc: Svc) -> ProductOut:
    """One product; the catalogue is readable by every authenticated caller."""
    return versioned(response, await svc.products.get(sku), ProductOut.of)


@router.get("", responses=problems(422))
async def list_products(
    _: Anyone,
    page: Annotated[PageRequest, Depends(page_request)],
    svc: Svc,
    product_line: Annotated[
        str | None, Query(max_length=64, pattern=LINE_PATTERN, description="Only this product line.")
    ] = None,
) -> PageOut[ProductOut]:
    """Products, newest first, in keyset pages."""
    result = await svc.products.list(page, product_line=product_line)
    return page_out(result, ProductOut.of)
