"""/v1/business-calendars: the working hours SLA targets count in, by key; managers and admins change them, staff
read and preview them."""

from __future__ import annotations

from email.message import Message
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response
from pydantic import BeforeValidator

from app.domain.errors import FieldError, InvalidInput
from app.domain.pagination import PageRequest
from app.schemas.business_calendars import (
    MAX_PREVIEW_SECONDS,
    BusinessCalendarIn,
    BusinessCalendarOut,
    CalendarPreviewOut,
    HolidaySeedIn,
    PreviewInstant,
    closures_from_ics,
)
from app.schemas.common import KeyPath, PageOut, problems, upserted
from app.web.auth import SettingsWriter, Staff
from app.web.body_guard import BodyRefused
from app.web.pagination import digits, page_out, page_request
from app.web.preconditions import Guarded
from app.web.responses import saved, versioned
from app.web.routes import api_router
from app.web.wiring import Svc

router = api_router(prefix="/v1/business-calendars", tags=["business calendars"])

ICS_MEDIA_TYPE = "text/calendar"
_ICS_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "An iCalendar file (RFC 5545) in UTF-8.",
        "content": {ICS_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
    }
}
"""The body is a file, not JSON: read by `ics_text` and documented here."""


async def ics_text(request: Request) -> str:
    """The body of a `text/calendar` request as text: another media type is 415, a charset other than UTF-8 (the
    iCalendar default) too, and bytes that are not UTF-8 a 422."""
    header = Message()
    header["content-type"] = request.headers.get("content-type", "")
    if header.get_content_type() != ICS_MEDIA_TYPE or "content-type" not in request.headers:
        raise BodyRefused(
            415,
            "unsupported_media_type",
            f"This operation takes an iCalendar file: send it as {ICS_MEDIA_TYPE}",
            errors=[FieldError("Content-Type", f"send {ICS_MEDIA_TYPE}", location="header")],
        )
    charset = header.get_param("charset")
    if charset is not None and not (isinstance(charset, str) and charset.strip().lower() in ("utf-8", "utf8")):
        raise BodyRefused(
            415,
            "unsupported_charset",
            f"iCalendar files are taken in UTF-8; Content-Type names charset {charset!r}",
            errors=[FieldError("Content-Type", "omit charset or send charset=utf-8", location="header")],
        )
    body = await request.body()
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput(
            "The ICS file is not UTF-8 text",
            code="invalid_calendar",
            errors=[FieldError("", f"not UTF-8 at byte {error.start}: send the file encoded as UTF-8")],
        ) from error


@router.put("/{key}", responses=upserted(BusinessCalendarOut, 412, 422, 428))
async def put_business_calendar(
    key: KeyPath, body: BusinessCalendarIn, _: SettingsWriter, precondition: Guarded, response: Response, svc: Svc
) -> BusinessCalendarOut:
    """Create (201) or replace (200) a business calendar by key: weekly hours in an IANA time zone (days left out are
    closed) and dated overrides (holidays closed, 调休 weekend days open). Each bad field is named (422
    `invalid_calendar`, e.g. `#/weekly/monday/1/end`); an identical calendar keeps its version."""
    return saved(
        response, await svc.business_calendars.upsert(key, body.to_data(), precondition), BusinessCalendarOut.of
    )


@router.get("/{key}", responses=problems(404, 422))
async def get_business_calendar(key: KeyPath, _: Staff, response: Response, svc: Svc) -> BusinessCalendarOut:
    """One business calendar, with its ETag."""
    return versioned(response, await svc.business_calendars.get(key), BusinessCalendarOut.of)


@router.get("", responses=problems(422))
async def list_business_calendars(
    _: Staff, page: Annotated[PageRequest, Depends(page_request)], svc: Svc
) -> PageOut[BusinessCalendarOut]:
    """Business calendars, newest first, in keyset pages."""
    return page_out(await svc.business_calendars.list(page), BusinessCalendarOut.of)


@router.post("/{key}/holidays", responses=problems(404, 412, 422, 428))
async def seed_business_calendar_holidays(
    key: KeyPath, body: HolidaySeedIn, _: SettingsWriter, precondition: Guarded, response: Response, svc: Svc
) -> BusinessCalendarOut:
    """Seed a country's public holidays for some years from the holiday tables: each holiday a closed date named in
    the country's language (春节), and the weekend days it makes working days (China's 调休) open with the calendar's
    usual weekday hours. The calendar's own override of a date wins unless `replace_existing`. Seeding what is there
    already changes nothing; otherwise the version goes up."""
    result = await svc.business_calendars.seed_holidays(key, body.to_seed(), precondition)
    return versioned(response, result.entity, BusinessCalendarOut.of)


@router.post("/{key}/ics", responses=problems(404, 412, 422, 428), openapi_extra=_ICS_BODY)
async def import_business_calendar_ics(
    key: KeyPath,
    _: SettingsWriter,
    text: Annotated[str, Depends(ics_text)],
    precondition: Guarded,
    response: Response,
    svc: Svc,
    replace_existing: Annotated[
        bool, Query(description="Imported dates replace the calendar's own overrides of the same dates.")
    ] = False,
) -> BusinessCalendarOut:
    """Import closed days from an iCalendar file (`text/calendar`): every all-day VEVENT (`DTSTART;VALUE=DATE`,
    `DTEND` exclusive, so several days when it spans them) closes its dates, named by its SUMMARY. Timed and
    recurring events are refused (422 `invalid_calendar`, each named by its line and UID); cancelled ones are left
    out. The calendar's own override of a date wins unless `replace_existing`."""
    closures = closures_from_ics(text)
    result = await svc.business_calendars.import_closures(key, closures, replace_existing, precondition)
    return versioned(response, result.entity, BusinessCalendarOut.of)


@router.get("/{key}/preview", responses=problems(404, 422))
async def preview_business_calendar(
    key: KeyPath,
    _: Staff,
    svc: Svc,
    from_: Annotated[PreviewInstant, Query(alias="from", description="Start instant, RFC 3339 with its offset.")],
    seconds: Annotated[
        int,
        Query(ge=0, le=MAX_PREVIEW_SECONDS, description="Business seconds to add to `from`."),
        BeforeValidator(digits),
    ],
    to: Annotated[
        PreviewInstant | None, Query(description="End instant: answer the business seconds from `from` to it.")
    ] = None,
) -> CalendarPreviewOut:
    """What the SLA engine computes on this calendar: when `seconds` of business time from `from` run out
    (`due_at`), whether it is open at `from` and when it next opens, and with `to` the business seconds between.
    A calendar whose working time runs out first answers 422 `no_business_time`."""
    return CalendarPreviewOut.of(await svc.business_calendars.preview(key, from_, seconds, to))
