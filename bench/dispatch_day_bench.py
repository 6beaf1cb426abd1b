"""A simulated working day of 派单 on PostgreSQL: 20,000 tickets over 8 hours from 32 intake clients, 50 agents in 5
pools on early and late shifts (Asia/Shanghai wall time), breaks and leave set through PUT
/v1/agents/{id}/availability, one agent deactivated, and agents who close or resolve their tickets as they finish
them, so that capacity frees and the backlog (待派单) is served; the backlog job runs every simulated minute.

The app runs in-process with a clock the bench moves: a minute at a time, and within a minute a tick before each
intake, so that no two intakes share an instant (as under a real clock). Each minute: the clock set to the minute,
the schedule's availability changes (nothing else in flight), the backlog job, then the minute's intakes and the
agents' work together. Arrivals peak mid-morning and mid-afternoon, symmetrically about the shift change, and pass
what the agents on shift can hold at the peaks, so that the backlog forms then and drains after.

Then the verdicts (bench.dispatch_day_audit) from the stored decisions and timeline against the bench's own record:
no assignment to an agent off shift, not available, inactive or at capacity; no ticket given twice; per pool, the
most over the fewest tickets assigned per eligible minute (on shift, available, active) at most 1.2; and no ticket
assigned past an older waiting ticket of its group, of the same or higher priority, that its winner could take."""

from __future__ import annotations

import asyncio
import gc
import logging
import math
import random
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import httpx
from asgi_lifespan import LifespanManager

from app.domain.errors import DomainError
from app.domain.ids import new_id
from app.domain.preconditions import NO_PRECONDITION
from app.domain.principal import Principal, Role
from app.main import create_app
from app.settings import Settings
from app.web.logging import configure_logging
from bench.database import throwaway_database
from bench.dispatch_day_audit import (
    AVAILABLE,
    INACTIVE,
    Audit,
    RuleNeeds,
    StoredDecision,
    StoredEntry,
    Truth,
    audit,
    load_ratio,
)
from bench.ticket_rows import plain_dsn

log = logging.getLogger(__name__)

TICKETS = 20_000
MINUTES = 8 * 60
CLIENTS = 32
AGENTS_PER_POOL = 10
CAPACITY = 6
ZONE = ZoneInfo("Asia/Shanghai")
SHIFTS = {"early": ("09:00", "13:30"), "late": ("12:30", "17:00")}
"""Half of each pool on each, an hour of overlap: the day runs 09:00–17:00 Shanghai time."""
SKILLS = ("purifier", "water_heater", "filter", "gas", "electric")
CUSTOMERS = 5_000
RATIO_TARGET = 1.2
PEAKS = ((90, 40.0, 1.2), (390, 40.0, 1.2))
"""(minute of the day, width, height over the base rate): 10:30 and 15:30, mirrored about 13:00 as the shifts are."""
PRIORITIES = (("low", 10), ("normal", 60), ("high", 20), ("urgent", 10))
TYPES = (("repair", 40), ("consultation", 30), ("complaint", 20), ("installation", 10))
RESOLVED_SHARE = 4
"""One ticket in this many is started and resolved (two actions); the others are closed (one)."""
SECRET = "dispatch-day-bench-secret-0123456789abcdef"
TOKEN_TTL = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class Pool:
    key: str
    regions: tuple[str, ...]
    strategy: str
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()  # each member holds one of them: skill_match then ranks them alike
    min_optional: int = 0


POOLS = (
    Pool("east", ("CN-31", "CN-32", "CN-33"), "skill_match", ("purifier",), ("filter", "electric"), 1),
    Pool("north", ("CN-11", "CN-12", "CN-13"), "round_robin"),
    Pool("south", ("CN-44", "CN-45", "CN-46"), "least_loaded"),
    Pool("west", ("CN-50", "CN-51", "CN-53"), "skill_match", ("water_heater",), ("gas", "electric"), 1),
    Pool("central", ("CN-41", "CN-42", "CN-43"), "round_robin"),
)
LEAVE = ((1, 60, 90, "away"), (3, 120, 165, "offline"), (6, 300, 360, "offline"), (8, 390, 410, "away"))
"""Per pool: (agent index, from minute, to minute, state), shifted by 7 minutes a pool: breaks and an hour off."""
DEACTIVATED = ("central", 9, 420)
"""(pool, agent index, minute): leaves the company mid-shift."""

