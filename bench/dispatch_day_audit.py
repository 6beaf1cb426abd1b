"""The day simulation's verdicts, computed from what the service stored (its decisions and timeline) against the
bench's own record of the truth (shifts, availability, capacities, when each request ran): pure, so that the checks
themselves are tested on small hand-made histories.

Order: every id the service writes and every marker the bench takes is a UUIDv7 from the same process, strictly
increasing (uuid6 bumps the millisecond when two fall in one), so sorting by id replays the day in the order things
happened. A decision's record id is drawn after its reads and its locks, before its commit; a release's timeline id
before its commit. So an assignment counted before a decision was committed before that decision read (the winner's
lock serialises assignments to one agent), and a release counted before it may still have been in flight: the held
counts replayed here are never higher than what the decision could see, and an over-capacity finding is real."""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

HELD = frozenset({"assigned", "in_progress", "waiting_on_customer"})
"""The states that count against the holder's capacity (app.domain.tickets.HELD_STATES)."""
RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
"""Backlog order: the most urgent first (app.services.dispatch.PRIORITY_RANK)."""
AVAILABLE = "available"
INACTIVE = "inactive"  # the bench's own state for an agent deactivated by their record


@dataclass(frozen=True, slots=True)
class StoredDecision:
    """A row of dispatch_decisions (dry runs left out)."""

    id: UUID
    ticket: UUID
    trigger: str
    rule: str | None
    strategy: str
    group: str | None
    winner: str | None
    decided_at: datetime

    @property
    def waits(self) -> bool:
        """Left in the backlog (app.domain.dispatch.Decision.waits)."""
        return self.winner is None and self.rule is not None and self.strategy != "pool"


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """A timeline entry of a ticket: a `dispatch` entry names whom it went to (None: the pool)."""

    id: UUID
    ticket: UUID
    action: str
    to_status: str | None
    assignee: str | None = None


@dataclass(frozen=True, slots=True)
class RuleNeeds:
    required: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()
    min_optional: int = 0


@dataclass(frozen=True, slots=True)
class Truth:
    """What the bench knows for itself. `states`: per agent, (marker, state) in marker order, `available` before
    the first; `started` and `ended`: per ticket, the markers taken before its intake request was sent and once it
    had answered; `windows`: (start, end) markers of every other request the bench made (and of the backlog job)."""

    on_shift: Callable[[str, datetime], bool]
    capacity: Mapping[str, int | None]
    groups: Mapping[str, frozenset[str]]  # agent -> groups
    skills: Mapping[str, frozenset[str]]
    rules: Mapping[str, RuleNeeds]
    priority: Mapping[UUID, str]
    states: Mapping[str, Sequence[tuple[UUID, str]]] = field(default_factory=dict)
    started: Mapping[UUID, UUID] = field(default_factory=dict)
    ended: Mapping[UUID, UUID] = field(default_factory=dict)
    windows: Sequence[tuple[UUID, UUID]] = ()

    def state(self, agent: str, at: UUID) -> str:
        log = self.states.get(agent, ())
        i = bisect.bisect_left([marker for marker, _ in log], at)
        return log[i - 1][1] if i else AVAILABLE

    def eligible_for(self, agent: str, rule: str | None) -> bool:
        """Whether the agent holds what the rule asks (its group, capacity and presence are the caller's)."""
        needs = self.rules.get(rule or "", RuleNeeds())
        skills = self.skills.get(agent, frozenset())
        return needs.required <= skills and len(needs.optional & skills) >= needs.min_optional


@dataclass(slots=True)
class Audit:
    assignments: Counter[str] = field(default_factory=Counter)  # per agent
    ineligible: Counter[str] = field(default_factory=Counter)  # per reason
    double: int = 0
    backlog_jumps: int = 0  # assigned past an older ticket its winner could take, waiting all through the request
    backlog_overlaps: int = 0  # the same, but that ticket's wait was committed, or it was taken, during the request
    most_waiting: Counter[str] = field(default_factory=Counter)  # per group, the longest the backlog got
    waiting_at_end: int = 0
    examples: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if len(self.examples) < 5:
            self.examples.append(text)


@dataclass(frozen=True, slots=True)
class _Waiting:
    key: tuple[datetime, UUID]  # (waiting since, ticket id): the backlog's own order among equal priorities
    rank: int
    rule: str | None
    visible: UUID  # by when its wait was surely committed
    left: UUID | None  # the assignment that took it out of the backlog (None: it still waits at the end)


def audit(decisions: Iterable[StoredDecision], entries: Iterable[StoredEntry], truth: Truth) -> Audit:
    """Replay the day in id order: who held what when, who waited in which backlog, and every assignment judged."""
    events: list[StoredDecision | StoredEntry] = sorted([*decisions, *entries], key=lambda e: e.id)
    assignments = [e for e in events if isinstance(e, StoredDecision) and e.winner]
    spans = _request_spans(assignments, truth)
    visible = _commits([e for e in events if isinstance(e, StoredDecision) and e.waits], truth)
    taken: dict[UUID, list[UUID]] = defaultdict(list)  # per ticket, its assignments in order
    for decision in assignments:
        taken[decision.ticket].append(decision.id)
    holder: dict[UUID, str] = {}
    held: Counter[str] = Counter()
    waiting: dict[str, dict[UUID, _Waiting]] = defaultdict(dict)
    found = Audit()
    for event in events:
        if isinstance(event, StoredEntry):
            _replay_entry(event, holder, held)
        elif event.winner is not None:
            _judge(event, spans.get(event.id, (event.id, event.id)), truth, holder, held, waiting, found)
            for group in waiting.values():
                group.pop(event.ticket, None)
        elif event.waits and event.group is not None and all(event.ticket not in g for g in waiting.values()):
            rank = RANK.get(truth.priority.get(event.ticket, "normal"), RANK["normal"])
            waiting[event.group][event.ticket] = _Waiting(
                (event.decided_at, event.ticket), rank, event.rule, visible.get(event.id, event.id), _next(taken, event)
            )
            found.most_waiting[event.group] = max(found.most_waiting[event.group], len(waiting[event.group]))
    found.waiting_at_end = sum(len(group) for group in waiting.values())
    return found


