"""派单 (dispatch): which agent a new or returned piece of work goes to, decided by the first matching rule's strategy
among the agents who may take it now, with a fallback ladder that never picks an ineligible agent silently.

A decision is pure and explains itself: the rule, the strategy, every candidate with the reason it was excluded or
its score, the winner, and the ladder's steps (optional skills relaxed, overflow to another group, left in the pool
with a reason). The service reads the candidates (and their load) in the transaction that assigns, under the locks
that keep two decisions from giving one agent more than their capacity.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

DISPATCH_FIELDS = frozenset(
    {
        "type",
        "category",
        "tags",
        "priority",
        "channel",
        "customer_level",
        "region",
        "product_line",
        "business_line",
        "high_risk",
        "contract_sla_level",
    }
)
"""The fields of a ticket or after-sales order a rule's conditions may name (`high_risk` is "true" or "false")."""
PRIORITY_WEIGHTS: Mapping[str, int] = {"low": 1, "normal": 2, "high": 3, "urgent": 4}
"""How much one open item of each priority weighs in an agent's load (`least_loaded`), in halves of a normal one."""


class Strategy(StrEnum):
    ROUND_ROBIN = "round_robin"  # the eligible agent assigned least recently
    LEAST_LOADED = "least_loaded"  # the lowest weighted open work per unit of capacity
    SKILL_MATCH = "skill_match"  # every required skill, the most optional ones
    STICKY = "sticky"  # the customer's previous agent when eligible, else round robin
    POOL = "pool"  # left in the claim pool (领取), its group notified


class Availability(StrEnum):
    AVAILABLE = "available"
    AWAY = "away"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class Condition:
    """The item's `field` holds at least one of `values` (any tag, for `tags`)."""

    field: str
    values: frozenset[str]


@dataclass(frozen=True, slots=True)
class DispatchRule:
    """One ordered rule: the first whose conditions all hold decides. `min_optional` optional skills are wanted
    until the item has waited `relax_after` (then, and on the ladder, any number will do)."""

    key: str
    position: int
    group_key: str
    strategy: Strategy
    conditions: tuple[Condition, ...] = ()
    required_skills: frozenset[str] = frozenset()
    optional_skills: frozenset[str] = frozenset()
    min_optional: int = 0
    relax_after: timedelta | None = None
    overflow_group: str | None = None

    def matches(self, item: WorkItem) -> bool:
        return all(bool(item.facts.get(c.field, frozenset()) & c.values) for c in self.conditions)


@dataclass(frozen=True, slots=True)
class WorkItem:
    """What the rules and strategies see of a ticket or an order: its facts as sets of text values, since when it
    waits, and the agent of the customer's previous ticket (for `sticky`)."""

    facts: Mapping[str, frozenset[str]]
    waiting_since: datetime
    previous_agent: str | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    """An agent of the rule's group as the decision reads them: `load` is their open work weighted by
    PRIORITY_WEIGHTS, `open_items` its count, `capacity` the most open items they may hold."""

    user_id: str
    active: bool
    availability: Availability
    on_shift: bool
    capacity: int
    open_items: int = 0
    load: int = 0
    skills: frozenset[str] = frozenset()
    last_assigned_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Considered:
    """A candidate as the decision saw them: why they were excluded, or their score (lower wins)."""

    user_id: str
    excluded: str | None = None
    score: tuple[float, ...] | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    rule_key: str | None
    strategy: Strategy
    group_key: str | None
    winner: str | None
    considered: tuple[Considered, ...] = ()
    steps: tuple[str, ...] = ()
    pool_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Roster:
    """The candidates of each group, as read for one decision."""

    by_group: Mapping[str, Sequence[Candidate]] = field(default_factory=dict)

    def of(self, group_key: str) -> Sequence[Candidate]:
        return self.by_group.get(group_key, ())


def first_rule(rules: Iterable[DispatchRule], item: WorkItem) -> DispatchRule | None:
    """The first rule, by position, whose conditions all hold."""
    return next((rule for rule in sorted(rules, key=lambda r: (r.position, r.key)) if rule.matches(item)), None)


