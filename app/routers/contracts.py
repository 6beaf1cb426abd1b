"""/v1/contracts: service contracts upserted by contract number."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Response

from app.domain.pagination import PageRequest
from app.schemas.common import KEY_PATTERN, KeyPath, PageOut, problems, upserted
from app.schemas.contracts import ContractIn, ContractOut
from app.web.auth import Anyone, ReferenceWriter
from app.web.pagination import page_out, page_request
from app.web.preconditions import Guarded
from app.web.responses import saved, versioned
from app.web.routes import api_router
from app.web.wiring import Svc

router = api_router(prefix="/v1/contracts", tags=["contracts"])


@router.put("/{contract_no}", responses=upserted(ContractOut, 409, 412, 422, 428))
async def put_contract(
    contract_no: KeyPath, body: ContractIn, _: ReferenceWriter, precondition: Guarded, response: Response, svc: Svc
) -> ContractOut:
    """Create (201) or replace (200) a service contract; its customer never changes (409)."""
    return saved(response, await svc.contracts.upsert(contract_no, body.to_data(), precondition), ContractOut.of)


@router.get("/{contract_no}", responses=problems(404, 422))
async def get_contract(contract_no: KeyPath, principal: Anyone, response: Response, svc: Svc) -> ContractOut:
    """One contract; another customer's contract answers 404."""
    return versioned(response, await svc.contracts.get(principal, contract_no), ContractOut.of)


@router.get("", responses=problems(422))
async def list_contracts(
    principal: Anyone,
    page: Annotated[PageRequest, Depends(page_request)],
    svc: Svc,
    customer_no: Annotated[str | None, Query(pattern=KEY_PATTERN, description="Only this customer's.")] = None,
) -> PageOut[ContractOut]:
    """Contracts, newest first. Customers always get only their own."""
    result = await svc.contracts.list(principal, page, customer_no=customer_no)
    return page_out(result, ContractOut.of)
