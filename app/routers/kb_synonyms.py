"""/v1/kb/synonyms (同义词): admins configure which query terms search as each other; staff read them."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Path, Response, status

from app.domain.pagination import PageRequest
from app.schemas.common import PageOut, problems
from app.schemas.kb_synonyms import SynonymGroupIn, SynonymGroupOut
from app.web.auth import Admin, Staff
from app.web.pagination import page_out, page_request
from app.web.preconditions import Guarded
from app.web.responses import versioned
from app.web.routes import api_router
from app.web.wiring import Svc

router = api_router(prefix="/v1/kb/synonyms", tags=["knowledge base"])
Page = Annotated[PageRequest, Depends(page_request)]
GroupId = Annotated[UUID, Path(description="The synonym group's id.")]


@router.post("", status_code=status.HTTP_201_CREATED, responses=problems(409, 422))
async def create_kb_synonym_group(body: SynonymGroupIn, _: Admin, response: Response, svc: Svc) -> SynonymGroupOut:
    """A group of 2 to 20 equivalent terms (each one word or one Chinese run once folded): a query word that is one
    of them also finds what the others find, from the next search on. A term another group holds is a 409
    `synonym_term_taken` naming it; nothing is written."""
    group = await svc.kb_synonyms.create(body.terms)
    response.headers["Location"] = f"/v1/kb/synonyms/{group.id}"
    return versioned(response, group, SynonymGroupOut.of)


@router.get("", responses=problems(422))
async def list_kb_synonym_groups(_: Staff, page: Page, svc: Svc) -> PageOut[SynonymGroupOut]:
    """Every group, newest first."""
    return page_out(await svc.kb_synonyms.list(page), SynonymGroupOut.of)


@router.get("/{group_id}", responses=problems(404, 422))
async def get_kb_synonym_group(group_id: GroupId, _: Staff, response: Response, svc: Svc) -> SynonymGroupOut:
    """One group, with its ETag."""
    return versioned(response, await svc.kb_synonyms.get(group_id), SynonymGroupOut.of)


@router.put("/{group_id}", responses=problems(404, 409, 412, 422, 428))
async def replace_kb_synonym_group(
    group_id: GroupId, body: SynonymGroupIn, _: Admin, precondition: Guarded, response: Response, svc: Svc
) -> SynonymGroupOut:
    """Replace the group's terms (`If-Match` with its ETag: 412 when stale)."""
    return versioned(response, await svc.kb_synonyms.replace(group_id, body.terms, precondition), SynonymGroupOut.of)


@router.delete("/{group_id}", status_code=204, responses=problems(404, 412, 422, 428))
async def delete_kb_synonym_group(group_id: GroupId, _: Admin, precondition: Guarded, svc: Svc) -> Response:
    """Delete the group: its terms search as themselves alone from the next search on."""
    await svc.kb_synonyms.delete(group_id, precondition)
    return Response(status_code=204)
