"""Ticket contract: intake, edits, actions, the two views of status, timeline and comments."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field

from app.domain.principal import Principal
from app.domain.risk_reasons import RiskReasonCode, RiskSource
from app.domain.tickets import TICKET_FIELDS, Channel, Contact, Priority, Ticket, TicketType, WarrantyStatus
from app.schemas.attachments import AttachmentOut, AttachmentRefs, ids_of
from app.schemas.common import KEY_PATTERN, CustomerNo, Input, Line, OrderNo, Output, Phone, Sku
from app.schemas.sla import SlaOut
from app.schemas.workflows import AvailableActionOut, CustomerStatusOut, customer_status
from app.services.sla import SubjectSla
from app.services.tickets import TicketDraft
from app.workflows.engine import AvailableAction, Workflow
from app.workflows.ticket import solution_text

Tag = Annotated[str, Field(pattern=KEY_PATTERN, max_length=64)]
View = Literal["agent", "customer"]


class ContactIn(Input):
    name: Line | None = Field(None, max_length=200)
    phone: Phone | None = None
    email: EmailStr | None = None

    def to_domain(self) -> Contact:
        return Contact(self.name, self.phone, self.email)


class TicketIn(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "customer_no": "C-10001",
                    "channel": "app",
                    "type": "repair",
                    "priority": "normal",
                    "title": "净化器异响",
                    "description": "开机后有明显异响，持续两天。",
                    "order_no": "SO-2026-0001",
                    "sku": "AP-X3-WHITE",
                    "serial_no": "SN-889900",
                    "fault_description": "风机异响",
                    "tags": ["noise"],
                    "contact": {"name": "张伟", "phone": "+86 138 0013 8000"},
                    "region": "CN-31",
                }
            ]
        }
    )

    customer_no: CustomerNo | None = Field(None, description="Required unless the caller is the customer.")
    channel: Channel
    type: TicketType
    priority: Priority = Priority.NORMAL
    category: Tag | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    title: Line = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=10_000)
    order_no: OrderNo | None = Field(None, description="Must be one of the customer's orders.")
    sku: Sku | None = None
    serial_no: Line | None = Field(None, max_length=64)
    purchase_date: date | None = Field(None, description="Defaults to the order's date; sets warranty status.")
    fault_description: str | None = Field(None, max_length=5000)
    expected_by: AwareDatetime | None = Field(None, description="期望处理时间")
    contact: ContactIn = Field(default_factory=ContactIn)
    region: Tag | None = None
    attachments: AttachmentRefs
    group_key: Tag | None = Field(None, description="Route to this group's claim pool.")

    def to_draft(self) -> TicketDraft:
        return TicketDraft(
            **self.model_dump(exclude={"tags", "contact", "attachments"}),
            tags=tuple(dict.fromkeys(self.tags)),
            contact=self.contact.to_domain(),
            attachment_ids=ids_of(self.attachments),
        )


class TicketPatch(Input):
    """Fields that are not workflow state; send only those that change."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"priority": "urgent", "tags": ["vip", "noise"]}]})

    title: Line | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, min_length=1, max_length=10_000)
    priority: Priority | None = None
    category: Tag | None = None
    tags: list[Tag] | None = Field(None, max_length=20)
    expected_by: AwareDatetime | None = None
    region: Tag | None = None
    contact: ContactIn | None = None
    group_key: Tag | None = None


class CommentIn(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"body": "已寄出备件", "visibility": "public"}]})

    body: str = Field(min_length=1, max_length=10_000)
    visibility: Literal["public", "internal"] = "public"
    attachments: AttachmentRefs


class ContactOut(Output):
    name: str | None
    phone: str | None
    email: str | None


class SparePartOut(Output):
    name: str
    quantity: int
    sku: str | None


class ResolutionOut(Output):
    solution: str
    spare_parts: list[SparePartOut]
    labour_cost: int | None = Field(description="Minor units; null in the customer's view.")
    material_cost: int | None = Field(description="Minor units; null in the customer's view.")
    currency: str
    internal_note: str | None = Field(None, description="For staff only; null in the customer's view.")


class RiskReasonOut(Output):
    code: RiskReasonCode = Field(description="`keyword`, `vip` or `repeat_complaint`.")
    detail: str = Field(description="The keyword as configured, the customer's level, or the complaint count.")
    source: RiskSource = Field(description="`intake`: found when the ticket was taken in; `message`: in a later one.")
    at: datetime


class TicketRiskOut(BaseModel):
    """高风险: why the ticket was flagged (staff only)."""

    flagged_at: datetime
    reasons: list[RiskReasonOut]


