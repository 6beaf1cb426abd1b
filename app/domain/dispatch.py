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
from typing import Protocol
from uuid import UUID

from app.domain.pagination import Page, PageRequest
from app.domain.people import Availability
from app.domain.tickets import Ticket


class DispatchField(StrEnum):
    TYPE = "type"
    CATEGORY = "category"
    TAGS = "tags"
    PRIORITY = "priority"
    CHANNEL = "channel"
    CUSTOMER_LEVEL = "customer_level"
    REGION = "region"
    PRODUCT_LINE = "product_line"
    BUSINESS_LINE = "business_line"
    HIGH_RISK = "high_risk"
    CONTRACT_SLA_LEVEL = "contract_sla_level"


DISPATCH_FIELDS = frozenset(name.value for name in DispatchField)
"""The fields of a ticket a rule's conditions may name: its own, its product's line (`product_line`, which is the
ticket's `business_line`), its customer's level (`vip` is a level) and contract SLA level, and whether it is flagged
high-risk (`high_risk` is "true" or "false")."""
CUSTOMER_FIELDS = frozenset({"customer_level", "contract_sla_level"})
"""Facts read from the customer's records: read only while some rule conditions on them."""
PRIORITY_WEIGHTS: Mapping[str, int] = {"low": 1, "normal": 2, "high": 3, "urgent": 4}
"""How much one open item of each priority weighs in an agent's load (`least_loaded`), in halves of a normal one."""
TYPE_WEIGHTS: Mapping[str, int] = {"complaint": 2, "repair": 2, "installation": 2}
"""Types that take more work than a question (客诉, on-site 维修/安装) weigh double; every other type once."""
NOMINAL_CAPACITY = 20
"""The capacity `least_loaded` divides by for an agent without an open-ticket limit (who is never at capacity)."""


class Strategy(StrEnum):
    ROUND_ROBIN = "round_robin"  # the eligible agent assigned least recently
    LEAST_LOADED = "least_loaded"  # the lowest weighted open work per unit of capacity
    SKILL_MATCH = "skill_match"  # every required skill, the most optional ones
    STICKY = "sticky"  # the customer's previous agent when eligible, else round robin
    POOL = "pool"  # left in the claim pool (领取), its group notified


class Trigger(StrEnum):
    """What made dispatch run."""

    INTAKE = "intake"
    TRANSFER = "transfer"  # handed to a group's pool
    REOPEN = "reopen"  # reopened into the pool
    ON_DEMAND = "on_demand"  # a manager's `dispatch` action
    REBALANCE = "rebalance"  # its agent went offline, or a manager rebalanced them
    BACKLOG = "backlog"  # capacity freed while it waited
    SIMULATION = "simulation"  # a dry run: nothing is assigned


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
    name: str = ""
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
    PRIORITY_WEIGHTS and TYPE_WEIGHTS, `open_items` its count, `capacity` the most open items they may hold (None:
    no limit)."""

    user_id: str
    active: bool
    availability: Availability
    on_shift: bool
    capacity: int | None
    open_items: int = 0
    load: int = 0
    skills: frozenset[str] = frozenset()
    last_assigned_at: datetime | None = None
    takes_tickets: bool = True  # holds a role that is assigned tickets
    assignments: int = 0  # how many times they were given work: the read is current while the count is as read


@dataclass(frozen=True, slots=True)
class AsRead:
    """A ranked agent as the decision read them: given work `assignments` times then; `limited` when a capacity
    binds them (a stale read of an agent without one can only unbalance the load, not exceed a limit)."""

    user_id: str
    assignments: int
    limited: bool


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
    ranked: tuple[str, ...] = ()  # the eligible agents of `group_key`, best first (the winner is the first free one)

    @property
    def waits(self) -> bool:
        """Left for capacity to free (the backlog), rather than by a rule that pools its work or by no rule."""
        return self.winner is None and self.rule_key is not None and self.strategy is not Strategy.POOL


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """A stored decision: what it was about, why it ran and when."""

    id: UUID
    subject_id: UUID
    trigger: Trigger
    decision: Decision
    decided_at: datetime
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class DispatchRuleRecord:
    id: UUID
    data: DispatchRule
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Member:
    """An agent as a member of one of the decision's groups, read with their held work; whether they are on shift
    comes from their calendar, else their group's (None: always on)."""

    group_key: str
    user_id: str
    candidate: Candidate
    calendar: str | None


class DispatchRepository(Protocol):
    async def roster(
        self, group_keys: Iterable[str], waiting_for: str | None, before: datetime
    ) -> tuple[list[Member], int]:
        """The members of `group_keys`, each with their open work (`on_shift` is left True for the caller), and how
        many tickets wait in the backlog of group `waiting_for` since before `before` (0 for None)."""
        ...

    async def give_first(self, ranked: Sequence[AsRead], now: datetime, *, by_recency: bool) -> str | None:
        """Lock and stamp (`last_assigned_at` = `now`, one more assignment) the first of `ranked` whom no concurrent
        assignment holds and whose read is current; failing that, of those without a capacity limit whose read is
        stale, the one given work least recently; `by_recency` (round robin): whoever of them all was given work
        least recently when locked. None when there is none."""
        ...

    async def wait_for(self, user_id: str) -> None:
        """Wait until no concurrent assignment holds the agent, holding nothing afterwards."""
        ...

    async def lock_agent(self, user_id: str) -> tuple[int | None, int] | None: ...
    async def stamp(self, user_id: str, now: datetime) -> None: ...
    async def previous_agent(self, customer_no: str, ticket_id: UUID) -> str | None: ...
    async def add_decision(self, record: DecisionRecord) -> None: ...
    async def decisions(self, subject_id: UUID, page: PageRequest) -> Page[DecisionRecord]: ...
    async def wait(self, ticket_id: UUID, group_key: str, priority_rank: int, since: datetime) -> None: ...
    async def leave_backlog(self, ticket_ids: Sequence[UUID]) -> None: ...
    async def backlog(self, group_keys: Iterable[str] | None, limit: int) -> list[UUID]: ...
    async def held_by(self, user_id: str, statuses: Sequence[str], limit: int) -> tuple[list[UUID], int]:
        """Up to `limit` of the agent's tickets in `statuses`, oldest first, locked (those another change holds are
        skipped), and how many they hold in all."""
        ...


