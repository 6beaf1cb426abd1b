"""The SLA clock at scale: open tickets with clock logs and timers bulk-loaded by SQL (10,000, 100,000, and
--tickets when larger); the idle timer scan at each size (it reads the due_at index, so it must not grow), the scan
that acts on K breaches, the re-derivation of every open ticket's timer after a calendar edit, how late a running
`aftersales worker` acts on breaches whose deadlines fall while it runs, and ticket intake through the running
service with SLA off (no policy) and on (a default policy with targets), in alternating pairs of runs."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import httpx

from app.domain.ids import new_id
from app.domain.principal import Role
from app.domain.sla_clock import ClockEvent, ClockEventKind, derive_all, next_due
from app.domain.sla_policies import Target
from app.settings import Settings
from app.web.wiring import build_services
from bench import report
from bench.harness import Harness, run_worker
from bench.load import Result
from bench.scenarios import CUSTOMER_NO, bearer_headers
from bench.server import Server
from bench.ticket_requests import create_tickets
from bench.ticket_rows import plain_dsn

log = logging.getLogger(__name__)

SIZES = (10_000, 100_000)
"""Open tickets the idle scan is timed at; --tickets adds itself when larger."""
CHUNK = 50_000
BREACHES = 200
IDLE_RUNS = 20
REDERIVE_TARGET_SECONDS = 60.0  # per 100,000 open tickets
SLA_RATIO_TARGET = 0.85  # create-ticket throughput with SLA on over off
CREATE_PAIRS = 3
CALENDAR = "bench-sla"
POLICY = "bench-default"
ZONE = ZoneInfo("Asia/Shanghai")
TARGET_SECONDS = 30 * 9 * 3600  # thirty working days of 09:00-18:00: every deadline is weeks ahead
STALE_DUE = timedelta(days=365)
"""Where the loaded timers point: far ahead of any deadline, so nothing is due and every re-derivation moves them."""
LATE_TICKETS = 300
LATE_SPREAD = timedelta(seconds=30)
"""The late tickets' deadlines, evenly over this window: every phase of the worker's poll is met."""
LATE_LEAD = timedelta(seconds=2)  # from the worker's first breach to the first measured deadline
LATE_TARGET_SECONDS = 120  # calendar time: each late ticket was created this long before its deadline
LATE_P99_TARGET_SECONDS = 60.0
LATE_GIVE_UP = timedelta(seconds=120)
"""How long after the last deadline the bench still waits for breaches to be acted on."""
LATE_POLICY = "bench-late"
"""The key the late tickets' logs carry; no policy has it, so a breach escalates as the default escalation says."""
WORKER_POLL_SECONDS = Settings.model_fields["worker_poll_seconds"].default

_TARGET = {"seconds": TARGET_SECONDS, "business": True, "calendar": CALENDAR}
_CALENDAR_BODY = {
    "name": "Bench office",
    "time_zone": "Asia/Shanghai",
    "weekly": {day: [{"start": "09:00", "end": "18:00"}] for day in ("monday", "tuesday", "wednesday", "thursday")}
    | {"friday": [{"start": "09:00", "end": "18:00"}]},
}
_POLICY_BODY = {
    "name": "Bench default",
    "subject": "ticket",
    "position": 1,
    "targets": {
        "first_reply": {"normal": {"seconds": 2 * 3600, "business": True, "calendar": CALENDAR}},
        "resolution": {"normal": {"seconds": 3 * 9 * 3600, "business": True, "calendar": CALENDAR}},
    },
    "warning": {"share": 0.8},
}
"""What intake with SLA on runs under: a reply in two working hours, a resolution in three working days."""
_LOADED_POLICY_BODY = {
    "name": "Bench loaded",
    "subject": "ticket",
    "position": 1,
    "targets": {"first_reply": {"normal": _TARGET}},
    "warning": None,
}
"""What the loaded logs say their tickets run on: a re-derivation matches every open ticket again and finds each on
its own target, so a calendar edit moves timers and re-targets nothing. Deleted before intake with SLA off."""

