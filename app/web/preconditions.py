"""ETags on single resources and the If-Match / If-None-Match headers that guard changes to them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request, Response

from app.domain.preconditions import Precondition, entity_tags
from app.web.wiring import services_of


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


async def precondition(
    request: Request,
    if_match: Annotated[
        str | None, Header(max_length=1024, description="ETag last read; the change is refused (412) if stale.")
    ] = None,
    if_none_match: Annotated[
        str | None, Header(max_length=1024, description="`*`: create only; refused (412) if it exists.")
    ] = None,
) -> Precondition:
    return Precondition(
        if_match=entity_tags(if_match, "If-Match") if if_match is not None else None,
        create_only=if_none_match is not None and entity_tags(if_none_match, "If-None-Match") == "*",
        required=services_of(request).settings.require_if_match,
    )


Guarded = Annotated[Precondition, Depends(precondition)]
