"""/v1/api-keys: keys for integrations; admins issue and revoke them."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, status

from app.domain.pagination import PageRequest
from app.schemas.api_keys import ApiKeyCreatedOut, ApiKeyIn, ApiKeyOut
from app.schemas.common import PageOut, problems
from app.web.auth import Admin
from app.web.pagination import page_out, page_request
from app.web.responses import extended
from app.web.routes import api_router
from app.web.wiring import Svc

router = api_router(prefix="/v1/api-keys", tags=["api keys"])


@router.post("", status_code=status.HTTP_201_CREATED, responses=problems(422))
async def create_api_key(body: ApiKeyIn, principal: Admin, svc: Svc) -> ApiKeyCreatedOut:
    """Issue a key scoped to roles. The secret is in this response only; it is stored hashed."""
    issued = await svc.api_keys.create(principal.subject, body.name, frozenset(body.roles))
    return extended(ApiKeyOut.of(issued.key), ApiKeyCreatedOut, key=issued.plaintext)


@router.get("", responses=problems(422))
async def list_api_keys(_: Admin, page: Annotated[PageRequest, Depends(page_request)], svc: Svc) -> PageOut[ApiKeyOut]:
    """Keys, newest first, without their secrets."""
    return page_out(await svc.api_keys.list(page), ApiKeyOut.of)


@router.post("/{key_id}/revoke", responses=problems(404, 422))
async def revoke_api_key(key_id: UUID, _: Admin, svc: Svc) -> ApiKeyOut:
    """Revoke a key at once; requests with it answer 401 from now on. Revoking twice is harmless."""
    return ApiKeyOut.of(await svc.api_keys.revoke(key_id))