class DispatchRuleRepository(Protocol):
    async def get(self, key: str, *, for_update: bool = False) -> DispatchRuleRecord | None: ...
    async def add(self, record: DispatchRuleRecord) -> None: ...
    async def update(self, record: DispatchRuleRecord) -> None: ...
    async def delete(self, key: str) -> None: ...
    async def ordered(self) -> list[DispatchRule]: ...
    async def list(self, page: PageRequest) -> Page[DispatchRuleRecord]: ...
    async def held_skills(self, skills: set[str]) -> set[str]:
        """Which of `skills` some agent holds."""
        ...


@dataclass(frozen=True, slots=True)
class Roster:
    """The candidates of each group, as read for one decision."""

    by_group: Mapping[str, Sequence[Candidate]] = field(default_factory=dict)

    def of(self, group_key: str) -> Sequence[Candidate]:
        return self.by_group.get(group_key, ())


def ticket_facts(
    ticket: Ticket, customer_level: str | None = None, contract_sla_level: str | None = None
) -> dict[str, frozenset[str]]:
    """What the rules see of a ticket (DISPATCH_FIELDS); an unset field holds nothing, so no condition on it holds."""
    single = {
        "type": ticket.type.value,
        "priority": ticket.priority.value,
        "channel": ticket.channel.value,
        "category": ticket.category,
        "region": ticket.region,
        "product_line": ticket.business_line,
        "business_line": ticket.business_line,
        "customer_level": customer_level,
        "contract_sla_level": contract_sla_level,
        "high_risk": "true" if ticket.risk_flagged_at is not None else "false",
    }
    facts = {name: frozenset({value}) for name, value in single.items() if value is not None}
    return facts | {"tags": frozenset(ticket.tags)}


def first_rule(rules: Iterable[DispatchRule], item: WorkItem) -> DispatchRule | None:
    """The first rule, by position, whose conditions all hold."""
    return next((rule for rule in sorted(rules, key=lambda r: (r.position, r.key)) if rule.matches(item)), None)


def exclusion(candidate: Candidate, rule: DispatchRule) -> str | None:
    """Why this agent may not take the work now, or None: inactive, not available, off shift, at capacity, or
    missing a required skill."""
    if not candidate.active:
        return "inactive"
    if not candidate.takes_tickets:
        return "lacks the agent role"
    if candidate.availability is not Availability.AVAILABLE:
        return f"availability {candidate.availability}"
    if not candidate.on_shift:
        return "off shift"
    if candidate.capacity is not None and candidate.open_items >= candidate.capacity:
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
    ranked, considered = _rank(rule, item, roster.of(rule.group_key), relaxed)
    if not ranked and rule.strategy is Strategy.SKILL_MATCH and rule.min_optional and not relaxed:
        steps.append("optional skills relaxed: nobody held enough")
        ranked, considered = _rank(rule, item, roster.of(rule.group_key), True)
    group = rule.group_key
    if not ranked and rule.overflow_group is not None:
        steps.append(f"overflow to {rule.overflow_group}: nobody in {rule.group_key} may take it")
        group = rule.overflow_group
        ranked, overflowed = _rank(rule, item, roster.of(group), True)
        considered = (*considered, *overflowed)
    winner = ranked[0] if ranked else None
    reason = None if winner is not None else "no eligible agent"
    return Decision(rule.key, rule.strategy, group, winner, considered, tuple(steps), reason, ranked)


def _rank(
    rule: DispatchRule, item: WorkItem, candidates: Sequence[Candidate], relaxed: bool
) -> tuple[tuple[str, ...], tuple[Considered, ...]]:
    """The eligible candidates best first, and every candidate as considered."""
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
    return tuple(user_id for _score_, user_id in sorted(eligible)), tuple(considered)


_NEVER = 0.0
"""An agent never assigned comes first in round robin."""


def _score(strategy: Strategy, candidate: Candidate, optional_held: int, item: WorkItem) -> tuple[float, ...]:
    """Lower wins; every score ends with the least recent assignment, so ties go round robin (round robin's own ties,
    as under a clock that stands still, to the fewer open items, then by id)."""
    recency = candidate.last_assigned_at.timestamp() if candidate.last_assigned_at else _NEVER
    if strategy is Strategy.STICKY:
        return (0.0 if candidate.user_id == item.previous_agent else 1.0, recency)
    share = candidate.load / (candidate.capacity or NOMINAL_CAPACITY)
    if strategy is Strategy.LEAST_LOADED:
        return (share, recency)
    if strategy is Strategy.SKILL_MATCH:
        return (-float(optional_held), share, recency)
    return (recency, float(candidate.open_items))


def item_weight(priority: str, type_: str) -> int:
    """What one open item weighs in its holder's load (an unknown priority as normal)."""
    return PRIORITY_WEIGHTS.get(priority, PRIORITY_WEIGHTS["normal"]) * TYPE_WEIGHTS.get(type_, 1)


def weighted_load(items: Iterable[tuple[str, str]]) -> int:
    """An agent's load from the (priority, type) of their open items."""
    return sum(item_weight(priority, type_) for priority, type_ in items)
