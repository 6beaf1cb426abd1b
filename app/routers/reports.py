"""/v1/reports: the catalogue, the volume and times reports from the hourly rollups, and a re-derive of the rollups
for a range of hours (docs/reports.md). The work-hours report lives with the tasks it reads (app/routers/tasks.py)."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Depends, Path, Query, Request

from app.domain.errors import FieldError, InvalidInput, NotFound
from app.domain.reports import Dimension, Interval, ReportQuery, check_range
from app.schemas.common import LINE_PATTERN, problems
from app.schemas.reports import (
    ReportInfoOut,
    ReportListOut,
    ReportParameterOut,
    RollupRederiveIn,
    RollupRederiveOut,
    TimesReportOut,
    VolumeReportOut,
)
from app.web.auth import ReportReader
from app.web.routes import api_router
from app.web.wiring import Svc

router = api_router(tags=["reports"])

_FILTERS = {d.value: f"Only tickets whose {d.value.replace('_', ' ')} is this value." for d in Dimension}
_PARAMETERS = [
    ReportParameterOut(name="from", description="First local day (YYYY-MM-DD), included."),
    ReportParameterOut(name="to", description="Last local day, included; at most the configured maximum later."),
    ReportParameterOut(name="tz", description="IANA time zone the days are in; default UTC."),
    ReportParameterOut(name="interval", description="Period length.", values=[i.value for i in Interval]),
    ReportParameterOut(name="group_by", description="Split by this dimension.", values=[d.value for d in Dimension]),
    *(ReportParameterOut(name=name, description=text) for name, text in _FILTERS.items()),
]
CATALOGUE = [
    ReportInfoOut(
        name="volume",
        title="Created, resolved, closed, cancelled and reopened tickets, and the backlog, per period",
        path="/v1/reports/volume",
        parameters=_PARAMETERS,
    ),
    ReportInfoOut(
        name="times",
        title="First and next reply, first and full resolution times (count, p50, p90) per period",
        path="/v1/reports/times",
        parameters=_PARAMETERS,
    ),
    ReportInfoOut(
        name="work-hours",
        title="Reported and approved task hours and the on-time rate per handler",
        path="/v1/reports/work-hours",
        parameters=[
            ReportParameterOut(name="from", description="Start instant (RFC 3339), included; default 30 days ago."),
            ReportParameterOut(name="to", description="End instant, excluded; default now."),
            ReportParameterOut(name="assignee", description="One handler (user id, or `me`)."),
        ],
    ),
]
_KNOWN = frozenset(p.name for p in _PARAMETERS)
FilterValue = Annotated[str | None, Query(max_length=64, pattern=LINE_PATTERN)]
Tz = Annotated[str, Query(max_length=64, description="IANA time zone, e.g. Asia/Shanghai.")]


def refuse_unknown(request: Request, known: frozenset[str]) -> None:
    """A report's or export's parameters are all its own: a misspelt filter must not widen the answer silently."""
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise InvalidInput(
            f"Unknown parameter {unknown[0]!r}",
            code="validation_failed",
            errors=[FieldError(name, f"not a parameter; one of {sorted(known)}", "query") for name in unknown],
        )


def zone_of(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(
            f"Unknown time zone {tz!r}",
            code="validation_failed",
            errors=[FieldError("tz", "an IANA time zone name, e.g. Asia/Shanghai", "query")],
        ) from exc


async def report_query(
    request: Request,
    svc: Svc,
    from_: Annotated[date, Query(alias="from", description="First local day, included.")],
    to: Annotated[date, Query(description="Last local day, included.")],
    tz: Tz = "UTC",
    interval: Annotated[Interval, Query(description="Period length.")] = Interval.DAY,
    group_by: Annotated[Dimension | None, Query(description="Split by this dimension.")] = None,
    channel: FilterValue = None,
    type: FilterValue = None,
    category: FilterValue = None,
    priority: FilterValue = None,
    region: FilterValue = None,
    product_line: FilterValue = None,
    group: FilterValue = None,
    business_line: FilterValue = None,
) -> ReportQuery:
    refuse_unknown(request, _KNOWN)
    zone = zone_of(tz)
    check_range(from_, to, svc.reports.max_days)
    given = {
        Dimension.CHANNEL: channel,
        Dimension.TYPE: type,
        Dimension.CATEGORY: category,
        Dimension.PRIORITY: priority,
        Dimension.REGION: region,
        Dimension.PRODUCT_LINE: product_line,
        Dimension.GROUP: group,
        Dimension.BUSINESS_LINE: business_line,
    }
    filters = {d: value for d, value in given.items() if value is not None}
    return ReportQuery(from_, to, zone, interval, group_by, filters)


Asked = Annotated[ReportQuery, Depends(report_query)]


@router.get("/v1/reports", responses=problems())
async def list_reports(_: ReportReader) -> ReportListOut:
    """Every report, with the parameters it takes."""
    return ReportListOut(items=CATALOGUE)


@router.get("/v1/reports/volume", responses=problems(422))
async def volume_report(principal: ReportReader, query: Asked, svc: Svc) -> VolumeReportOut:
    """工单量: per local period (and group), tickets created, resolved, closed, cancelled and reopened, and the backlog
    open at each period's end, from the hourly rollups, within the caller's business lines."""
    return VolumeReportOut.of(query, await svc.reports.volume(principal, query))


@router.get("/v1/reports/times", responses=problems(422))
async def times_report(principal: ReportReader, query: Asked, svc: Svc) -> TimesReportOut:
    """处理时长: per local period (and group), first and next reply and first and full resolution times in calendar
    seconds, p50 and p90 read off log-scale histograms summed over the period's hours."""
    return TimesReportOut.of(query, await svc.reports.times(principal, query))


@router.get("/v1/reports/{name}", responses=problems(404), response_model=None)
async def get_report(
    _: ReportReader, name: Annotated[str, Path(max_length=64, description="A report's name.")]
) -> None:
    """Every report has its own path above (its response schema named in this document); any other name is a 404
    naming it."""
    raise NotFound(
        f"No report named {name!r}; GET /v1/reports lists them",
        code="report_not_found",
        errors=[FieldError("name", f"one of {[r.name for r in CATALOGUE]}", "path")],
    )


@router.post("/v1/report-rollups/rederive", responses=problems(422))
async def rederive_report_rollups(_: ReportReader, body: RollupRederiveIn, svc: Svc) -> RollupRederiveOut:
    """Rebuild the rollups of whole UTC hours [start, end) from the tickets and their timelines, up to where the
    rollup job has read: heals late or replayed events. Answers the range rebuilt."""
    return RollupRederiveOut.of(await svc.reports.rederive(body.start, body.end))