# One statement per chunk: the tickets, their first_reply log (apply_policy, then activate, ids in that order as the
# service writes them: time-ordered, the activate a millisecond later) and their timers.
_LOAD = """
WITH t AS (
    INSERT INTO tickets (id, number, customer_no, channel, type, priority, status, title, description, tags,
        warranty_status, contact, attachments, escalation_level, urge_count, created_by, version, created_at,
        updated_at)
    SELECT gen_random_uuid(), 'T-SLA-' || g, $3, 'app', 'repair', 'normal', 'new', 'SLA bench #' || g, 'Bench',
        '[]', 'unknown', '{}', '[]', 0, 0, 'bench-sla', 1, c.at, c.at
    FROM generate_series($1::int, $2::int) AS g,
        LATERAL (SELECT $4::timestamptz - make_interval(secs => 600 + g % 3600) AS at) AS c
    RETURNING id, created_at
), e AS (
    INSERT INTO sla_clock_events (id, subject_type, subject_id, metric, kind, at, target, warning, policy_key)
    SELECT (lpad(to_hex((extract(epoch FROM t.created_at) * 1000)::bigint + k.n), 12, '0') || '7'
            || substr(h, 1, 3) || '8' || substr(h, 4, 15))::uuid,
        'ticket', t.id, 'first_reply', k.kind, t.created_at,
        CASE WHEN k.n = 0 THEN $5::jsonb END, NULL, CASE WHEN k.n = 0 THEN $6 END
    FROM t, (VALUES (0, 'apply_policy'), (1, 'activate')) AS k(n, kind), LATERAL md5(t.id::text || k.n) AS h
)
INSERT INTO sla_timers (subject_id, subject_type, due_at, updated_at)
SELECT t.id, 'ticket', $4::timestamptz + $7::interval, $4 FROM t
"""
# K loaded tickets re-targeted to a minute of calendar time (an apply_policy after their others, as a priority change
# writes it) and their timers made due: each scan pass finds a breach to act on.
_BREACH = """
WITH k AS (
    SELECT subject_id FROM sla_timers ORDER BY subject_id LIMIT $1
), e AS (
    INSERT INTO sla_clock_events (id, subject_type, subject_id, metric, kind, at, target, warning, policy_key)
    SELECT (lpad(to_hex((extract(epoch FROM $2::timestamptz) * 1000)::bigint), 12, '0') || '7'
            || substr(h, 1, 3) || '8' || substr(h, 4, 15))::uuid,
        'ticket', k.subject_id, 'first_reply', 'apply_policy', t.created_at,
        '{"seconds": 60, "business": false, "calendar": null}'::jsonb, NULL, $3
    FROM k JOIN tickets AS t ON t.id = k.subject_id, LATERAL md5(k.subject_id::text) AS h
)
UPDATE sla_timers SET due_at = $2::timestamptz - interval '1 second' WHERE subject_id IN (SELECT subject_id FROM k)
"""

# The late tickets: a ticket row, its first_reply log (the target on the apply_policy only) and its timer.
_LATE_TICKET = """
INSERT INTO tickets (id, number, customer_no, channel, type, priority, status, title, description, tags,
    warranty_status, contact, attachments, escalation_level, urge_count, created_by, version, created_at, updated_at)
VALUES ($1, $2, $3, 'app', 'repair', 'normal', 'new', $4, 'Bench', '[]', 'unknown', '{}', '[]', 0, 0, 'bench-sla', 1,
    $5, $5)
"""
_LATE_EVENT = """
INSERT INTO sla_clock_events (id, subject_type, subject_id, metric, kind, at, target, warning, policy_key)
VALUES ($1, 'ticket', $2, 'first_reply', $3, $4, $5::jsonb, NULL, $6)
"""
_LATE_TIMER = "INSERT INTO sla_timers (subject_id, subject_type, due_at, updated_at) VALUES ($1, 'ticket', $2, $3)"


@dataclass(frozen=True, slots=True)
class IdleScan:
    tickets: int
    median_ms: float