def exclusion(candidate: Candidate, rule: DispatchRule) -> str | None:
    """Why this agent may not take the work now, or None: inactive, not available, off shift, at capacity, or
    missing a required skill."""
    if not candidate.active:
        return "inactive"
    if candidate.availability is not Availability.AVAILABLE:
        return f"availability {candidate.availability}"
    if not candidate.on_shift:
        return "off shift"
    if candidate.open_items >= candidate.capacity:
        return f"at capacity ({candidate.open_items} of {candidate.capacity})"
    missing = rule.required_skills - candidate.skills
    if missing:
        return "missing skills " + ", ".join(sorted(missing))
    return None


def decide(rule: DispatchRule | None, item: WorkItem, roster: Roster, now: datetime) -> Decision:
    """The rule's decision for `item`, down the fallback ladder: the strategy in the rule's group; for
    `skill_match`, the optional skills relaxed; the overflow group; else the pool, with the reason recorded."""
    if rule is None:
        return Decision(None, Strategy.POOL, None, None, pool_reason="no rule matches")
    if rule.strategy is Strategy.POOL:
        return Decision(rule.key, rule.strategy, rule.group_key, None, pool_reason="the rule leaves it in the pool")
    steps: list[str] = []
    relaxed = rule.relax_after is not None and now - item.waiting_since >= rule.relax_after
    if relaxed and rule.min_optional:
        steps.append("optional skills relaxed: waited past relax_after")
    winner, considered = _pick(rule, item, roster.of(rule.group_key), relaxed)
    if winner is None and rule.strategy is Strategy.SKILL_MATCH and rule.min_optional and not relaxed:
        steps.append("optional skills relaxed: nobody held enough")
        winner, considered = _pick(rule, item, roster.of(rule.group_key), True)
    group = rule.group_key
    if winner is None and rule.overflow_group is not None:
        steps.append(f"overflow to {rule.overflow_group}: nobody in {rule.group_key} may take it")
        group = rule.overflow_group
        winner, overflowed = _pick(rule, item, roster.of(group), True)
        considered = (*considered, *overflowed)
    reason = None if winner is not None else "no eligible agent"
    return Decision(rule.key, rule.strategy, group, winner, considered, tuple(steps), reason)


def _pick(
    rule: DispatchRule, item: WorkItem, candidates: Sequence[Candidate], relaxed: bool
) -> tuple[str | None, tuple[Considered, ...]]:
    considered: list[Considered] = []
    eligible: list[tuple[tuple[float, ...], str]] = []
    for candidate in sorted(candidates, key=lambda c: c.user_id):
        why = exclusion(candidate, rule)
        held = len(rule.optional_skills & candidate.skills)
        if why is None and rule.strategy is Strategy.SKILL_MATCH and not relaxed and held < rule.min_optional:
            why = f"holds {held} of the {rule.min_optional} optional skills wanted"
        if why is not None:
            considered.append(Considered(candidate.user_id, excluded=why))
            continue
        score = _score(rule.strategy, candidate, held, item)
        considered.append(Considered(candidate.user_id, score=score))
        eligible.append((score, candidate.user_id))
    winner = min(eligible)[1] if eligible else None
    return winner, tuple(considered)


_NEVER = 0.0
"""An agent never assigned comes first in round robin."""


def _score(strategy: Strategy, candidate: Candidate, optional_held: int, item: WorkItem) -> tuple[float, ...]:
    """Lower wins; every score ends with the least recent assignment, so ties go round robin (then by id)."""
    recency = candidate.last_assigned_at.timestamp() if candidate.last_assigned_at else _NEVER
    if strategy is Strategy.STICKY:
        return (0.0 if candidate.user_id == item.previous_agent else 1.0, recency)
    if strategy is Strategy.LEAST_LOADED:
        return (candidate.load / candidate.capacity, recency)
    if strategy is Strategy.SKILL_MATCH:
        return (-float(optional_held), candidate.load / candidate.capacity, recency)
    return (recency,)


def weighted_load(priorities: Iterable[str]) -> int:
    """An agent's load from the priorities of their open items (PRIORITY_WEIGHTS; an unknown one as normal)."""
    return sum(PRIORITY_WEIGHTS.get(p, PRIORITY_WEIGHTS["normal"]) for p in priorities)
