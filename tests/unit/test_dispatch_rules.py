"""派单 decisions: the first matching rule, who is eligible and why not, each strategy's pick, the fallback ladder,
and the laws every decision keeps (never an ineligible winner; round robin stays even)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.dispatch import (
    Availability,
    Candidate,
    Condition,
    DispatchRule,
    Roster,
    Strategy,
    WorkItem,
    decide,
    exclusion,
    first_rule,
    weighted_load,
)

NOW = datetime(2026, 12, 3, 10, tzinfo=UTC)
ITEM = WorkItem({"type": frozenset({"repair"}), "region": frozenset({"CN-31"})}, waiting_since=NOW)


def agent(user_id: str, **overrides) -> Candidate:
    fields = {"active": True, "availability": Availability.AVAILABLE, "on_shift": True, "capacity": 5}
    return Candidate(user_id, **(fields | overrides))


def rule(strategy: Strategy = Strategy.ROUND_ROBIN, **overrides) -> DispatchRule:
    return DispatchRule(**({"key": "r", "position": 1, "group_key": "east", "strategy": strategy} | overrides))


def test_the_first_rule_by_position_whose_conditions_all_hold_decides():
    east = rule(key="east", position=2, conditions=(Condition("region", frozenset({"CN-31", "CN-32"})),))
    complaints = rule(key="complaints", position=1, conditions=(Condition("type", frozenset({"complaint"})),))
    tagged = rule(key="tagged", position=3, conditions=(Condition("tags", frozenset({"vip"})),))

    assert first_rule([tagged, east, complaints], ITEM) == east
    assert first_rule([tagged], replace(ITEM, facts={"tags": frozenset({"noise", "vip"})})) == tagged
    assert first_rule([complaints], ITEM) is None
    assert decide(None, ITEM, Roster(), NOW).pool_reason == "no rule matches"


def test_each_reason_an_agent_is_not_eligible_is_named():
    needs = rule(required_skills=frozenset({"gas", "electric"}))
    cases = {
        "inactive": agent("a", active=False),
        "availability away": agent("b", availability=Availability.AWAY),
        "availability offline": agent("c", availability=Availability.OFFLINE),
        "off shift": agent("d", on_shift=False),
        "at capacity (5 of 5)": agent("e", open_items=5),
        "at capacity (0 of 0)": agent("f", capacity=0),
        "missing skills electric": agent("g", skills=frozenset({"gas"})),
    }
    assert {why: exclusion(candidate, needs) for why, candidate in cases.items()} == {why: why for why in cases}
    assert exclusion(agent("h", skills=frozenset({"gas", "electric", "water"})), needs) is None


def test_round_robin_takes_the_agent_assigned_least_recently_a_new_one_first():
    roster = Roster(
        {
            "east": [
                agent("a", last_assigned_at=NOW - timedelta(minutes=5)),
                agent("b", last_assigned_at=NOW - timedelta(minutes=50)),
                agent("c", on_shift=False),
            ]
        }
    )
    assert decide(rule(), ITEM, roster, NOW).winner == "b"
    newcomer = Roster({"east": [*roster.of("east"), agent("d")]})
    assert decide(rule(), ITEM, newcomer, NOW).winner == "d"


def test_least_loaded_divides_weighted_open_work_by_capacity():
    roster = Roster(
        {
            "east": [
                agent("a", capacity=10, open_items=4, load=weighted_load([("urgent", "other")] * 4)),  # 16 / 10
                agent("b", capacity=4, open_items=2, load=weighted_load([("normal", "other"), ("low", "repair")])),
                agent("c", capacity=2, open_items=1, load=weighted_load([("urgent", "consultation")])),  # 4 / 2
                agent("d", capacity=None, open_items=9, load=weighted_load([("normal", "complaint")] * 6)),  # 24 / 20
            ]
        }
    )
    assert decide(rule(Strategy.LEAST_LOADED), ITEM, roster, NOW).winner == "b"  # (2 + 1 × 2) / 4
    assert weighted_load([("high", "unknown"), ("unknown", "complaint")]) == 3 + 2 * 2


def test_skill_match_wants_every_required_skill_and_the_most_optional_ones():
    skills = rule(
        Strategy.SKILL_MATCH,
        required_skills=frozenset({"gas"}),
        optional_skills=frozenset({"boiler", "english"}),
        min_optional=1,
        relax_after=timedelta(minutes=30),
    )
    roster = Roster(
        {
            "east": [
                agent("a", skills=frozenset({"boiler"})),  # no gas
                agent("b", skills=frozenset({"gas", "boiler"})),
                agent("c", skills=frozenset({"gas", "boiler", "english"})),
                agent("d", skills=frozenset({"gas"})),
            ]
        }
    )
    decision = decide(skills, ITEM, roster, NOW)
    assert decision.winner == "c"
    assert {c.user_id: c.excluded for c in decision.considered} == {
        "a": "missing skills gas",
        "b": None,
        "c": None,
        "d": "holds 0 of the 1 optional skills wanted",
    }
    only_d = Roster({"east": [agent("d", skills=frozenset({"gas"}))]})
    assert decide(skills, ITEM, only_d, NOW).steps == ("optional skills relaxed: nobody held enough",)
    waited = replace(ITEM, waiting_since=NOW - timedelta(minutes=31))
    assert decide(skills, waited, only_d, NOW).steps == ("optional skills relaxed: waited past relax_after",)


def test_sticky_keeps_the_customers_agent_when_eligible_else_round_robin():
    roster = Roster({"east": [agent("a"), agent("b", last_assigned_at=NOW)]})
    sticky = rule(Strategy.STICKY)

    assert decide(sticky, replace(ITEM, previous_agent="b"), roster, NOW).winner == "b"
    busy = Roster({"east": [agent("a"), agent("b", open_items=5)]})
    assert decide(sticky, replace(ITEM, previous_agent="b"), busy, NOW).winner == "a"


def test_the_ladder_overflows_then_leaves_it_in_the_pool_with_a_reason():
    overflowing = rule(overflow_group="west")
    nobody_east = {"east": [agent("a", on_shift=False)]}

    overflowed = decide(overflowing, ITEM, Roster({**nobody_east, "west": [agent("w")]}), NOW)
    left = decide(overflowing, ITEM, Roster({**nobody_east, "west": [agent("w", active=False)]}), NOW)

    assert (overflowed.winner, overflowed.group_key) == ("w", "west")
    assert overflowed.steps == ("overflow to west: nobody in east may take it",)
    assert (left.winner, left.pool_reason) == (None, "no eligible agent")
    assert [(c.user_id, c.excluded) for c in left.considered] == [("a", "off shift"), ("w", "inactive")]
    pooled = decide(rule(Strategy.POOL), ITEM, Roster({"east": [agent("a")]}), NOW)
    assert (pooled.winner, pooled.pool_reason) == (None, "the rule leaves it in the pool")


_agents = st.lists(
    st.builds(
        Candidate,
        user_id=st.sampled_from([f"u{i}" for i in range(8)]),
        active=st.booleans(),
        availability=st.sampled_from(list(Availability)),
        on_shift=st.booleans(),
        capacity=st.integers(0, 5),
        open_items=st.integers(0, 6),
        load=st.integers(0, 30),
        skills=st.frozensets(st.sampled_from(["gas", "boiler", "english"])),
        last_assigned_at=st.none() | st.datetimes(timezones=st.just(UTC)),
    ),
    unique_by=lambda c: c.user_id,
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(
    east=_agents,
    west=_agents,
    strategy=st.sampled_from(list(Strategy)),
    required=st.frozensets(st.sampled_from(["gas", "boiler"])),
)
def test_a_winner_is_always_eligible_and_nobody_wins_only_when_everyone_is_excluded(east, west, strategy, required):
    chosen = rule(strategy, required_skills=required, optional_skills=frozenset({"english"}), overflow_group="west")
    roster = Roster({"east": east, "west": west})

    decision = decide(chosen, ITEM, roster, NOW)

    if decision.winner is not None:
        [won] = [c for c in roster.of(decision.group_key or "") if c.user_id == decision.winner]
        assert exclusion(won, chosen) is None
    elif strategy is not Strategy.POOL:
        assert all(c.excluded for c in decision.considered)


def test_round_robin_stays_even_over_a_day_of_work():
    team = {f"u{i}": agent(f"u{i}", capacity=10_000) for i in range(7)}
    assigned = dict.fromkeys(team, 0)
    for minute in range(1000):
        at = NOW + timedelta(minutes=minute)
        winner = decide(rule(), ITEM, Roster({"east": list(team.values())}), at).winner
        assert winner is not None
        assigned[winner] += 1
        team[winner] = replace(team[winner], last_assigned_at=at, open_items=team[winner].open_items + 1)

    assert max(assigned.values()) - min(assigned.values()) <= 1
