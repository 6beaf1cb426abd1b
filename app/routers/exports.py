"""/v1/exports/{name}.csv: CSV for BI tools and spreadsheets, streamed (docs/reports.md, Exports)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Path, Query, Request
from fastapi.responses import StreamingResponse

from app.domain.errors import FieldError, NotFound
from app.domain.exports import content_disposition
from app.domain.reports import ReportQuery, check_range
from app.routers.reports import Tz, refuse_unknown, zone_of
from app.schemas.common import problems
from app.services.exports import EXPORTS
from app.web.auth import ReportReader
from app.web.routes import api_router
from app.web.wiring import Svc

router = api_router(tags=["reports"])
_KNOWN = frozenset({"from", "to", "tz"})


@router.get(
    "/v1/exports/{name}.csv",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "UTF-8 CSV with a BOM, a header row, one row per record, times in `tz`.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **problems(404, 422),
    },
)
async def export_csv(
    principal: ReportReader,
    request: Request,
    svc: Svc,
    name: Annotated[str, Path(max_length=64, description="What to export: `tickets`.")],
    from_: Annotated[date, Query(alias="from", description="First local day (by creation), included.")],
    to: Annotated[date, Query(description="Last local day, included.")],
    tz: Tz = "UTC",
) -> StreamingResponse:
    """Tickets created in the local days, oldest first, within the caller's business lines: streamed page by page,
    cells that a spreadsheet would run as formulas (=, +, -, @, tab, CR first) prefixed with `'`."""
    refuse_unknown(request, _KNOWN)
    if name not in EXPORTS:
        raise NotFound(
            f"No export named {name!r}",
            code="export_not_found",
            errors=[FieldError("name", f"one of {list(EXPORTS)}", "path")],
        )
    zone = zone_of(tz)
    check_range(from_, to, svc.reports.max_days)
    query = ReportQuery(from_, to, zone)
    return StreamingResponse(
        svc.exports.tickets(principal, query),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": content_disposition(name, from_, to), "Cache-Control": "private, no-store"},
    )