def _replay_entry(entry: StoredEntry, holder: dict[UUID, str], held: Counter[str]) -> None:
    if entry.action == "dispatch":
        previous = holder.pop(entry.ticket, None)
        if previous is not None:
            held[previous] -= 1
        if entry.assignee is not None and entry.to_status in HELD:
            holder[entry.ticket] = entry.assignee
            held[entry.assignee] += 1
    elif entry.to_status is not None and entry.to_status not in HELD and entry.ticket in holder:
        held[holder.pop(entry.ticket)] -= 1


def _judge(
    decision: StoredDecision,
    span: tuple[UUID, UUID],
    truth: Truth,
    holder: Mapping[UUID, str],
    held: Counter[str],
    waiting: Mapping[str, Mapping[UUID, _Waiting]],
    found: Audit,
) -> None:
    """`span`: when the request that took the decision began and answered (as far as the bench can tell)."""
    winner = present(decision.winner)
    found.assignments[winner] += 1
    reasons = []
    if not truth.on_shift(winner, decision.decided_at):
        reasons.append("off shift")
    state = truth.state(winner, decision.id)
    if state != AVAILABLE:
        reasons.append(state)
    limit = truth.capacity.get(winner)
    if limit is not None and held[winner] >= limit:
        reasons.append("over capacity")
    for reason in reasons:
        found.ineligible[reason] += 1
    if reasons:
        found.note(f"{decision.ticket} to {winner} at {decision.decided_at:%H:%M:%S} UTC: {', '.join(reasons)}")
    current = holder.get(decision.ticket)
    if current is not None and not (decision.trigger == "rebalance" and current != winner):
        found.double += 1
        found.note(f"{decision.ticket} given to {winner} while {current} held it ({decision.trigger})")
    if decision.group not in truth.groups.get(winner, frozenset()):
        return  # overflowed out of its group: that group's backlog is not the winner's to serve
    group = waiting.get(decision.group or "", {})
    own = group.get(decision.ticket)
    key = own.key if own is not None else (decision.decided_at, decision.ticket)
    rank = RANK.get(truth.priority.get(decision.ticket, "normal"), RANK["normal"])
    overlap = False
    for ticket, wait in group.items():
        if ticket == decision.ticket or wait.rank > rank or wait.key >= key:
            continue
        if not truth.eligible_for(winner, wait.rule) or wait.visible > decision.id:
            continue
        if wait.visible < span[0] and (wait.left is None or wait.left > span[1]):  # it waited all along
            found.backlog_jumps += 1
            found.note(f"{decision.ticket} given to {winner} while {ticket} waited longer in {decision.group}")
            return
        overlap = True
    found.backlog_overlaps += overlap


def _next(taken: Mapping[UUID, Sequence[UUID]], wait: StoredDecision) -> UUID | None:
    ids = taken.get(wait.ticket, ())
    i = bisect.bisect_right(ids, wait.id)
    return ids[i] if i < len(ids) else None


def _request_spans(assignments: Sequence[StoredDecision], truth: Truth) -> dict[UUID, tuple[UUID, UUID]]:
    """When the request that took each assignment began and answered: its intake's own markers, else the earliest
    start and the latest end among the bench's requests under way at that moment (wider than the truth: fewer
    jumps called certain)."""
    windows = sorted(truth.windows)
    spans: dict[UUID, tuple[UUID, UUID]] = {}
    active: list[tuple[UUID, UUID]] = []
    i = 0
    for decision in sorted(assignments, key=lambda d: d.id):
        if decision.trigger == "intake" and decision.ticket in truth.started:
            spans[decision.id] = (truth.started[decision.ticket], truth.ended.get(decision.ticket, decision.id))
            continue
        while i < len(windows) and windows[i][0] <= decision.id:
            active.append(windows[i])
            i += 1
        active = [w for w in active if w[1] >= decision.id]
        if active:
            spans[decision.id] = (min(start for start, _end in active), max(end for _start, end in active))
    return spans


def _commits(waits: Sequence[StoredDecision], truth: Truth) -> dict[UUID, UUID]:
    """By when each wait was surely committed: its intake's answer, else the latest end among the bench's requests
    under way at that moment (later than the truth: fewer jumps called certain)."""
    windows = sorted(truth.windows)
    found: dict[UUID, UUID] = {}
    for decision in waits:
        if decision.trigger == "intake" and decision.ticket in truth.ended:
            found[decision.id] = truth.ended[decision.ticket]
            continue
        under_way = [
            end for start, end in windows[: bisect.bisect_right(windows, (decision.id,))] if end >= decision.id
        ]
        if under_way:
            found[decision.id] = max(under_way)
    return found


def load_ratio(assigned: Mapping[str, int], eligible_minutes: Mapping[str, float]) -> float:
    """Most over fewest tickets assigned per eligible minute, among agents who were eligible at all."""
    rates = [assigned.get(agent, 0) / minutes for agent, minutes in eligible_minutes.items() if minutes > 0]
    if not rates:
        return float("nan")
    low = min(rates)
    return max(rates) / low if low > 0 else float("inf")


def present(value: str | None) -> str:
    if value is None:
        raise ValueError("a winner was expected")
    return value