_CUSTOMERS = """INSERT INTO customers (id, customer_no, name, level, region, contact_channels, version, created_at,
        updated_at)
    SELECT gen_random_uuid(), 'DD-' || lpad(g::text, 5, '0'), 'Day customer', 'regular', 'CN-31', '[]', 1, now(),
        now()
    FROM generate_series(1, $1::int) AS g"""
_HELD = (
    "SELECT id, assignee, updated_at FROM tickets WHERE status IN ('assigned', 'in_progress', 'waiting_on_customer')"
)
_DECISIONS = """SELECT id, subject_id, trigger, rule_key, strategy, group_key, winner, decided_at
    FROM dispatch_decisions WHERE NOT dry_run"""
_ENTRIES = """SELECT id, subject_id, action, to_status, payload->>'assignee' AS assignee
    FROM timeline WHERE kind = 'action'"""


@dataclass(frozen=True, slots=True)
class DayFigures:
    tickets: int
    created: int
    requests: int
    errors: int
    first_error: str | None
    setup_seconds: float
    day_seconds: float
    audit_seconds: float
    decisions: int
    leave_changes: int
    job_served: int
    found: Audit
    ratios: dict[str, float]
    assigned: dict[str, int]  # per pool


@dataclass(frozen=True, slots=True)
class Agent:
    user_id: str
    pool: Pool
    shift: str
    skills: tuple[str, ...]


def agents() -> list[Agent]:
    found = []
    for p, pool in enumerate(POOLS):
        for i in range(AGENTS_PER_POOL):
            if pool.optional:
                skills = (*pool.required, pool.optional[i % len(pool.optional)])
            else:
                skills = (SKILLS[(p + i) % len(SKILLS)],)
            shift = "early" if i < AGENTS_PER_POOL // 2 else "late"
            found.append(Agent(f"{pool.key}-{i:02d}", pool, shift, skills))
    return found


def day_start() -> datetime:
    """09:00 in Shanghai tomorrow: ahead of the real clock, which tokens and reference data are dated by."""
    tomorrow = datetime.now(ZONE).date() + timedelta(days=1)
    return datetime(tomorrow.year, tomorrow.month, tomorrow.day, 9, tzinfo=ZONE).astimezone(UTC)


def _seconds(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 3600 + int(minutes) * 60


def on_shift(shift: str, at: datetime) -> bool:
    """The bench's own reading of the shift (not the app's calendar engine): [start, end) in wall time, to the
    second."""
    wall = at.astimezone(ZONE)
    second = wall.hour * 3600 + wall.minute * 60 + wall.second
    start, end = SHIFTS[shift]
    return _seconds(start) <= second < _seconds(end)


def arrivals(total: int = TICKETS, minutes: int = MINUTES) -> list[int]:
    """Tickets per minute: a base rate with two peaks, rounded by largest remainder to exactly `total`."""
    weights = [
        1 + sum(height * math.exp(-(((m - at) / width) ** 2)) for at, width, height in PEAKS) for m in range(minutes)
    ]
    scale = total / sum(weights)
    exact = [w * scale for w in weights]
    counts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(minutes), key=lambda m: exact[m] - counts[m], reverse=True)
    for m in by_remainder[: total - sum(counts)]:
        counts[m] += 1
    return counts


def schedule() -> dict[int, list[tuple[str, str]]]:
    """Per minute, the (agent, state) changes the bench makes: leave taken and returned from, one deactivation."""
    changes: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for p, pool in enumerate(POOLS):
        for index, start, end, state in LEAVE:
            user_id = f"{pool.key}-{index:02d}"
            changes[start + 7 * p].append((user_id, state))
            changes[end + 7 * p].append((user_id, AVAILABLE))
    pool_key, index, minute = DEACTIVATED
    changes[minute].append((f"{pool_key}-{index:02d}", INACTIVE))
    return changes


