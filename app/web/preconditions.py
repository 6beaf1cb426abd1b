"""ETags on single resources and the If-Match / If-None-Match headers that guard changes to them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Response

from app.domain.preconditions import Precondition
from app.web.wiring import Services, services


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def _versions(header: str) -> frozenset[int] | str:
    """Strong comparison (RFC 9110): weak or foreign tags never match."""
    if header.strip() == "*":
        return "*"
    tags = (tag.strip() for tag in header.split(","))
    return frozenset(
        int(tag[1:-1]) for tag in tags if len(tag) > 2 and tag[0] == tag[-1] == '"' and tag[1:-1].isdigit()
    )


def precondition(
    svc: Annotated[Services, Depends(services)],
    if_match: Annotated[
        str | None, Header(max_length=1024, description="ETag last read; the change is refused (412) if stale.")
    ] = None,
    if_none_match: Annotated[
        str | None, Header(max_length=1024, description="`*`: create only; refused (412) if it exists.")
    ] = None,
) -> Precondition:
    return Precondition(
        if_match=_versions(if_match) if if_match is not None else None,
        create_only=if_none_match is not None and if_none_match.strip() == "*",
        required=svc.settings.require_if_match,
    )


Guarded = Annotated[Precondition, Depends(precondition)]