@dataclass(frozen=True, slots=True)
class BreachLatency:
    """How late the worker acted on breaches: for each `sla.breached` it wrote, from the deadline it announces
    (`breached_at`) to the scan's own time (`occurred_at`, also the `breach` entry's `at` in the clock log)."""

    tickets: int
    delays: list[float]  # seconds, one per breach announced
    announced_tickets: int  # distinct tickets among them

    def percentile(self, percent: float) -> float:
        """Nearest rank over every ticket, a breach never acted on counting as infinitely late."""
        if not self.tickets:
            return math.nan
        ordered = sorted(self.delays) + [math.inf] * max(0, self.tickets - self.announced_tickets)
        return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]

    def problems(self) -> list[str]:
        found = []
        if self.announced_tickets < self.tickets:
            found.append(
                f"the worker acted on {self.announced_tickets} of {self.tickets} breaches within "
                f"{LATE_GIVE_UP.total_seconds():.0f} s of the last deadline"
            )
        if len(self.delays) > self.announced_tickets:
            found.append(f"{len(self.delays) - self.announced_tickets} breaches were announced more than once")
        if self.percentile(99) > LATE_P99_TARGET_SECONDS:
            found.append(
                f"breaches were acted on {self.percentile(99):.1f} s after their deadline (p99), over "
                f"{LATE_P99_TARGET_SECONDS:g} s"
            )
        return found


@dataclass(frozen=True, slots=True)
class CreatePair:
    off: Result
    on: Result

    @property
    def ratio(self) -> float:
        return self.on.rate / self.off.rate if self.off.rate > 0 else math.nan


