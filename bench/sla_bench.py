"""The SLA clock at scale: open tickets with clock logs and timers bulk-loaded by SQL (10,000, 100,000, and
--tickets when larger); the idle timer scan at each size (it reads the due_at index, so it must not grow), the scan
that acts on K breaches, the re-derivation of every open ticket's timer after a calendar edit, and ticket intake
through the running service with SLA off (no policy) and on (a default policy with targets)."""

from __future__ import annotations

import json
import logging
import statistics
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from app.domain.principal import Role
from app.settings import Settings
from app.web.wiring import build_services
from bench import report
from bench.harness import Harness
from bench.load import Result
from bench.scenarios import CUSTOMER_NO, bearer_headers
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
CALENDAR = "bench-sla"
POLICY = "bench-default"
ZONE = ZoneInfo("Asia/Shanghai")
TARGET_SECONDS = 30 * 9 * 3600  # thirty working days of 09:00-18:00: every deadline is weeks ahead
STALE_DUE = timedelta(days=365)
"""Where the loaded timers point: far ahead of any deadline, so nothing is due and every re-derivation moves them."""

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


@dataclass(frozen=True, slots=True)
class IdleScan:
    tickets: int
    median_ms: float


@dataclass(frozen=True, slots=True)
class SlaFigures:
    idle: list[IdleScan]
    load_seconds: float
    breaches: int
    breach_ms: float  # the one scan that acted on them
    rederived: int
    moved: int
    rederive_seconds: float
    off: Result
    on: Result

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
            # The calendar's creation asked for a re-derivation too: this newer request supersedes it.
            log.info("re-deriving %s open tickets' timers after closing %s", f"{loaded:,}", closed)
            started = time.perf_counter()
            rederived = await services.sla.rederive()
            rederive_seconds = time.perf_counter() - started
            moved = await conn.fetchval(
                "SELECT count(*) FROM sla_timers WHERE due_at < $1::timestamptz + $2::interval", now, STALE_DUE
            )
        finally:
            await services.database.dispose()
    finally:
        await conn.close()
    ours = create_tickets("/v1/tickets", bearer_headers(h.secret))  # both at the loaded size, no policy, then one
    off = await h.measure_traffic("create ticket, SLA off", h.service, h.service_url, ours, ours)
    await _put(h, f"/v1/sla-policies/{POLICY}", _POLICY_BODY, manager)
    on = await h.measure_traffic("create ticket, SLA on", h.service, h.service_url, ours, ours)
    return SlaFigures(idle, load_seconds, breaches, breach_ms, rederived, moved, rederive_seconds, off, on)


async def _idle_scan(scan: Any) -> float:
    runs = []
    for _ in range(IDLE_RUNS):
        started = time.perf_counter()
        if await scan():
            raise RuntimeError("the idle SLA scan found something due")
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


async def _put(h: Harness, path: str, body: dict[str, Any], headers: dict[str, str]) -> None:
    response = await h.client.put(f"{h.service_url}{path}", json=body, headers=headers)
    if not response.is_success:
        raise RuntimeError(f"PUT {path} answered {response.status_code}: {response.text}")


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
        report.ratio(figures.on, figures.off, SLA_RATIO_TARGET),
    ]


def failures(figures: SlaFigures) -> list[str]:
    found = []
    if figures.breaches != BREACHES:
        found.append(f"FAILED the SLA scan acted on {figures.breaches} breaches, not {BREACHES}")
    if figures.moved != figures.rederived - BREACHES:
        found.append(f"FAILED the re-derivation moved {figures.moved:,} timers, not {figures.rederived - BREACHES:,}")
    return found
