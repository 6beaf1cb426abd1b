"""/v1/tickets: intake, reads, edits, workflow actions, comments and the timeline."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Body, Depends, Path, Query, Response, status

from app.domain.pagination import PageRequest
from app.domain.tickets import Channel, Priority, TicketFilter, TicketSort, TicketType
from app.schemas.attachments import ids_of
from app.schemas.common import KEY_PATTERN, LINE_PATTERN, PageOut, QueryInstant, problems
from app.schemas.dispatch import DecisionOut
from app.schemas.tickets import CommentIn, TicketCreatedOut, TicketIn, TicketOut, TicketPatch
from app.schemas.workflows import ActionIn, TimelineEntryOut, action_payloads
from app.services.tickets import TicketView
from app.web.auth import Anyone, Staff, StaffOrIntegration
from app.web.language import Lang
from app.web.pagination import page_out, page_request
from app.web.preconditions import Guarded, set_etag
from app.web.query_params import one_of
from app.web.refs import uuid_or_number
from app.web.responses import extended
from app.web.routes import api_router
from app.web.wiring import Svc
from app.workflows.ticket import TICKET

router = api_router(prefix="/v1/tickets", tags=["tickets"])


async def ticket_ref(
    id: Annotated[str, Path(description="The ticket's UUID or its number, e.g. T-2026-000123.")],
) -> UUID | str:
    return uuid_or_number(id)


Ref = Annotated[UUID | str, Depends(ticket_ref)]
Page = Annotated[PageRequest, Depends(page_request)]


def _out(view: TicketView, principal: Any, language: str) -> TicketOut:
    return TicketOut.of(view.ticket, view.available_actions, principal, TICKET, language, view.sla)


@router.post("", status_code=status.HTTP_201_CREATED, responses=problems(422))
async def create_ticket(
    body: TicketIn, principal: Anyone, language: Lang, response: Response, svc: Svc
) -> TicketCreatedOut:
    """Take in a complaint or service request from any channel. Customers open tickets for themselves (and their
    own orders); agents and integrations (IM bot, 400/IVR, marketplace) name the customer."""
    view = await svc.tickets.create(principal, body.to_draft())
    set_etag(response, view.ticket.version)
    response.headers["Location"] = f"/v1/tickets/{view.ticket.id}"
    message = (
        f"Your request has been received. Reference: {view.ticket.number}."
        if language == "en"
        else f"您的服务请求已受理，编号为{view.ticket.number}。"
    )
    return extended(_out(view, principal, language), TicketCreatedOut, confirmation_message=message)


_LEADING = (
    "Leads the page's index: combine at most one of `priority`, `type`, `channel`, `assignee`, `group`, `tag`, "
    "`high_risk` "
    "(besides `status`, unless `customer_no` is given); only with `sort=created`."
)
_LEADING_ANY_SORT = (
    "Leads the page's index: combine at most one of `priority`, `type`, `channel`, `assignee`, `group`, `tag`, "
    "`high_risk` "
    "(besides `status`, unless `customer_no` is given)."
)
_BY_STATE = (
    f"{_LEADING} Each value is read once per state: without `status` name at most 2 values, with it at most 16 "
    "values × states."
)
_CREATED = "Created at or after / before this instant. Only with `sort=created` and no other filter but `customer_no`."
_UPDATED = "Updated at or after / before this instant. Only with `sort=updated` (unless `customer_no` is given)."


@router.get("", responses=problems(422))
async def list_tickets(
    principal: Anyone,
    language: Lang,
    page: Page,
    svc: Svc,
    status_: Annotated[
        list[str] | None,
        Query(
            alias="status",
            description="Any of these states. Not with `tag` or `created_*` (unless `customer_no` is given).",
        ),
    ] = None,
    priority: Annotated[list[Priority] | None, Query(description=_BY_STATE)] = None,
    type_: Annotated[list[TicketType] | None, Query(alias="type", description=_BY_STATE)] = None,
    channel: Annotated[list[Channel] | None, Query(description=_BY_STATE)] = None,
    assignee: Annotated[str | None, Query(max_length=128, description=f"User id, or `me`. {_LEADING_ANY_SORT}")] = None,
    group: Annotated[str | None, Query(pattern=KEY_PATTERN, description=_LEADING)] = None,
    customer_no: Annotated[
        str | None,
        Query(
            pattern=KEY_PATTERN,
            description="One customer's tickets; every other filter then narrows them (customers always list "
            "only their own).",
        ),
    ] = None,
    tag: Annotated[str | None, Query(pattern=KEY_PATTERN, description=f"{_LEADING} Not with `status`.")] = None,
    created_from: Annotated[QueryInstant | None, Query(description=_CREATED)] = None,
    created_to: Annotated[QueryInstant | None, Query(description=_CREATED)] = None,
    updated_from: Annotated[QueryInstant | None, Query(description=_UPDATED)] = None,
    updated_to: Annotated[QueryInstant | None, Query(description=_UPDATED)] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=100,
            pattern=LINE_PATTERN,
            description="Text in title or description, within one customer's tickets: needs `customer_no` "
            "(customers' own lists always have it).",
        ),
    ] = None,
    high_risk: Annotated[
        bool | None,
        Query(
            description="`true`: tickets flagged high-risk (高风险) only. Staff only. Leads the page's index as "
            "`priority` does (read once per state); `false` only with `customer_no`."
        ),
    ] = None,
    sort: Annotated[
        TicketSort, Query(description="Newest `created` or most recently `updated` first.")
    ] = TicketSort.CREATED,
) -> PageOut[TicketOut]:
    """Tickets matching every filter given, in keyset pages. Customers get only their own. Every page is read
    through an index in page order, so it costs the same at any table size; a combination of filters no index
    serves is refused with 422 naming the parameters (see each parameter's description)."""
    where = TicketFilter(
        statuses=one_of(status_, (state.name for state in TICKET.states), "status"),
        priorities=tuple(priority or ()),
        types=tuple(type_ or ()),
        channels=tuple(channel or ()),
        assignee=principal.subject if assignee == "me" else assignee,
        group_key=group,
        customer_no=customer_no,
        tag=tag,
        created_from=created_from,
        created_to=created_to,
        updated_from=updated_from,
        updated_to=updated_to,
        text=q,
        high_risk=high_risk,
    )
    found = await svc.tickets.list(principal, where, sort, page)
    return page_out(found, lambda view: _out(view, principal, language))


@router.get("/{id}", responses=problems(404, 422))
async def get_ticket(ref: Ref, principal: Anyone, language: Lang, response: Response, svc: Svc) -> TicketOut:
    """One ticket, by UUID or number, with the actions the caller may take now."""
    view = await svc.tickets.get(principal, ref)
    set_etag(response, view.ticket.version)
    return _out(view, principal, language)


@router.patch("/{id}", responses=problems(404, 409, 412, 422, 428))
async def patch_ticket(
    ref: Ref,
    body: TicketPatch,
    principal: StaffOrIntegration,
    language: Lang,
    precondition: Guarded,
    response: Response,
    svc: Svc,
) -> TicketOut:
    """Change priority, category, tags, expected time, title, description, region, contact or group. The state
    only moves through actions."""
    changes = body.model_dump(exclude_unset=True)
    if "tags" in changes:
        changes["tags"] = tuple(dict.fromkeys(changes["tags"] or ()))
    if "contact" in changes:
        changes["contact"] = body.contact.to_domain() if body.contact else None
    view = await svc.tickets.update(principal, ref, {k: v for k, v in changes.items() if v is not None}, precondition)
    set_etag(response, view.ticket.version)
    return _out(view, principal, language)


@router.post(
    "/{id}/actions/{action}",
    responses=problems(404, 409, 412, 422, 428),
    openapi_extra=action_payloads("Ticket"),
)
async def act_on_ticket(
    ref: Ref,
    action: Annotated[str, Path(pattern=r"^[a-z_]{1,32}$", description="One of the ticket workflow's actions.")],
    principal: Anyone,
    language: Lang,
    precondition: Guarded,
    response: Response,
    svc: Svc,
    body: Annotated[ActionIn, Body()],
) -> TicketOut:
    """Run a workflow action (claim, assign, transfer, start, request_info, customer_reply, resolve, follow_up,
    complete, close, reopen, cancel, escalate, urge). Not possible now → 409 with the current state and the
    allowed actions; nothing is written."""
    view = await svc.tickets.act(principal, ref, action, body.model_dump(exclude_unset=True), precondition)
    set_etag(response, view.ticket.version)
    return _out(view, principal, language)


@router.get("/{id}/dispatch-decisions", responses=problems(404, 422))
async def list_dispatch_decisions(ref: Ref, principal: Staff, page: Page, svc: Svc) -> PageOut[DecisionOut]:
    """The ticket's dispatch decisions, newest first: the rule, the strategy, every candidate with why they were
    excluded or their score, the fallback ladder's steps and the winner (or why it was left in the pool)."""
    return page_out(await svc.tickets.decisions(principal, ref, page), DecisionOut.of)


@router.post("/{id}/comments", status_code=status.HTTP_201_CREATED, responses=problems(404, 422))
async def comment_on_ticket(ref: Ref, body: CommentIn, principal: Anyone, language: Lang, svc: Svc) -> TimelineEntryOut:
    """A public reply or an internal note (内部备注). Customers never see internal notes."""
    entry = await svc.tickets.comment(
        principal,
        ref,
        body.body,
        public=body.visibility == "public",
        attachments=ids_of(body.attachments),
    )
    return TimelineEntryOut.of(entry, principal, TICKET, language)


@router.get("/{id}/timeline", responses=problems(404, 422))
async def ticket_timeline(
    ref: Ref, principal: Anyone, language: Lang, page: Page, svc: Svc
) -> PageOut[TimelineEntryOut]:
    """Every change, oldest first: actor, time, from → to, remark and payload. Customers see public entries only,
    without payloads."""
    found = await svc.tickets.timeline(principal, ref, page)
    return page_out(found, lambda entry: TimelineEntryOut.of(entry, principal, TICKET, language))
