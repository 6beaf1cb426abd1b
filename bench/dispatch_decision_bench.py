"""One 派单 decision with its reads, in-process on PostgreSQL (target: p50 < 5 ms): 500 agents in 25 groups of 20,
5 skills, capacities and shifts (group and agent calendars), 20,000 tickets of which 6,000 are held by the agents
(so that the roster's load counting reads real rows), and 200 rules on region × type, so that a typical ticket
matches one somewhere in the middle of the list (uniformly over it: the median at the hundredth).

Timed, each over the same pooled tickets: the dry run (`TicketService.simulate`, a read transaction: the ticket, the
rules from the in-process copy, the backlog count, the roster with its held work, the calendars) and the locked path
(`Dispatcher.place` in a write transaction, the ticket read first: the same reads, then the winner locked with
SKIP LOCKED and stamped), rolled back so that every call decides on the same state."""

from __future__ import annotations

import logging
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import asyncpg

from app.domain.clock import SystemClock
from app.domain.dispatch import Condition, DispatchRule, Strategy, Trigger
from app.domain.people import AgentData, GroupData
from app.domain.preconditions import NO_PRECONDITION
from app.domain.principal import Principal, Role
from app.persistence.unit_of_work import SqlUnitOfWorkFactory
from app.schemas.business_calendars import BusinessCalendarIn
from app.settings import Settings
from app.web.wiring import Services, build_services
from bench.database import throwaway_database
from bench.ticket_rows import CUSTOMERS, load_customers, plain_dsn
from bench.timings import Timing

log = logging.getLogger(__name__)

AGENTS = 500
GROUPS = 25
SKILLS = ("purifier", "water_heater", "dishwasher", "range_hood", "senior")
REGIONS = 50
TYPES = ("repair", "complaint", "installation", "consultation")
RULES = REGIONS * len(TYPES)  # 200: one per region and type
TICKETS = 20_000
HELD = 6_000
CAPACITY = 30
CALLS = 2_000
WARMUP = 100
TARGET_MS = 5.0
STRATEGIES = (Strategy.ROUND_ROBIN, Strategy.LEAST_LOADED, Strategy.SKILL_MATCH, Strategy.STICKY)

# Tickets 1…HELD are held (assigned or in progress) by agent g % AGENTS; the next CALLS wait in the pool, new and
# unassigned (the ones decided); the rest are finished. Region and type independent of each other and of the agent.
_TICKETS = """
INSERT INTO tickets (id, number, customer_no, channel, type, priority, status, title, description, tags,
    warranty_status, contact, attachments, assignee, escalation_level, urge_count, created_by, version, created_at,
    updated_at, region)
SELECT gen_random_uuid(), 'T-DD-' || g, 'C-B' || lpad((1 + g % $2::int)::text, 6, '0'), 'app',
    ($3::text[])[1 + (g / 7) % cardinality($3::text[])],
    (ARRAY['low', 'normal', 'normal', 'high', 'urgent'])[1 + g % 5],
    CASE WHEN g <= $4 THEN (ARRAY['assigned', 'in_progress'])[1 + g % 2]
         WHEN g <= $4 + $5 THEN 'new' ELSE (ARRAY['completed', 'closed'])[1 + g % 2] END,
    'Decision bench', 'A ticket to decide', '[]', 'unknown', '{}', '[]',
    CASE WHEN g <= $4 THEN 'dd-agent-' || lpad((g % $6::int)::text, 3, '0') END,
    0, 0, 'bench', 1, now() - make_interval(mins => $1::int - g), now() - make_interval(mins => $1::int - g),
    'R' || lpad((g % $7::int)::text, 2, '0')
FROM generate_series(1, $1::int) AS g
"""
_POOLED = "SELECT id FROM tickets WHERE status = 'new' AND assignee IS NULL ORDER BY id LIMIT $1"


@dataclass(frozen=True, slots=True)
class DecisionFigures:
    dry_run: Timing
    locked: Timing
    median_rule_position: float  # of the rules that decided, their place in the list (1 = first)
    assigned_share: float  # of the locked decisions, the share that found a winner
    candidates: float  # agents considered per decision, mean


async def measure() -> DecisionFigures:
    async with throwaway_database() as database_url:
        services = build_services(
            Settings(env="development", database_url=database_url, log_level="WARNING"), SystemClock()
        )
        try:
            await _seed(services, database_url)
            return await _time(services, database_url)
        finally:
            await services.aclose()


def _calendar(name: str, start: str, end: str) -> BusinessCalendarIn:
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    weekly = {day: [{"start": start, "end": end}] for day in days}
    return BusinessCalendarIn.model_validate({"name": name, "time_zone": "Asia/Shanghai", "weekly": weekly})