def handling_minutes(ticket_id: UUID) -> int:
    """How long the holder takes over a ticket, 1 to 3 minutes, fixed per ticket."""
    return 1 + int(ticket_id.hex[-4:], 16) % 3


class SimClock:
    """Simulated time, moved by the bench; every reading is a microsecond after the one before, as a real clock's
    would be (round robin orders agents by when they were last given work, so readings that stand still would make
    its order fall back to ids)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def move_to(self, at: datetime) -> None:
        self.at = max(self.at, at)

    def now(self) -> datetime:
        self.at += _MICROSECOND
        return self.at


_MICROSECOND = timedelta(microseconds=1)


@dataclass(slots=True)
class _Record:
    """What the bench did and when, in markers (UUIDv7, comparable with the service's ids) and simulated time."""

    states: dict[str, list[tuple[UUID, str]]] = field(default_factory=lambda: defaultdict(list))
    timed_states: dict[str, list[tuple[datetime, str]]] = field(default_factory=lambda: defaultdict(list))
    started: dict[UUID, UUID] = field(default_factory=dict)
    ended: dict[UUID, UUID] = field(default_factory=dict)
    windows: list[tuple[UUID, UUID]] = field(default_factory=list)
    requests: int = 0
    errors: int = 0
    first_error: str | None = None
    created: int = 0
    job_served: int = 0

    def answered(self, response: httpx.Response, expected: int) -> bool:
        self.requests += 1
        if response.status_code == expected:
            return True
        self.refused(f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text}")
        return False

    def refused(self, why: str) -> None:
        self.errors += 1
        if self.first_error is None:
            self.first_error = why[:400]


class _Day:
    def __init__(self, app: Any, client: httpx.AsyncClient, conn: asyncpg.Connection, clock: SimClock) -> None:
        self.app, self.client, self.conn, self.clock = app, client, conn, clock
        self.services = app.state.services
        self.start = clock.at
        self.record = _Record()
        self.staff = agents()
        self.by_id = {a.user_id: a for a in self.staff}
        self._tokens: dict[str, dict[str, str]] = {}
        self.rng = random.Random(20_000)  # a repeatable day

    def headers(self, role: Role, subject: str) -> dict[str, str]:
        key = f"{role.value}:{subject}"
        if key not in self._tokens:
            token = self.services.tokens.issue(subject=subject, roles=[role], now=datetime.now(UTC), ttl=TOKEN_TTL)
            self._tokens[key] = {"Authorization": f"Bearer {token}"}
        return self._tokens[key]

    async def seed(self) -> None:
        admin = self.headers(Role.ADMIN, "day-admin")
        await self.conn.execute(_CUSTOMERS, CUSTOMERS)
        for key, (start, end) in SHIFTS.items():
            hours = [{"start": start, "end": end}]
            days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
            body = {"name": f"{key} shift", "time_zone": "Asia/Shanghai", "weekly": dict.fromkeys(days, hours)}
            await self._put(f"/v1/business-calendars/{key}", body, admin)
        for pool in POOLS:
            await self._put(f"/v1/groups/{pool.key}", {"name": f"{pool.key} pool"}, admin)
        for agent in self.staff:
            await self._put(f"/v1/agents/{agent.user_id}", self._agent_body(agent), admin)
        manager = {"name": "值班经理", "roles": ["manager"], "groups": [], "active": True}
        await self._put("/v1/agents/day-manager", manager, admin)
        for position, pool in enumerate(POOLS, start=1):
            rule: dict[str, Any] = {
                "name": f"{pool.key} regions",
                "position": position * 10,
                "conditions": [{"field": "region", "values": list(pool.regions)}],
                "group": pool.key,
                "strategy": pool.strategy,
                "required_skills": list(pool.required),
                "optional_skills": list(pool.optional),
                "min_optional": pool.min_optional,
            }
            if pool.min_optional:
                rule["relax_after_minutes"] = 10
            await self._put(f"/v1/dispatch-rules/{pool.key}", rule, admin)

    def _agent_body(self, agent: Agent, *, active: bool = True) -> dict[str, Any]:
        return {
            "name": agent.user_id,
            "roles": ["agent"],
            "groups": [agent.pool.key],
            "skills": list(agent.skills),
            "active": active,
            "max_open_tickets": CAPACITY,
            "calendar": agent.shift,
        }

    async def _put(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> None:
        response = await self.client.put(path, json=body, headers=headers)
        if response.status_code not in (200, 201):
            raise RuntimeError(f"seeding {path} answered {response.status_code}: {response.text[:300]}")

    def tickets(self) -> list[list[dict[str, Any]]]:
        regions = [region for pool in POOLS for region in pool.regions]
        priorities, priority_weights = zip(*PRIORITIES, strict=True)
        types, type_weights = zip(*TYPES, strict=True)
        minutes = []
        for count in arrivals(TICKETS, MINUTES):
            minutes.append(
                [
                    {
                        "customer_no": f"DD-{self.rng.randrange(1, CUSTOMERS + 1):05d}",
                        "channel": "app",
                        "type": self.rng.choices(types, type_weights)[0],
                        "priority": self.rng.choices(priorities, priority_weights)[0],
                        "title": "净化器异响",
                        "description": "开机后有明显异响，持续两天。",
                        "region": self.rng.choice(regions),
                    }
                    for _ in range(count)
                ]
            )
        return minutes

    async def run(self) -> None:
        changes = schedule()
        wall = time.perf_counter()
        for minute, intakes in enumerate(self.tickets()):
            at = self.start + timedelta(minutes=minute)
            self.clock.move_to(at)
            for user_id, state in changes.get(minute, ()):
                await self._change(user_id, state, at)
            began = new_id()
            self.record.job_served += await self.services.availability.serve_backlog()
            self.record.windows.append((began, new_id()))
            due = await self._due(at)
            queue = iter(enumerate(intakes))
            tick = timedelta(seconds=60 / (len(intakes) + 1))
            await asyncio.gather(
                *(self._intake(queue, at, tick) for _ in range(CLIENTS)),
                *(self._work(user_id, tickets) for user_id, tickets in due.items()),
            )
            if minute % 60 == 59:
                log.info(
                    "simulated %02d:00, %s tickets taken in, %.0f s",
                    10 + minute // 60,
                    f"{self.record.created:,}",
                    time.perf_counter() - wall,
                )

    async def _change(self, user_id: str, state: str, at: datetime) -> None:
        began = new_id()
        self.record.states[user_id].append((began, state))
        self.record.timed_states[user_id].append((at, state))
        if state == INACTIVE:
            body = self._agent_body(self.by_id[user_id], active=False)
            response = await self.client.put(f"/v1/agents/{user_id}", json=body, headers=self.headers(Role.ADMIN, "a"))
            self.record.answered(response, 200)
        else:
            headers = self.headers(Role.AGENT, user_id)
            body = {"availability": state}
            response = await self.client.put(f"/v1/agents/{user_id}/availability", json=body, headers=headers)
            self.record.answered(response, 200)
        self.record.windows.append((began, new_id()))

    async def _due(self, at: datetime) -> dict[str, list[UUID]]:
        """The tickets each working agent finishes this minute (held at least their handling time); agents on a
        break or off do not work, an agent off shift or deactivated finishes what they hold."""
        due: dict[str, list[UUID]] = defaultdict(list)
        for row in await self.conn.fetch(_HELD):
            user_id = row["assignee"]
            states = self.record.timed_states.get(user_id)
            if states and states[-1][1] not in (AVAILABLE, INACTIVE):
                continue
            if at - row["updated_at"] >= timedelta(minutes=handling_minutes(row["id"])):
                due[user_id].append(row["id"])
        return due

    async def _intake(self, queue: Iterator[tuple[int, dict[str, Any]]], minute: datetime, tick: timedelta) -> None:
        headers = self.headers(Role.INTEGRATION, "day-intake")
        for i, body in queue:
            self.clock.move_to(minute + tick * (i + 1))
            began = new_id()
            response = await self.client.post("/v1/tickets", json=body, headers=headers)
            ended = new_id()
            if self.record.answered(response, 201):
                ticket_id = UUID(response.json()["id"])
                self.record.started[ticket_id], self.record.ended[ticket_id] = began, ended
                self.record.created += 1

    async def _work(self, user_id: str, tickets: list[UUID]) -> None:
        """The agent's actions, one after the other, through the ticket service's use case (the route's own call):
        the HTTP layer is measured by the intakes, and leaving it out here keeps the day within minutes."""
        principal = Principal(user_id, frozenset({Role.AGENT}))
        for ticket_id in tickets:
            steps: list[tuple[str, dict[str, Any]]] = [("close", {"reason": "other", "remark": "电话指导已解决"})]
            if ticket_id.int % RESOLVED_SHARE == 0:
                steps = [("start", {}), ("resolve", {"solution": "更换风机", "labour_cost": 5000})]
            for action, body in steps:
                began = new_id()
                try:
                    await self.services.tickets.act(principal, ticket_id, action, body, NO_PRECONDITION)
                    refused = None
                except DomainError as error:
                    refused = f"{action} on {ticket_id} by {user_id}: {error}"
                self.record.windows.append((began, new_id()))
                self.record.requests += 1
                if refused is not None:
                    self.record.refused(refused)
                    break

    def eligible_minutes(self) -> dict[str, float]:
        """Minutes each agent was on shift, available and active, by the bench's schedule, sampled mid-minute."""
        found: dict[str, float] = {}
        for agent in self.staff:
            changes = self.record.timed_states.get(agent.user_id, [])
            minutes = 0
            for m in range(MINUTES):
                at = self.start + timedelta(minutes=m, seconds=30)
                state = next((s for t, s in reversed(changes) if t <= at), AVAILABLE)
                minutes += state == AVAILABLE and on_shift(agent.shift, at)
            found[agent.user_id] = float(minutes)
        return found

    async def truth(self) -> Truth:
        rules = {
            pool.key: RuleNeeds(frozenset(pool.required), frozenset(pool.optional), pool.min_optional) for pool in POOLS
        }
        priority = {row["id"]: row["priority"] for row in await self.conn.fetch("SELECT id, priority FROM tickets")}
        return Truth(
            on_shift=lambda user_id, at: user_id in self.by_id and on_shift(self.by_id[user_id].shift, at),
            capacity=dict.fromkeys(self.by_id, CAPACITY),
            groups={a.user_id: frozenset({a.pool.key}) for a in self.staff},
            skills={a.user_id: frozenset(a.skills) for a in self.staff},
            rules=rules,
            priority=priority,
            states=self.record.states,
            started=self.record.started,
            ended=self.record.ended,
            windows=self.record.windows,
        )


async def measure() -> DayFigures:
    async with throwaway_database() as database_url:
        return await _simulate(database_url)


async def _simulate(database_url: str) -> DayFigures:
    began = time.perf_counter()
    configure_logging("WARNING", json=True)  # the app's request lines would cost the day its pace
    clock = SimClock(day_start())
    settings = Settings(
        env="development",
        database_url=database_url,
        jwt_secret=SECRET,  # type: ignore[arg-type]
        log_level="WARNING",
        run_workers_in_process=False,
        database_pool_size=48,
    )
    app = create_app(settings, clock=clock)
    conn = await asyncpg.connect(plain_dsn(database_url))
    try:
        async with (
            LifespanManager(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://day", timeout=60) as client,
        ):
            day = _Day(app, client, conn, clock)
            await day.seed()
            gc.collect()
            gc.freeze()  # the app's import-time objects: as app_from_env does for the server
            setup = time.perf_counter() - began
            log.info("simulating a working day: %s tickets over %d minutes", f"{TICKETS:,}", MINUTES)
            started = time.perf_counter()
            await day.run()
            day_seconds = time.perf_counter() - started
            started = time.perf_counter()
            decisions = [
                StoredDecision(
                    r["id"],
                    r["subject_id"],
                    r["trigger"],
                    r["rule_key"],
                    r["strategy"],
                    r["group_key"],
                    r["winner"],
                    r["decided_at"],
                )
                for r in await conn.fetch(_DECISIONS)
            ]
            entries = [
                StoredEntry(r["id"], r["subject_id"], r["action"], r["to_status"], r["assignee"])
                for r in await conn.fetch(_ENTRIES)
            ]
            found = audit(decisions, entries, await day.truth())
            eligible = day.eligible_minutes()
            ratios, assigned = {}, {}
            for pool in POOLS:
                members = {a.user_id for a in day.staff if a.pool is pool}
                ratios[pool.key] = load_ratio(found.assignments, {u: eligible[u] for u in members})
                assigned[pool.key] = sum(found.assignments[u] for u in members)
            audit_seconds = time.perf_counter() - started
    finally:
        gc.unfreeze()
        await conn.close()
    record = day.record
    return DayFigures(
        tickets=TICKETS,
        created=record.created,
        requests=record.requests,
        errors=record.errors,
        first_error=record.first_error,
        setup_seconds=setup,
        day_seconds=day_seconds,
        audit_seconds=audit_seconds,
        decisions=len(decisions),
        leave_changes=sum(len(changes) for changes in record.states.values()),
        job_served=record.job_served,
        found=found,
        ratios=ratios,
        assigned=assigned,
    )


def lines(f: DayFigures) -> list[str]:
    a = f.found
    ineligible = sum(a.ineligible.values())
    reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(a.ineligible.items())) or "none"
    pools = ", ".join(f"{key} {ratio:.2f} ({f.assigned[key]:,})" for key, ratio in f.ratios.items())
    waiting = ", ".join(f"{key} {a.most_waiting.get(key, 0)}" for key in f.ratios)
    out = [
        f"dispatch day: {f.created:,} of {f.tickets:,} tickets over {MINUTES // 60} simulated hours, {CLIENTS} intake "
        f"clients, {len(agents())} agents in {len(POOLS)} pools, {f.leave_changes} availability changes; "
        f"{f.requests:,} requests and agents' actions, {f.errors} not answered as expected; "
        f"wall time {f.day_seconds:.0f} s (setup {f.setup_seconds:.0f} s, audit {f.audit_seconds:.1f} s)",
        f"dispatch day: {f.decisions:,} decisions, {sum(a.assignments.values()):,} assignments "
        f"({f.job_served:,} by the backlog job); longest backlog per pool: {waiting}; "
        f"{a.waiting_at_end} left waiting at 17:00",
        f"dispatch day: assignments to ineligible agents {ineligible} (target 0: {reasons}); "
        f"double assignments {a.double} (target 0)",
        f"dispatch day: load ratio per pool, most / fewest tickets per eligible minute (target ≤ {RATIO_TARGET:.1f}; "
        f"tickets assigned): {pools}",
        f"dispatch day: assigned past an older waiting ticket of the group its winner could take {a.backlog_jumps} "
        f"(target 0); while such a ticket's wait was being committed {a.backlog_overlaps} (not counted)",
    ]
    if f.first_error:
        out.append(f"dispatch day: first unexpected answer: {f.first_error}")
    out += [f"dispatch day: e.g. {example}" for example in a.examples]
    return out


def failures(f: DayFigures) -> list[str]:
    a = f.found
    found = []
    if f.errors or f.created != f.tickets:
        found.append(f"FAILED dispatch day: {f.errors} requests not answered as expected ({f.first_error})")
    if sum(a.ineligible.values()):
        found.append(f"FAILED dispatch day: {sum(a.ineligible.values())} assignments to ineligible agents")
    if a.double:
        found.append(f"FAILED dispatch day: {a.double} double assignments")
    for key, ratio in f.ratios.items():
        if not ratio <= RATIO_TARGET:
            found.append(f"FAILED dispatch day: pool {key} load ratio {ratio:.2f} (target ≤ {RATIO_TARGET:.1f})")
    if a.backlog_jumps:
        found.append(f"FAILED dispatch day: {a.backlog_jumps} assignments past an older waiting ticket")
    return found
