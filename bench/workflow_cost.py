"""In-process cost of one ticket workflow action: `TICKET.decide` + `apply`, the pure part of every action request."""

from __future__ import annotations

import timeit
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from app.domain.principal import Principal, Role
from app.domain.tickets import Channel, Priority, Ticket, TicketContext, TicketPolicy, TicketType
from app.workflows.ticket import TICKET, apply

ITERATIONS = 2_000
REPEATS = 25
AGENT = Principal("agent-007", frozenset({Role.AGENT}))
RESOLVE_BODY = {
    "remark": "已更换风机",
    "solution": "Replaced the fan assembly; noise gone after a 30 min test run.",
    "spare_parts": [{"name": "Fan assembly", "quantity": 1, "sku": "FAN-X3"}],
    "labour_cost": 5000,
    "material_cost": 12000,
    "currency": "CNY",
}


@dataclass(frozen=True, slots=True)
class ActionCost:
    action: str
    microseconds: float


def measure() -> list[ActionCost]:
    """`start` by the assignee (no payload) and `resolve` with parts and costs, each the best of many short runs:
    the minimum is the run least disturbed by whatever else shares the CPU."""
    return [
        _cost("start", _context("assigned"), {}),
        _cost("resolve", _context("in_progress"), RESOLVE_BODY),
    ]


def _cost(action: str, ctx: TicketContext, body: dict[str, Any]) -> ActionCost:
    def act() -> Ticket:
        return apply(ctx, AGENT, TICKET.decide(ctx, AGENT, action, body))

    act()  # fail loudly here, not as a timing, if the action is not possible
    best = min(timeit.repeat(act, number=ITERATIONS, repeat=REPEATS))
    return ActionCost(action, best / ITERATIONS * 1e6)


def _context(status: str) -> TicketContext:
    now = datetime.now(UTC)
    ticket = Ticket(
        id=uuid4(),
        number="T-2026-000123",
        customer_no="C-BENCH",
        channel=Channel.APP,
        type=TicketType.REPAIR,
        priority=Priority.NORMAL,
        title="Purifier makes a loud noise",
        description="Loud noise since two days after switching on.",
        status=status,
        created_by="bench",
        created_at=now - timedelta(hours=2),
        updated_at=now - timedelta(hours=1),
        version=3,
        assignee=AGENT.subject,
    )
    return TicketContext(ticket, now, TicketPolicy())
