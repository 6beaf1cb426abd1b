"""Recording one change: the timeline entry people read and the outbox event systems receive, written together
in the caller's transaction (nothing is sent from here)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from app.domain.after_sales import AfterSalesOrder
from app.domain.events import OutboxEvent, TimelineEntry, line_event_type
from app.domain.ids import new_id
from app.domain.tickets import Ticket
from app.domain.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class Change:
    """One change as the timeline shows it. `public` entries reach the customer; `remark_public` False keeps the
    remark from them on an entry they otherwise see."""

    kind: str  # created, action, updated, comment
    action: str
    from_status: str | None = None
    to_status: str | None = None
    remark: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    public: bool = True
    remark_public: bool = True


async def record_change(
    uow: UnitOfWork,
    aggregate: str,
    subject_id: UUID,
    facts: dict[str, Any],
    actor: str,
    now: datetime,
    change: Change,
    also: Sequence[OutboxEvent] = (),
) -> TimelineEntry:
    """The timeline entry and the `<aggregate>.created`, `.commented` or `.<action>` outbox event of one change,
    with the change's other events (`also`: instructions to other systems), written together. The event is `facts`
    (the aggregate's own fields: id, number, status, ...) plus who acted, the state it left and whether the customer
    sees the entry."""
    entry = TimelineEntry(
        new_id(),
        subject_id,
        now,
        actor,
        change.kind,
        change.action,
        change.from_status,
        change.to_status,
        change.remark,
        change.payload,
        change.public,
        change.remark_public,
    )
    event = {**facts, "from_status": change.from_status, "actor": actor, "public": change.public}
    changed = OutboxEvent(
        new_id(), line_event_type(aggregate, change.kind, change.action), aggregate, subject_id, now, event
    )
    await uow.timeline.add(entry, [changed, *also])
    return entry


async def record_ticket_change(
    uow: UnitOfWork, ticket: Ticket, actor: str, now: datetime, change: Change, also: Sequence[OutboxEvent] = ()
) -> TimelineEntry:
    """One change to a ticket, its event carrying the ticket's identity and the fields routing reads, with the
    change's other events (`also`)."""
    facts = {
        "ticket_id": str(ticket.id),
        "number": ticket.number,
        "customer_no": ticket.customer_no,
        "status": ticket.status,
        "assignee": ticket.assignee,
        "priority": ticket.priority.value,
    }
    return await record_change(uow, "ticket", ticket.id, facts, actor, now, change, also)


async def record_after_sales_change(
    uow: UnitOfWork,
    order: AfterSalesOrder,
    actor: str,
    now: datetime,
    change: Change,
    also: Sequence[OutboxEvent] = (),
) -> TimelineEntry:
    """One change to an after-sales order, its event carrying the order's identity, status and money."""
    facts = {
        "after_sales_id": str(order.id),
        "number": order.number,
        "type": order.type.value,
        "order_no": order.order_no,
        "customer_no": order.customer_no,
        "status": order.status,
        "amount": order.amount,
        "currency": order.currency,
    }
    return await record_change(uow, "after_sales", order.id, facts, actor, now, change, also)
