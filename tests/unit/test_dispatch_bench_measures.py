"""The dispatch day's verdicts on small hand-made histories: who held what when, who was eligible, who waited first;
and the day's own arithmetic (arrivals, shifts, the load ratio)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from app.domain.ids import new_id
from bench.dispatch_day_audit import (
    RuleNeeds,
    StoredDecision,
    StoredEntry,
    Truth,
    audit,
    load_ratio,
)
from bench.dispatch_day_bench import MINUTES, TICKETS, arrivals, on_shift, schedule

T0 = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


class Day:
    """A history written in order: each call draws the next id, as the service's UUIDv7s are drawn."""

    def __init__(self) -> None:
        self.decisions: list[StoredDecision] = []
        self.entries: list[StoredEntry] = []
        self.priority: dict[UUID, str] = {}

    def ticket(self, priority: str = "normal") -> UUID:
        ticket = new_id()
        self.priority[ticket] = priority
        return ticket

    def decide(
        self, ticket: UUID, winner: str | None, minute: float, trigger: str = "intake", group: str = "east"
    ) -> UUID:
        decision = StoredDecision(
            new_id(), ticket, trigger, "east", "round_robin", group, winner, T0 + timedelta(minutes=minute)
        )
        self.decisions.append(decision)
        to_status = "assigned" if winner else "new"
        self.entries.append(StoredEntry(new_id(), ticket, "dispatch", to_status, winner))
        return decision.id

    def close(self, ticket: UUID) -> None:
        self.entries.append(StoredEntry(new_id(), ticket, "close", "closed"))

    def truth(self, **overrides: object) -> Truth:
        values: dict[str, object] = {
            "on_shift": lambda _agent, _at: True,
            "capacity": {"a": 1, "b": 1},
            "groups": {"a": frozenset({"east"}), "b": frozenset({"east"})},
            "skills": {"a": frozenset(), "b": frozenset()},
            "rules": {"east": RuleNeeds()},
            "priority": self.priority,
        }
        return Truth(**{**values, **overrides})  # type: ignore[arg-type]

    def audit(self, **overrides: object):  # type: ignore[no-untyped-def]
        return audit(self.decisions, self.entries, self.truth(**overrides))


def test_an_assignment_past_capacity_is_found_and_a_release_in_between_makes_room() -> None:
    day = Day()
    first, second, third = day.ticket(), day.ticket(), day.ticket()
    day.decide(first, "a", 0)
    day.decide(second, "a", 1)  # a holds one of one
    day.close(first)
    day.close(second)
    day.decide(third, "a", 2)

    found = day.audit()

    assert found.ineligible == {"over capacity": 1}
    assert found.assignments == {"a": 3}


def test_off_shift_and_unavailable_winners_are_found_by_the_benchs_own_record() -> None:
    day = Day()
    early, late = day.ticket(), day.ticket()
    day.decide(early, "a", 0)
    away_from = new_id()
    day.decide(late, "b", 5)

    found = day.audit(
        on_shift=lambda agent, at: agent != "a" or at < T0,
        states={"b": [(away_from, "away")]},
        capacity={"a": None, "b": None},
    )

    assert found.ineligible == {"off shift": 1, "away": 1}


def test_a_ticket_given_while_held_is_a_double_assignment_but_a_rebalance_hands_it_over() -> None:
    day = Day()
    ticket = day.ticket()
    day.decide(ticket, "a", 0)
    day.decide(ticket, "b", 1, trigger="rebalance")  # a went offline: handed over
    day.decide(ticket, "a", 2, trigger="backlog")  # while b still holds it

    found = day.audit(capacity={"a": None, "b": None})

    assert found.double == 1
    assert found.ineligible == {}


def test_a_newcomer_assigned_while_an_older_ticket_waits_jumps_the_backlog() -> None:
    day = Day()
    older, newcomer = day.ticket(), day.ticket()
    day.decide(older, None, 0)
    committed = new_id()  # the older ticket's intake answered: its wait is visible from here
    started = new_id()
    day.decide(newcomer, "a", 1)
    day.close(newcomer)
    day.decide(older, "a", 2, trigger="backlog")

    found = day.audit(started={newcomer: started}, ended={older: committed})

    assert (found.backlog_jumps, found.backlog_overlaps) == (1, 0)
    assert found.most_waiting == {"east": 1}
    assert found.waiting_at_end == 0


def test_a_wait_committed_while_the_assignment_ran_is_an_overlap_not_a_jump() -> None:
    day = Day()
    older, newcomer = day.ticket(), day.ticket()
    started = new_id()
    day.decide(older, None, 0)
    committed = new_id()
    day.decide(newcomer, "a", 1)

    found = day.audit(started={newcomer: started}, ended={older: committed})

    assert (found.backlog_jumps, found.backlog_overlaps) == (0, 1)
    assert found.waiting_at_end == 1


def test_a_lower_priority_or_younger_or_unskilled_wait_is_no_jump() -> None:
    day = Day()
    low, urgent = day.ticket("low"), day.ticket("urgent")
    day.decide(low, None, 0)
    committed = new_id()
    started = new_id()
    day.decide(urgent, "a", 1)

    assert day.audit(started={urgent: started}, ended={low: committed}).backlog_jumps == 0
    needs = {"east": RuleNeeds(required=frozenset({"purifier"}))}
    day.priority[low] = "urgent"
    assert day.audit(started={urgent: started}, ended={low: committed}, rules=needs).backlog_jumps == 0
    assert day.audit(started={urgent: started}, ended={low: committed}).backlog_jumps == 1


def test_the_load_ratio_is_per_eligible_minute_among_those_eligible_at_all() -> None:
    assigned = {"a": 100, "b": 60, "c": 7}

    assert load_ratio(assigned, {"a": 200.0, "b": 100.0, "c": 0.0}) == pytest.approx(1.2)
    assert load_ratio({"a": 10}, {"a": 10.0, "b": 10.0}) == float("inf")


def test_the_day_takes_in_exactly_its_tickets_with_peaks_mid_morning_and_mid_afternoon() -> None:
    counts = arrivals(TICKETS, MINUTES)

    assert sum(counts) == TICKETS and len(counts) == MINUTES
    assert counts[90] > 1.5 * counts[240] and counts[390] > 1.5 * counts[240]
    assert abs(counts[90] - counts[390]) <= 1


def test_shifts_are_read_in_shanghai_wall_time_to_the_second() -> None:
    assert on_shift("early", T0)
    assert on_shift("early", T0 + timedelta(hours=4, minutes=29, seconds=59))
    assert not on_shift("early", T0 + timedelta(hours=4, minutes=30))
    assert not on_shift("late", T0 + timedelta(hours=3, minutes=29, seconds=59, microseconds=999_999))
    assert on_shift("late", T0 + timedelta(hours=3, minutes=30))


def test_every_leave_taken_is_returned_from_within_the_day() -> None:
    changes: Iterator[tuple[str, str]] = (change for minute in sorted(schedule()) for change in schedule()[minute])
    last: dict[str, str] = {}
    for agent, state in changes:
        last[agent] = state
    assert max(schedule()) < MINUTES
    assert set(last.values()) == {"available", "inactive"}
