"""Tickets (售后工单 / 客户投诉): a customer's complaint or service request, worked from intake to closure."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from app.domain.errors import FieldError, InvalidInput
from app.domain.pagination import Page, PageRequest
from app.domain.principal import Principal
from app.domain.risk_reasons import RiskReason
from app.domain.urging import MAX_ESCALATION_LEVEL, UrgePolicy

if TYPE_CHECKING:
    from app.domain.sla_clock import ClockEvent  # which imports this module, through sla_policies


class Channel(StrEnum):
    PHONE_400 = "phone_400"
    IVR = "ivr"
    APP = "app"
    IM_BOT = "im_bot"
    WEB = "web"
    EMAIL = "email"
    WECHAT = "wechat"
    MARKETPLACE = "marketplace"
    OTHER = "other"


class TicketType(StrEnum):
    COMPLAINT = "complaint"
    REPAIR = "repair"
    INSTALLATION = "installation"
    CONSULTATION = "consultation"
    AFTER_SALES_REQUEST = "after_sales_request"
    OTHER = "other"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class WarrantyStatus(StrEnum):
    IN_WARRANTY = "in_warranty"
    OUT_OF_WARRANTY = "out_of_warranty"
    UNKNOWN = "unknown"


OPEN_STATES = ("new", "assigned", "in_progress", "waiting_on_customer", "pending_follow_up")
HELD_STATES = ("assigned", "in_progress", "waiting_on_customer")
"""The states in which a ticket counts against its assignee's open-ticket limit (max_open_tickets)."""


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file on a record as it was when it was linked, kept on the record so that reads need no join: a stored
    attachment (`id`, its bytes behind a signed link), or a legacy reference from before files were stored (`id`
    None, the caller's own `external_url`, which the service never serves)."""

    id: UUID | None
    name: str
    content_type: str
    size: int
    sha256: str
    external_url: str | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "id": str(self.id) if self.id is not None else None,
            "name": self.name,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "external_url": self.external_url,
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Attachment:
        found = value["id"]
        return cls(
            UUID(found) if found is not None else None,
            value["name"],
            value["content_type"],
            value["size"],
            value["sha256"],
            value.get("external_url"),
        )


@dataclass(frozen=True, slots=True)
class Contact:
    name: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class SparePart:
    name: str
    quantity: int
    sku: str | None = None


@dataclass(frozen=True, slots=True)
class Resolution:
    """解决方案与成本: what fixed it and what it cost (the costs and the internal note are never shown to
    customers)."""

    solution: str  # what the customer reads
    spare_parts: tuple[SparePart, ...] = ()
    labour_cost: int = 0
    material_cost: int = 0
    currency: str = "CNY"
    internal_note: str | None = None  # for staff only, e.g. what the ticket's tasks reported


@dataclass(frozen=True, slots=True)
class TicketPolicy:
    """Configurable rules of the ticket workflow."""

    reopen_window: timedelta = timedelta(days=7)
    urge: UrgePolicy = field(default_factory=UrgePolicy)


@dataclass(frozen=True, slots=True)
class Ticket:
    id: UUID
    number: str
    customer_no: str
    channel: Channel
    type: TicketType
    priority: Priority
    title: str
    description: str
    status: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int = 1
    category: str | None = None
    tags: tuple[str, ...] = ()
    order_no: str | None = None
    sku: str | None = None
    serial_no: str | None = None
    purchase_date: date | None = None
    warranty_status: WarrantyStatus = WarrantyStatus.UNKNOWN
    warranty_until: date | None = None
    fault_description: str | None = None
    expected_by: datetime | None = None
    contact: Contact = field(default_factory=Contact)
    region: str | None = None
    business_line: str | None = None
    attachments: tuple[Attachment, ...] = ()
    assignee: str | None = None
    group_key: str | None = None
    escalation_level: int = 0
    urge_count: int = 0
    last_urged_at: datetime | None = None
    resolution: Resolution | None = None
    follow_up_outcome: str | None = None
    close_reason: str | None = None
    resolved_at: datetime | None = None
    finished_at: datetime | None = None  # completed, closed or cancelled
    risk_flagged_at: datetime | None = None  # 高风险: first flagged (app/domain/risk.py)
    risk_reasons: tuple[RiskReason, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES


TICKET_FIELDS = tuple(f.name for f in fields(Ticket))
"""A ticket's fields, from the entity itself: storage, the contract and intake derive their lists from it."""

_NUMBER = re.compile(r"^T-\d{4}-\d{6,}$")


def is_ticket_number(text: str) -> bool:
    return _NUMBER.match(text) is not None


def ticket_number(year: int, sequence: int) -> str:
    """T-YYYY-NNNNNN: short enough to read over the phone, unique and increasing."""
    return f"T-{year}-{sequence:06d}"


def warranty_end(purchase_date: date | None, warranty_months: int | None) -> date | None:
    """Last day of the manufacturer's warranty (保修期), or None when the purchase date or product is unknown."""
    if purchase_date is None or warranty_months is None:
        return None
    months = purchase_date.month - 1 + warranty_months
    year, month = purchase_date.year + months // 12, months % 12 + 1
    return date(year, month, min(purchase_date.day, _days_in_month(year, month)))


def warranty_status_on(until: date | None, today: date) -> WarrantyStatus:
    if until is None:
        return WarrantyStatus.UNKNOWN
    return WarrantyStatus.IN_WARRANTY if today <= until else WarrantyStatus.OUT_OF_WARRANTY


def _days_in_month(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


@dataclass(frozen=True, slots=True)
class Taker:
    """What the caller's own agent record says about taking one more ticket on (领取)."""

    problem: str | None = None  # not a registered agent, inactive, or lacks the agent role
    full_at: int | None = None  # the open-ticket limit the caller has reached


@dataclass(frozen=True, slots=True)
class TicketContext:
    """What the ticket workflow's guards see: the ticket, the time now, the configured policy, the numbers of its
    tasks neither approved nor cancelled, and whether the caller can take it on. Services load it the same way for
    a single read, a list page and an action, so the buttons a list shows are the ones the action accepts."""

    ticket: Ticket
    now: datetime
    policy: TicketPolicy
    unfinished_tasks: tuple[str, ...] = ()
    taker: Taker = field(default_factory=Taker)


def acts_as_assignee_or_manager(ctx: TicketContext, principal: Principal, _payload: object) -> str | None:
    if principal.is_manager or principal.subject == ctx.ticket.assignee:
        return None
    return f"only the assignee ({ctx.ticket.assignee or 'nobody'}) or a manager may do this"


def tasks_finished(ctx: TicketContext, _principal: Principal, _payload: object) -> str | None:
    """A ticket is resolved only when every task on it is approved or cancelled (seed 000)."""
    if not ctx.unfinished_tasks:
        return None
    return f"tasks not yet approved or cancelled: {', '.join(ctx.unfinished_tasks)}"


def can_take_more(ctx: TicketContext, _principal: Principal, _payload: object) -> str | None:
    """Only an active registered agent below their open-ticket limit takes a ticket on."""
    if ctx.taker.problem is not None:
        return f"you cannot take tickets: {ctx.taker.problem}"
    if ctx.taker.full_at is not None:
        return f"you already have {ctx.taker.full_at} open tickets, the most allowed"
    return None


def urge_wait(ctx: TicketContext) -> timedelta | None:
    """How long until the ticket may be urged again (催单 is rate-limited); None when it may be now."""
    last, interval = ctx.ticket.last_urged_at, ctx.policy.urge.min_interval
    if last is None or ctx.now - last >= interval:
        return None
    return interval - (ctx.now - last)


def not_just_urged(ctx: TicketContext, _principal: Principal, _payload: object) -> str | None:
    return None if urge_wait(ctx) is None else "you have just urged this; we are on it"


def has_assignee(ctx: TicketContext, _principal: Principal, _payload: object) -> str | None:
    return None if ctx.ticket.assignee else "the ticket has no assignee"


def has_no_assignee(ctx: TicketContext, _principal: Principal, _payload: object) -> str | None:
    return None if not ctx.ticket.assignee else "the ticket has an assignee"


def within_reopen_window(ctx: TicketContext, _principal: Principal, _payload: object) -> str | None:
    finished = ctx.ticket.finished_at
    if finished is None or ctx.now - finished <= ctx.policy.reopen_window:
        return None
    return f"the ticket can be reopened only within {ctx.policy.reopen_window.days} days of being finished"


def below_max_escalation(ctx: TicketContext, _principal: Principal, _payload: object) -> str | None:
    if ctx.ticket.escalation_level < MAX_ESCALATION_LEVEL:
        return None
    return f"the ticket is already at the highest escalation level ({MAX_ESCALATION_LEVEL})"


class TicketSort(StrEnum):
    CREATED = "created"
    UPDATED = "updated"


@dataclass(frozen=True, slots=True)
class TicketFilter:
    """List filters; empty fields do not filter."""

    statuses: tuple[str, ...] = ()
    priorities: tuple[Priority, ...] = ()
    types: tuple[TicketType, ...] = ()
    channels: tuple[Channel, ...] = ()
    assignee: str | None = None
    group_key: str | None = None
    customer_no: str | None = None
    tag: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    updated_from: datetime | None = None
    updated_to: datetime | None = None
    text: str | None = None
    high_risk: bool | None = None  # True: flagged tickets only (高风险); False: unflagged, within one customer's
    business_lines: frozenset[str] | None = None  # tickets of these lines (or of none); None: all

    def check_served(self, sort: TicketSort) -> None:
        """Refuse a combination of filters that no index reads in page order, so that every list page costs a page
        whatever the table size: a page is read through one index (once per status and value asked for, merged),
        never by filtering or sorting the whole table. With `customer_no` any filter goes: it narrows one
        customer's tickets."""
        if self.customer_no is not None:
            return
        given = {name for name in _PARAMETERS if getattr(self, name) not in (None, ())}
        refused: dict[str, str] = {}
        leading = [name for name in LEADING_FILTERS if name in given]
        if len(leading) > 1:
            refused |= dict.fromkeys(leading, f"combine at most one of {_names(LEADING_FILTERS)} (and status)")
        if "text" in given:
            refused["text"] = "needs customer_no: text is searched within one customer's tickets"
        for name in BY_STATUS_FILTERS:
            values = len(set(getattr(self, name)))
            if values > 1 and values * (len(set(self.statuses)) or UNSTATED_READS) > MAX_READS:
                refused[name] = (
                    f"with {values} values, name at most {MAX_READS // values} states in status"
                    if self.statuses
                    else f"name at most {MAX_READS // UNSTATED_READS} values, or status too"
                )
        if self.high_risk is False:
            refused["high_risk"] = "false needs customer_no: only flagged tickets have an index of their own"
        if "tag" in given and "statuses" in given:
            refused["tag"] = "cannot be combined with status"
        created = [name for name in ("created_from", "created_to") if name in given]
        if created and ("statuses" in given or leading):
            refused |= dict.fromkeys(created, "combines only with customer_no")
        if sort is TicketSort.UPDATED:
            unsorted = [*created, *(name for name in UNSORTED_BY_UPDATE if name in given)]
            refused |= dict.fromkeys(unsorted, "not with sort=updated")
        else:
            refused |= {name: "needs sort=updated" for name in ("updated_from", "updated_to") if name in given}
        if refused:
            named = _names(sorted(refused))
            raise InvalidInput(
                f"No index serves {named} together; see the parameters' descriptions for what combines",
                code="validation_failed",
                errors=[FieldError(_PARAMETERS[name], why, location="query") for name, why in sorted(refused.items())],
            )


_PARAMETERS = {
    "statuses": "status",
    "priorities": "priority",
    "types": "type",
    "channels": "channel",
    "assignee": "assignee",
    "group_key": "group",
    "customer_no": "customer_no",
    "tag": "tag",
    "created_from": "created_from",
    "created_to": "created_to",
    "updated_from": "updated_from",
    "updated_to": "updated_to",
    "text": "q",
    "high_risk": "high_risk",
}
"""Each filter's query parameter, as the refusals name them."""
LEADING_FILTERS = ("assignee", "group_key", "priorities", "types", "channels", "tag", "high_risk")
"""Filters that each lead a list page's index: a page names at most one of them, beside `status`."""
UNSORTED_BY_UPDATE = ("group_key", "priorities", "types", "channels", "tag")
"""Leading filters whose index is in creation order only."""
BY_STATUS_FILTERS = ("priorities", "types", "channels")
"""Leading filters whose index begins with status: a page reads it once per state and value, merged."""
MAX_READS = 16
"""Index reads one page may merge: each costs about a page of keys, and the statement grows with them."""
UNSTATED_READS = 8
"""Reads per value of a BY_STATUS filter when no status is named: one per ticket state."""


def _names(fields_: Collection[str]) -> str:
    return ", ".join(_PARAMETERS[name] for name in fields_)


@dataclass(frozen=True, slots=True)
class PoolScope:
    """Which unassigned tickets a caller may claim: None means every group / business line."""

    groups: frozenset[str] | None
    business_lines: frozenset[str] | None


@dataclass(frozen=True, slots=True)
class PoolStats:
    total: int
    oldest_created_at: datetime | None


@dataclass(frozen=True, slots=True)
class GuardedTicket:
    """A ticket with what only other rows know and its guards and SLA need: its unfinished tasks' numbers and its
    SLA clock log (oldest first). A locking read's log may lack events a writer that held the lock appended on
    PostgreSQL: compare its length with what `TicketRepository.update` answers before writing from it."""

    ticket: Ticket
    unfinished_tasks: tuple[str, ...]
    clock_log: tuple[ClockEvent, ...]


class TicketRepository(Protocol):
    async def next_sequence(self) -> int: ...
    async def get(self, ref: UUID | str, *, for_update: bool = False) -> Ticket | None: ...
    async def get_guarded(self, ref: UUID | str, *, for_update: bool = False) -> GuardedTicket | None:
        """The ticket, its unfinished tasks and its clock log, read together."""
        ...

    async def assignees(self, ids: Collection[UUID]) -> dict[UUID, str | None]: ...
    async def add(self, ticket: Ticket) -> None: ...
    async def update(self, ticket: Ticket, before: Ticket) -> int:
        """Answers how many events the ticket's clock log holds as the write sees them (the ticket locked)."""
        ...

    async def list(self, where: TicketFilter, sort: TicketSort, page: PageRequest) -> Page[GuardedTicket]: ...
    async def pool(self, scope: PoolScope, page: PageRequest) -> Page[GuardedTicket]: ...
    async def pool_stats(self, scope: PoolScope) -> PoolStats: ...
