"""Solved cases and votes without a database: what a draft takes from a ticket (never its internal note), which
tickets count as resolved, and how a changed vote moves the tallies."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from app.domain.kb_articles import ArticleTally, Language, Visibility
from app.domain.kb_cases import case_content, unresolved
from app.domain.kb_votes import tally_change, voter_of
from app.domain.principal import Principal, Role
from app.domain.tickets import Channel, Priority, Resolution, Ticket, TicketType

NOW = datetime(2026, 12, 6, tzinfo=UTC)


def ticket(status: str = "completed", resolution: Resolution | None = None, **fields: object) -> Ticket:
    return Ticket(
        id=uuid4(),
        number="T-2026-000001",
        customer_no="C-1",
        channel=Channel.APP,
        type=TicketType.REPAIR,
        priority=Priority.NORMAL,
        title="净化器异响",
        description="开机后异响",
        status=status,
        created_by="agent-1",
        created_at=NOW,
        updated_at=NOW,
        resolution=resolution,
        **fields,  # type: ignore[arg-type]
    )


SOLVED = Resolution("更换风机", internal_note="SECRET-NOTE", labour_cost=5000)


def test_a_draft_takes_problem_fault_and_solution_but_never_the_internal_note_or_costs():
    content = case_content(
        ticket(resolution=SOLVED, fault_description="风机异响", category="noise", tags=("a", "a", "b")),
        Language.ZH_CN,
        Visibility.INTERNAL,
        None,
    )
    assert content.body == "## 问题描述\n\n开机后异响\n\n## 故障现象\n\n风机异响\n\n## 解决方案\n\n更换风机"
    assert "SECRET-NOTE" not in repr(content) and "5000" not in repr(content)
    assert (content.title, content.category, content.tags) == ("净化器异响", "noise", ("a", "b"))


def test_a_draft_in_english_has_english_headings_and_skips_empty_sections():
    content = case_content(ticket(resolution=SOLVED), Language.EN, Visibility.PUBLIC, "Noise")
    assert content.body == "## Problem\n\n开机后异响\n\n## Solution\n\n更换风机"
    assert (content.title, content.visibility) == ("Noise", Visibility.PUBLIC)


@pytest.mark.parametrize("status", ["pending_follow_up", "completed", "closed"])
def test_resolved_tickets_with_a_solution_may_be_drafted_from(status):
    assert unresolved(ticket(status, SOLVED)) is None


@pytest.mark.parametrize(("status", "resolution"), [("in_progress", None), ("new", None), ("closed", None)])
def test_unresolved_tickets_or_ones_without_a_solution_are_refused(status, resolution):
    refusal = unresolved(ticket(status, resolution))
    assert refusal is not None and refusal.code == "ticket_not_resolved"
    assert refusal.extra["current_state"] == status


@pytest.mark.parametrize(
    ("before", "after", "change"),
    [
        (None, True, (1, 0)),
        (None, False, (0, 1)),
        (True, True, (0, 0)),
        (True, False, (-1, 1)),
        (False, True, (1, -1)),
        (True, None, (-1, 0)),
        (None, None, (0, 0)),
    ],
)
def test_a_vote_change_moves_the_tallies_by_the_difference(before, after, change):
    assert tally_change(before, after) == change


def test_customers_and_staff_of_one_subject_are_different_voters():
    customer = Principal("u1", frozenset({Role.CUSTOMER}), customer_no="C-1")
    agent = Principal("u1", frozenset({Role.AGENT}))
    assert voter_of(customer) != voter_of(agent)


def test_search_ranks_by_helpful_minus_unhelpful_votes():
    assert ArticleTally(views=9, helpful_votes=5, unhelpful_votes=7).net_helpful == -2