@dataclass(frozen=True, slots=True)
class SlaFigures:
    idle: list[IdleScan]
    load_seconds: float
    breaches: int
    breach_ms: float  # the one scan that acted on them
    rederived: int
    moved: int
    rederive_seconds: float
    late: BreachLatency
    pairs: list[CreatePair]  # alternating runs: the table grows and the machine drifts under both alike

    @property
    def median_pair(self) -> CreatePair:
        return sorted(self.pairs, key=lambda pair: pair.ratio)[len(self.pairs) // 2]

    @property
    def rederive_per_100k(self) -> float:
        return self.rederive_seconds * 100_000 / self.rederived if self.rederived else float("nan")


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at


async def measure(h: Harness) -> SlaFigures:
    manager = bearer_headers(h.secret, "bench-manager", Role.MANAGER)
    await _put(h, f"/v1/business-calendars/{CALENDAR}", _CALENDAR_BODY, manager)
    loaded_policy = await _put(h, f"/v1/sla-policies/{POLICY}", _LOADED_POLICY_BODY, manager)
    conn = await asyncpg.connect(plain_dsn(h.database_url))
    try:
        now: datetime = await conn.fetchval("SELECT date_trunc('second', now())")
        settings = Settings(env="development", database_url=h.database_url, log_level="WARNING")
        services = build_services(settings, _Clock(now))
        try:
            idle, loaded, load_seconds = [], 0, 0.0
            for size in sorted({*SIZES, max(h.options.tickets, SIZES[-1])}):
                log.info("loading open tickets with SLA clocks up to %s", f"{size:,}")
                started = time.perf_counter()
                for first in range(loaded + 1, size + 1, CHUNK):
                    last = min(first + CHUNK - 1, size)
                    await conn.execute(_LOAD, first, last, CUSTOMER_NO, now, json.dumps(_TARGET), POLICY, STALE_DUE)
                await conn.execute("ANALYZE tickets; ANALYZE sla_clock_events; ANALYZE sla_timers")
                load_seconds, loaded = time.perf_counter() - started, size
                idle.append(IdleScan(size, await _idle_scan(services.sla.scan)))
            await conn.execute(_BREACH, BREACHES, now, POLICY)
            started = time.perf_counter()
            breaches = await services.sla.scan()
            breach_ms = (time.perf_counter() - started) * 1000
            closed = _next_weekday(now, days=7)
            edited = {**_CALENDAR_BODY, "overrides": [{"date": closed, "name": "Bench closure"}]}
            await _put(h, f"/v1/business-calendars/{CALENDAR}", edited, manager)
            # The calendar's creation and the policy's asked for re-derivations too: this newer request supersedes them.
            log.info("re-deriving %s open tickets' timers after closing %s", f"{loaded:,}", closed)
            started = time.perf_counter()
            rederived = await services.sla.rederive()
            rederive_seconds = time.perf_counter() - started
            moved = await conn.fetchval(
                "SELECT count(*) FROM sla_timers WHERE due_at < $1::timestamptz + $2::interval", now, STALE_DUE
            )
            # The walk rewrote nearly every timer: vacuumed now, as autovacuum soon would, so that the create runs
            # below measure the SLA and not a vacuum of a million dead rows beside them.
            await conn.execute("VACUUM ANALYZE sla_timers")
        finally:
            await services.database.dispose()
    finally:
        await conn.close()
    log.info(
        "%d breaches falling due over %.0f s, acted on by `aftersales worker` (poll %g s)",
        LATE_TICKETS,
        LATE_SPREAD.total_seconds(),
        WORKER_POLL_SECONDS,
    )
    late = await _breach_latency(h.database_url)
    etag = loaded_policy.headers["etag"]
    ours = create_tickets("/v1/tickets", bearer_headers(h.secret))  # at the loaded size, without a policy and with one
    pairs = []
    for run in range(1, CREATE_PAIRS + 1):
        await _delete(h, f"/v1/sla-policies/{POLICY}", {**manager, "if-match": etag})
        off = await h.measure_traffic(f"create ticket, SLA off ({run})", h.service, h.service_url, ours, ours)
        etag = (await _put(h, f"/v1/sla-policies/{POLICY}", _POLICY_BODY, manager)).headers["etag"]
        on = await h.measure_traffic(f"create ticket, SLA on ({run})", h.service, h.service_url, ours, ours)
        pairs.append(CreatePair(off, on))
    return SlaFigures(idle, load_seconds, breaches, breach_ms, rederived, moved, rederive_seconds, late, pairs)


async def _breach_latency(database_url: str) -> BreachLatency:
    """The real worker loop on top of the loaded population, nothing else due: one ticket already breached shows the
    worker is scanning; then LATE_TICKETS tickets whose deadlines fall over LATE_SPREAD of wall-clock time."""
    conn = await asyncpg.connect(plain_dsn(database_url))
    try:
        async with run_worker(database_url) as worker:
            canary = await _late_tickets(conn, [datetime.now(UTC) - timedelta(seconds=1)], "CANARY")
            await _until_acted_on(conn, worker, canary, time.monotonic() + LATE_GIVE_UP.total_seconds())
            first, step = datetime.now(UTC) + LATE_LEAD, LATE_SPREAD / LATE_TICKETS
            ids = await _late_tickets(conn, [first + i * step for i in range(LATE_TICKETS)], "LATE")
            give_up = time.monotonic() + (LATE_LEAD + LATE_SPREAD + LATE_GIVE_UP).total_seconds()
            await _until_acted_on(conn, worker, ids, give_up)
        rows = await conn.fetch(
            "SELECT aggregate_id, extract(epoch FROM occurred_at - (payload->>'breached_at')::timestamptz) AS delay "
            "FROM outbox WHERE type = 'sla.breached' AND aggregate_id = ANY($1::uuid[])",
            ids,
        )
    finally:
        await conn.close()
    delays = [float(row["delay"]) for row in rows]
    return BreachLatency(len(ids), delays, len({row["aggregate_id"] for row in rows}))


async def _late_tickets(conn: asyncpg.Connection, deadlines: list[datetime], tag: str) -> list[UUID]:
    """Open tickets whose first reply is owed by each of `deadlines`: created LATE_TARGET_SECONDS before it under a
    calendar-time target, their timer where the service's own derivation puts it."""
    target = Target(LATE_TARGET_SECONDS, business=False)
    document = json.dumps({"seconds": target.seconds, "business": target.business, "calendar": target.calendar})
    tickets, events, timers = [], [], []
    for number, deadline in enumerate(deadlines, 1):
        ticket_id, created = new_id(), deadline - timedelta(seconds=LATE_TARGET_SECONDS)
        log_ = [
            ClockEvent(ClockEventKind.APPLY_POLICY, created, "first_reply", target, None, LATE_POLICY),
            ClockEvent(ClockEventKind.ACTIVATE, created, "first_reply"),
        ]
        tickets.append((ticket_id, f"T-SLA-{tag}-{number}", CUSTOMER_NO, f"SLA bench {tag} #{number}", created))
        for e in log_:
            events.append((new_id(), ticket_id, e.kind.value, e.at, document if e.target else None, e.policy_key))
        timers.append((ticket_id, next_due(derive_all(log_, {}, created).values()), created))
    async with conn.transaction():
        await conn.executemany(_LATE_TICKET, tickets)
        await conn.executemany(_LATE_EVENT, events)
        await conn.executemany(_LATE_TIMER, timers)
    return [ticket_id for ticket_id, *_ in tickets]


async def _until_acted_on(conn: asyncpg.Connection, worker: Server, ids: list[UUID], give_up: float) -> None:
    """Until every ticket in `ids` has a breach logged, or `give_up` (monotonic) has passed."""
    while time.monotonic() < give_up:
        worker.ensure_running()
        acted = await conn.fetchval(
            "SELECT count(DISTINCT subject_id) FROM sla_clock_events WHERE kind = 'breach' AND subject_id = ANY($1)",
            ids,
        )
        if acted == len(ids):
            return
        await asyncio.sleep(0.25)


async def _idle_scan(scan: Any) -> float:
    runs = []
    for _ in range(IDLE_RUNS):
        started = time.perf_counter()
        if await scan():
            raise RuntimeError("the idle SLA scan found something due")
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


async def _put(h: Harness, path: str, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
    response = await h.client.put(f"{h.service_url}{path}", json=body, headers=headers)
    if not response.is_success:
        raise RuntimeError(f"PUT {path} answered {response.status_code}: {response.text}")
    return response


async def _delete(h: Harness, path: str, headers: dict[str, str]) -> None:
    response = await h.client.delete(f"{h.service_url}{path}", headers=headers)
    if not response.is_success:
        raise RuntimeError(f"DELETE {path} answered {response.status_code}: {response.text}")


def _next_weekday(now: datetime, days: int) -> str:
    """The first working day at least `days` ahead in the bench calendar's zone: every loaded deadline lies after it."""
    day = now.astimezone(ZONE).date() + timedelta(days=days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day.isoformat()


def lines(figures: SlaFigures) -> list[str]:
    idle = ", ".join(f"{s.tickets:,}: {s.median_ms:.2f} ms" for s in figures.idle)
    smallest, largest = figures.idle[0], figures.idle[-1]
    flat = largest.median_ms <= max(2 * smallest.median_ms, smallest.median_ms + 2.0)
    per_breach = figures.breach_ms / figures.breaches if figures.breaches else float("nan")
    per_100k = figures.rederive_per_100k
    return [
        f"SLA idle scan over open tickets (median of {IDLE_RUNS}): {idle} "
        f"(flat in size: {'met' if flat else 'NOT MET'}); last load of {largest.tickets:,} in "
        f"{figures.load_seconds:.1f} s",
        f"SLA breaches: {figures.breaches} acted on in one scan, {figures.breach_ms:.0f} ms ({per_breach:.2f} ms each)",
        f"SLA re-derivation after a calendar edit: {figures.rederived:,} open tickets' timers walked, "
        f"{figures.moved:,} moved, in {figures.rederive_seconds:.1f} s = {per_100k:.1f} s per 100,000 "
        f"(target < {REDERIVE_TARGET_SECONDS:g} s: {'met' if per_100k < REDERIVE_TARGET_SECONDS else 'NOT MET'})",
        _late_line(figures.late),
        f"create ticket with SLA on / off, {len(figures.pairs)} alternating pairs of runs: req/s "
        + ", ".join(f"{pair.ratio:.2f}" for pair in figures.pairs)
        + "; server CPU per request "
        + ", ".join(f"{p.on.cpu_ms_per_request:.2f} / {p.off.cpu_ms_per_request:.2f} ms" for p in figures.pairs),
        "median pair: " + report.ratio(figures.median_pair.on, figures.median_pair.off, SLA_RATIO_TARGET),
    ]


def _late_line(late: BreachLatency) -> str:
    verdict = "NOT MET" if late.problems() else "met"
    return (
        f"SLA breach latency, `aftersales worker` (poll {WORKER_POLL_SECONDS:g} s) over the loaded tickets: "
        f"{late.announced_tickets} of {late.tickets} breaches acted on (deadlines spread over "
        f"{LATE_SPREAD.total_seconds():.0f} s), {late.percentile(50):.2f} s p50 / {late.percentile(99):.2f} s p99 / "
        f"{late.percentile(100):.2f} s max after the deadline (target p99 <= {LATE_P99_TARGET_SECONDS:g} s: {verdict})"
    )


def failures(figures: SlaFigures) -> list[str]:
    found = []
    if figures.breaches != BREACHES:
        found.append(f"FAILED the SLA scan acted on {figures.breaches} breaches, not {BREACHES}")
    if figures.moved != figures.rederived - BREACHES:
        found.append(f"FAILED the re-derivation moved {figures.moved:,} timers, not {figures.rederived - BREACHES:,}")
    found += [f"FAILED {problem}" for problem in figures.late.problems()]
    return found
