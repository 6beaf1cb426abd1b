"""The workflow engine on the ticket workflow, without a database: decisions, guards, buttons, diagrams."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from app.domain.errors import Conflict, Forbidden, InvalidInput
from app.domain.principal import Principal, Role
from app.domain.tickets import Channel, Ticket, TicketContext, TicketPolicy, TicketType, warranty_end
from app.workflows.registry import WORKFLOWS
from app.workflows.ticket import TICKET, apply

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
AGENT = Principal("agent-1", frozenset({Role.AGENT}))
MANAGER = Principal("manager-1", frozenset({Role.MANAGER}))
CUSTOMER = Principal("customer-1", frozenset({Role.CUSTOMER}), customer_no="C-1")
STRANGER = Principal("customer-2", frozenset({Role.CUSTOMER}), customer_no="C-2")


def _ctx(**fields) -> TicketContext:
    ticket = Ticket(
        id=uuid4(),
        number="T-2026-000001",
        customer_no="C-1",
        channel=Channel.APP,
        type=TicketType.REPAIR,
        priority="normal",
        title="t",
        description="d",
        status="new",
        created_by="customer-1",
        created_at=NOW,
        updated_at=NOW,
    )
    return TicketContext(replace(ticket, **fields), NOW, TicketPolicy())


def test_the_first_transition_whose_guards_pass_is_taken():
    ctx = _ctx(status="pending_follow_up", assignee="agent-1")

    settled = TICKET.decide(ctx, AGENT, "follow_up", {"outcome": "satisfied"})
    unhappy = TICKET.decide(ctx, AGENT, "follow_up", {"outcome": "unsatisfied"})

    assert (settled.dest, unhappy.dest) == ("completed", "in_progress")


def test_available_actions_depend_on_role_ownership_and_guards():
    ctx = _ctx(status="in_progress", assignee="agent-1")

    agent = {a.action for a in TICKET.available(ctx, AGENT)}
    colleague = {a.action for a in TICKET.available(ctx, replace(AGENT, subject="agent-2"))}
    owner = {a.action for a in TICKET.available(ctx, CUSTOMER)}
    stranger = {a.action for a in TICKET.available(ctx, STRANGER)}

    assert {"resolve", "request_info", "transfer", "escalate", "close"} <= agent
    assert "resolve" not in colleague
    assert owner == {"urge"}
    assert stranger == set()


def test_a_refused_action_names_the_state_and_the_allowed_actions():
    with pytest.raises(Conflict) as refused:
        TICKET.decide(_ctx(), MANAGER, "resolve", {"solution": "x"})

    assert refused.value.extra["current_state"] == "new"
    assert "assign" in refused.value.extra["allowed_actions"]


def test_a_role_outside_the_transition_is_forbidden():
    with pytest.raises(Forbidden):
        TICKET.decide(_ctx(), CUSTOMER, "claim", {})


def test_payload_errors_point_at_the_fields():
    with pytest.raises(InvalidInput) as bad:
        TICKET.decide(_ctx(status="in_progress", assignee="agent-1"), AGENT, "resolve", {"labour_cost": "lots"})

    assert {e.pointer for e in bad.value.errors} == {"/solution", "/labour_cost"}


def test_finishing_starts_the_reopen_window_and_reopening_clears_it():
    ctx = _ctx(status="in_progress", assignee="agent-1")
    closed = apply(ctx, AGENT, TICKET.decide(ctx, AGENT, "close", {"reason": "duplicate"}))
    later = TicketContext(closed, NOW + timedelta(days=1), TicketPolicy())
    reopened = apply(later, CUSTOMER, TICKET.decide(later, CUSTOMER, "reopen", {"reason": "again"}))

    assert (closed.finished_at, closed.close_reason, closed.version) == (NOW, "duplicate", 2)
    assert (reopened.status, reopened.finished_at, reopened.close_reason) == ("assigned", None, None)


def test_every_workflow_renders_every_transition_in_mermaid():
    for workflow in WORKFLOWS.values():
        diagram = workflow.mermaid("en")
        edges = {line.strip() for line in diagram.splitlines() if "-->" in line}
        for transition in workflow.transitions:
            for source in transition.sources:
                assert f"{source} --> {transition.dest or source}: {transition.action}" in edges


@pytest.mark.parametrize(
    ("purchased", "months", "until"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2024, 11, 15), 14, date(2026, 1, 15)),
        (None, 12, None),
        (date(2024, 1, 1), None, None),
    ],
)
def test_warranty_ends_on_the_same_day_months_later_or_the_months_last_day(purchased, months, until):
    assert warranty_end(purchased, months) == until
