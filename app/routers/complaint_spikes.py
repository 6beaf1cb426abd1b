"""/v1/complaint-spikes: the spikes found (客诉激增), and /v1/settings/complaint-spikes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Response

from app.domain.complaint_spike_watch import SpikeFilter
from app.domain.pagination import PageRequest
from app.domain.tickets import TicketType
from app.schemas.common import KEY_PATTERN, PageOut, QueryInstant, problems
from app.schemas.complaint_spikes import ComplaintSpikeOut, ComplaintSpikeSettingsIn, ComplaintSpikeSettingsOut
from app.web.auth import SettingsWriter, Staff
from app.web.pagination import page_out, page_request
from app.web.preconditions import Guarded, set_etag
from app.web.routes import api_router
from app.web.wiring import Svc

router = api_router(tags=[])  # each operation names its tag: the settings document sits with the other settings
SPIKES = ["complaint spikes"]
SETTINGS = ["settings"]
Page = Annotated[PageRequest, Depends(page_request)]


async def spike_filter(
    product: Annotated[str | None, Query(pattern=KEY_PATTERN, description="SKU or business line.")] = None,
    region: Annotated[str | None, Query(pattern=KEY_PATTERN, description="The tickets' region.")] = None,
    ticket_type: Annotated[TicketType | None, Query(description="The tickets' type.")] = None,
    still_open: Annotated[bool | None, Query(alias="open", description="true: still on; false: ended.")] = None,
    started_from: Annotated[QueryInstant | None, Query(description="First hour at or after this instant.")] = None,
    started_to: Annotated[QueryInstant | None, Query(description="First hour before this instant.")] = None,
) -> SpikeFilter:
    return SpikeFilter(
        product=product,
        region=region,
        ticket_type=ticket_type.value if ticket_type else None,
        open=still_open,
        started_from=started_from,
        started_to=started_to,
    )


Filter = Annotated[SpikeFilter, Depends(spike_filter)]


@router.get("/v1/complaint-spikes", tags=SPIKES, responses=problems(422))
async def list_complaint_spikes(principal: Staff, page: Page, where: Filter, svc: Svc) -> PageOut[ComplaintSpikeOut]:
    """Spikes found (客诉激增), newest first hour first, in keyset pages: one product's tickets of one type in one
    region far above their baseline for the hour of day, from the first over hour until calm hours end it; each
    is announced once (`risk.spike_detected` and a notification to the managers). Scoped to the caller's business
    lines."""
    return page_out(await svc.complaint_spikes.list(principal, where, page), ComplaintSpikeOut.of)


@router.get("/v1/settings/complaint-spikes", tags=SETTINGS, responses=problems(422))
async def get_complaint_spike_settings(_: Staff, response: Response, svc: Svc) -> ComplaintSpikeSettingsOut:
    """客诉激增 settings in force: on or off, the product dimension of a series, and how an hour is judged (the tail
    probability, the least count, the baseline's half-life, warm-up, season and floor, the calm hours that end a
    spike). On by default."""
    settings = await svc.complaint_spikes.settings()
    set_etag(response, settings.version)
    return ComplaintSpikeSettingsOut.of(settings)


@router.put("/v1/settings/complaint-spikes", tags=SETTINGS, responses=problems(412, 422, 428))
async def put_complaint_spike_settings(
    body: ComplaintSpikeSettingsIn, principal: SettingsWriter, precondition: Guarded, response: Response, svc: Svc
) -> ComplaintSpikeSettingsOut:
    """Replace the complaint spike settings (managers and admins), with If-Match the ETag last read. They apply from
    the job's next pass (within a minute); turning it off or on, another product dimension or season starts the
    watch over."""
    settings = await svc.complaint_spikes.set_settings(principal, body.to_domain(), precondition)
    set_etag(response, settings.version)
    return ComplaintSpikeSettingsOut.of(settings)
