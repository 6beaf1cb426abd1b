"""/v1/exports/{name}.csv: CSV for BI tools and spreadsheets, streamed (docs/reports.md, Exports). Records (tickets,
after-sales orders, tasks, survey answers) take a local day range; a report's export takes that report's own
parameters, parsed by the report's own dependency."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated, Any

from fastapi import Path, Query, Request
from fastapi.responses import StreamingResponse

from app.domain.errors import FieldError, NotFound
from app.domain.exports import RECORD_EXPORTS, content_disposition
from app.domain.report_exports import REPORT_EXPORTS
from app.domain.reports import ReportQuery, check_range
from app.routers.reports import Asked, Tz, refuse_unknown, zone_of
from app.routers.tasks import WorkHoursAsked
from app.schemas.common import problems
from app.web.auth import ReportReader, Staff
from app.web.query_params import refuse_unknown_parameters
from app.web.routes import api_router
from app.web.wiring import Svc

router = api_router(tags=["reports"])
_KNOWN = frozenset({"from", "to", "tz"})
_ALL = [*RECORD_EXPORTS, *REPORT_EXPORTS]
_CSV: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "UTF-8 CSV with a BOM, a header row, one row per record, times in `tz`.",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    },
    **problems(404, 422),
}


def csv_response(name: str, body: AsyncIterator[bytes], start: date, end: date) -> StreamingResponse:
    return StreamingResponse(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": content_disposition(name, start, end), "Cache-Control": "private, no-store"},
    )


@router.get("/v1/exports/volume.csv", response_class=StreamingResponse, responses=_CSV)
async def export_volume_csv(principal: ReportReader, query: Asked, svc: Svc) -> StreamingResponse:
    """The volume report (GET /v1/reports/volume) as CSV, with the same parameters: one row per period and group."""
    return csv_response("volume", await svc.exports.volume(principal, query), query.start, query.end)


@router.get("/v1/exports/times.csv", response_class=StreamingResponse, responses=_CSV)
async def export_times_csv(principal: ReportReader, query: Asked, svc: Svc) -> StreamingResponse:
    """The times report (GET /v1/reports/times) as CSV, with the same parameters: one row per period and group."""
    return csv_response("times", await svc.exports.times(principal, query), query.start, query.end)


@router.get(
    "/v1/exports/work-hours.csv",
    response_class=StreamingResponse,
    responses=_CSV,
)
async def export_work_hours_csv(
    principal: Staff, request: Request, query: WorkHoursAsked, svc: Svc
) -> StreamingResponse:
    """The work-hours report (GET /v1/reports/work-hours) as CSV, with the same parameters and reach (managers see
    everyone, others only themselves): one row per handler, every handler in one file (no pages)."""
    refuse_unknown_parameters(request)
    body = await svc.exports.work_hours(principal, query)
    return csv_response("work-hours", body, query.start.date(), query.end.date())


@router.get("/v1/exports/{name}.csv", response_class=StreamingResponse, responses=_CSV)
async def export_csv(
    principal: ReportReader,
    request: Request,
    svc: Svc,
    name: Annotated[str, Path(max_length=64, description=f"What to export: one of {list(RECORD_EXPORTS)}.")],
    from_: Annotated[date, Query(alias="from", description="First local day, included.")],
    to: Annotated[date, Query(description="Last local day, included.")],
    tz: Tz = "UTC",
) -> StreamingResponse:
    """Records of the local days, oldest first, within the caller's business lines, streamed page by page: tickets
    and after-sales orders (by creation; amounts in major units beside their currency), tasks (by creation; hours
    as decimals), survey answers (by answer time). Cells that a spreadsheet would run as formulas (=, +, -, @, tab,
    CR first) are prefixed with `'`."""
    spec = RECORD_EXPORTS.get(name)
    if spec is None:
        raise NotFound(
            f"No export named {name!r}",
            code="export_not_found",
            errors=[FieldError("name", f"one of {_ALL}", "path")],
        )
    refuse_unknown(request, _KNOWN)
    zone = zone_of(tz)
    check_range(from_, to, svc.reports.max_days)
    return csv_response(name, await svc.exports.records(principal, spec, ReportQuery(from_, to, zone)), from_, to)