async def _seed(services: Services, database_url: str) -> None:
    log.info("seeding %d agents, %d rules and %s tickets", AGENTS, RULES, f"{TICKETS:,}")
    calendars = {"all-day": ("00:00", "24:00"), "day-shift": ("08:00", "20:00"), "night-shift": ("20:00", "24:00")}
    for key, (start, end) in calendars.items():
        await services.business_calendars.upsert(key, _calendar(key, start, end).to_data(), NO_PRECONDITION)
    for g in range(GROUPS):
        data = GroupData(name=f"组 {g}", calendar="all-day" if g % 2 else None)
        await services.people.upsert_group(_group(g), data, NO_PRECONDITION)
    for n in range(AGENTS):
        g = n % GROUPS
        skills = (SKILLS[g % len(SKILLS)], SKILLS[(g + 1 + n // GROUPS) % len(SKILLS)])
        # One agent in ten works nights (off shift in the daytime run), one in twenty is away.
        calendar = "night-shift" if n % 10 == 3 else ("day-shift" if n % 10 == 5 else None)
        data = AgentData(
            name=f"坐席 {n}",
            roles=frozenset({Role.AGENT}),
            groups=(_group(g),),
            skills=tuple(dict.fromkeys(skills)),
            max_open_tickets=CAPACITY,
            calendar=calendar,
            active=n % 50 != 7,
        )
        await services.people.upsert_agent(_agent(n), data, NO_PRECONDITION)
    for i in range(RULES):
        strategy = STRATEGIES[i % len(STRATEGIES)]
        group = i % GROUPS
        skill_match = strategy is Strategy.SKILL_MATCH
        rule = DispatchRule(
            key=f"rule-{i:03d}",
            position=(i + 1) * 10,
            name=f"规则 {i}",
            group_key=_group(group),
            strategy=strategy,
            conditions=(
                Condition("region", frozenset({f"R{i % REGIONS:02d}"})),
                Condition("type", frozenset({TYPES[i // REGIONS]})),
            ),
            required_skills=frozenset({SKILLS[group % len(SKILLS)]}) if skill_match else frozenset(),
            optional_skills=frozenset(SKILLS) - {SKILLS[group % len(SKILLS)]} if skill_match else frozenset(),
            min_optional=1 if skill_match else 0,
            relax_after=timedelta(minutes=30) if skill_match else None,
        )
        await services.dispatch_rules.upsert(rule, NO_PRECONDITION)
    conn = await asyncpg.connect(plain_dsn(database_url))
    try:
        await load_customers(conn)
        await conn.execute(_TICKETS, TICKETS, CUSTOMERS, list(TYPES), HELD, CALLS, AGENTS, REGIONS)
        await conn.execute("ANALYZE")
        away = [_agent(n) for n in range(AGENTS) if n % 20 == 11]
        await conn.execute("UPDATE agents SET availability = 'away' WHERE user_id = ANY($1)", away)
    finally:
        await conn.close()


def _group(g: int) -> str:
    return f"dd-group-{g:02d}"


def _agent(n: int) -> str:
    return f"dd-agent-{n:03d}"


async def _time(services: Services, database_url: str) -> DecisionFigures:
    conn = await asyncpg.connect(plain_dsn(database_url))
    try:
        pooled = [UUID(str(row["id"])) for row in await conn.fetch(_POOLED, CALLS)]
    finally:
        await conn.close()
    manager = Principal("dd-manager", frozenset({Role.MANAGER}))
    positions = {f"rule-{i:03d}": i + 1 for i in range(RULES)}
    dry, matched, considered = [], [], []
    log.info("timing %s dry-run decisions", f"{len(pooled):,}")
    for i, ticket_id in enumerate([*pooled[:WARMUP], *pooled]):
        started = time.perf_counter()
        decision, _now = await services.tickets.simulate(manager, ticket_id, None)
        if i >= WARMUP:
            dry.append((time.perf_counter() - started) * 1000)
            matched.append(positions.get(decision.rule_key or "", 0))
            considered.append(len(decision.considered))
    uow = SqlUnitOfWorkFactory(services.database)
    locked, winners = [], Counter[bool]()
    log.info("timing %s locked decisions, each rolled back", f"{len(pooled):,}")
    for i, ticket_id in enumerate([*pooled[:WARMUP], *pooled]):
        async with uow.write() as tx:
            started = time.perf_counter()
            ticket = await tx.tickets.get(ticket_id)
            if ticket is None:
                raise RuntimeError(f"pooled ticket {ticket_id} vanished")
            placement = await services.dispatcher.place(tx, ticket, Trigger.ON_DEMAND, services.clock.now())
            elapsed = (time.perf_counter() - started) * 1000
            # Leaving without commit rolls back: the next call decides on the same rows.
        if i >= WARMUP:
            locked.append(elapsed)
            winners[placement.assigned] += 1
    return DecisionFigures(
        dry_run=Timing("dry run (simulate)", dry),
        locked=Timing("locked (place, rolled back)", locked),
        median_rule_position=statistics.median(matched),
        assigned_share=winners[True] / max(1, sum(winners.values())),
        candidates=statistics.fmean(considered),
    )


def lines(f: DecisionFigures) -> list[str]:
    head = (
        f"dispatch decision, {AGENTS} agents in {GROUPS} groups, {RULES} rules, {TICKETS:,} tickets "
        f"({HELD:,} held), {len(f.dry_run.samples_ms):,} calls each: deciding rule at position "
        f"{f.median_rule_position:.0f} of {RULES} (median), {f.candidates:.0f} candidates considered, "
        f"{f.assigned_share:.0%} found a winner"
    )
    return [head] + [
        f"dispatch decision {t.label}: p50 {t.percentile(50):.2f} ms, p95 {t.percentile(95):.2f} ms, p99 "
        f"{t.percentile(99):.2f} ms (target p50 < {TARGET_MS:.0f} ms: {_verdict(t)})"
        for t in (f.dry_run, f.locked)
    ]


def _verdict(t: Timing) -> str:
    return "met" if t.percentile(50) < TARGET_MS else "NOT MET"


def failures(f: DecisionFigures) -> list[str]:
    return [
        f"FAILED dispatch decision {t.label}: p50 {t.percentile(50):.2f} ms (target < {TARGET_MS:.0f} ms)"
        for t in (f.dry_run, f.locked)
        if not t.percentile(50) < TARGET_MS
    ]
