"""/v1/tickets/{id}/suggestions: knowledge base articles that may answer a ticket."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Path, Query, Request
from pydantic import BeforeValidator

from app.domain.kb_suggestions import DEFAULT_SUGGESTIONS, MAX_SUGGESTIONS
from app.schemas.common import problems
from app.schemas.kb_search import SearchHitOut
from app.schemas.kb_suggestions import TicketSuggestionsOut
from app.web.auth import Anyone
from app.web.pagination import digits
from app.web.query_params import refuse_unknown_parameters
from app.web.refs import uuid_or_number
from app.web.routes import api_router
from app.web.wiring import Svc

router = api_router(tags=["knowledge base"])


async def _ticket_ref(
    id: Annotated[str, Path(description="The ticket's UUID or its number, e.g. T-2026-000123.")],
) -> UUID | str:
    return uuid_or_number(id)


@router.get("/v1/tickets/{id}/suggestions", responses=problems(404, 422))
async def suggest_ticket_articles(
    request: Request,
    ref: Annotated[UUID | str, Depends(_ticket_ref)],
    principal: Anyone,
    svc: Svc,
    limit: Annotated[
        int, Query(ge=1, le=MAX_SUGGESTIONS, description="How many articles at most."), BeforeValidator(digits)
    ] = DEFAULT_SUGGESTIONS,
) -> TicketSuggestionsOut:
    """The live articles that best match the ticket's title and description (any of their significant words and
    their synonyms; the more, the better), boosted for the ticket's product line and category. For its handler, and
    for its customer in the self-service app (published public articles only, as search gives them). A ticket the
    caller may not see is a 404."""
    refuse_unknown_parameters(request)
    hits = await svc.kb_suggestions.for_ticket(principal, ref, limit)
    return TicketSuggestionsOut(items=[SearchHitOut.of(hit, principal) for hit in hits])