class TicketOut(Output):
    view: View = Field(description="`customer`: the customer's view, without internal fields and costs.")
    id: UUID
    number: str
    customer_no: str
    channel: Channel
    type: TicketType
    priority: Priority
    category: str | None
    tags: list[str]
    title: str
    description: str
    order_no: str | None
    sku: str | None
    serial_no: str | None
    purchase_date: date | None
    warranty_status: WarrantyStatus
    warranty_until: date | None
    fault_description: str | None
    expected_by: datetime | None
    contact: ContactOut
    region: str | None
    business_line: str | None
    attachments: list[AttachmentOut]
    status: str
    status_label: str = Field(description="The status as this caller's view names it, in Accept-Language.")
    customer_status: CustomerStatusOut
    assignee: str | None
    group_key: str | None
    escalation_level: int | None
    urge_count: int
    resolution: ResolutionOut | None
    follow_up_outcome: str | None
    close_reason: str | None
    resolved_at: datetime | None
    finished_at: datetime | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    version: int
    available_actions: list[AvailableActionOut]
    sla: SlaOut = Field(description="The SLA clocks (staff) or the promise (customer).")
    risk: TicketRiskOut | None = Field(
        description="高风险 flag and its reasons; null when not flagged, and for customers."
    )

    @classmethod
    def of(
        cls,
        ticket: Ticket,
        actions: list[AvailableAction],
        principal: Principal,
        workflow: Workflow[Any],
        language: str,
        sla: SubjectSla,
    ) -> TicketOut:
        customer = principal.is_customer
        state = workflow.state(ticket.status)
        resolution = None
        if ticket.resolution is not None:
            r = ticket.resolution
            resolution = ResolutionOut(
                solution=solution_text(r, language),
                spare_parts=[SparePartOut.model_validate(p) for p in r.spare_parts],
                labour_cost=None if customer else r.labour_cost,
                material_cost=None if customer else r.material_cost,
                currency=r.currency,
                internal_note=None if customer else r.internal_note,
            )
        stored = {name: getattr(ticket, name) for name in _stored_fields(cls)}
        hidden = dict.fromkeys(("assignee", "group_key", "escalation_level", "created_by"), None) if customer else {}
        return cls(
            **stored
            | hidden
            | {
                "view": "customer" if customer else "agent",
                "tags": list(ticket.tags),
                "contact": ContactOut.model_validate(ticket.contact),
                "attachments": [AttachmentOut.of(a, principal) for a in ticket.attachments],
                "status_label": (state.customer if customer else state.agent).pick(language),
                "customer_status": customer_status(state, language),
                "resolution": resolution,
                "available_actions": [AvailableActionOut.of(a) for a in actions],
                "sla": SlaOut.of(sla, customer=customer, language=language),
                "risk": None if customer else _risk(ticket),
            }
        )


def _risk(ticket: Ticket) -> TicketRiskOut | None:
    if ticket.risk_flagged_at is None:
        return None
    reasons = [RiskReasonOut.model_validate(r) for r in ticket.risk_reasons]
    return TicketRiskOut(flagged_at=ticket.risk_flagged_at, reasons=reasons)


class TicketSummaryOut(Output):
    """A ticket in a list of someone's history (the customer overview): what it is and where it stands."""

    id: UUID
    number: str
    type: TicketType
    priority: Priority
    title: str
    order_no: str | None
    status: str
    status_label: str
    customer_status: CustomerStatusOut
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, ticket: Ticket, principal: Principal, workflow: Workflow[Any], language: str) -> TicketSummaryOut:
        state = workflow.state(ticket.status)
        return cls(
            id=ticket.id,
            number=ticket.number,
            type=ticket.type,
            priority=ticket.priority,
            title=ticket.title,
            order_no=ticket.order_no,
            status=ticket.status,
            status_label=(state.customer if principal.is_customer else state.agent).pick(language),
            customer_status=customer_status(state, language),
            created_at=ticket.created_at,
            updated_at=ticket.updated_at,
        )


class TicketCreatedOut(TicketOut):
    confirmation_message: str = Field(description="What to tell the customer, e.g. by SMS (seed 001).")


class PoolOut(BaseModel):
    """待领取池: a page of unassigned tickets with the pool's size and age."""

    items: list[TicketOut]
    next_cursor: str | None
    total: int
    oldest_age_seconds: int | None


@cache
def _stored_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The entity's fields the answer shows as they are stored. Asked once per model: pydantic answers
    `model_fields` through a deprecation shim that cost a list page of twenty tickets 8% of its CPU."""
    return tuple(name for name in TICKET_FIELDS if name in model.model_fields)
