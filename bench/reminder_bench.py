"""The task reminder scan over many open tasks: an idle scan (nothing due), a scan that sends a batch of reminders,
and the plan of the scan's own SQL, which must read the next_reminder_at index rather than the open tasks."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.ext.asyncio import create_async_engine

from app.persistence.tasks import SqlTaskRepository
from app.settings import Settings
from app.web.wiring import build_services
from bench.query_plans import Plan
from bench.ticket_rows import plain_dsn

SPACING_SECONDS = 25  # 100,000 tasks spread over about a month of due times
FIRST_DUE = timedelta(hours=3)
LEAD = timedelta(minutes=120)
DUE_BATCH = 1_000
IDLE_RUNS = 20

_SETUP = """
INSERT INTO customers (id, customer_no, name, level, contact_channels, version, created_at, updated_at)
VALUES (gen_random_uuid(), 'C-REMIND', 'Reminder bench', 'normal', '[]', 1, $1, $1);
"""
_TICKET = """
INSERT INTO tickets (id, number, customer_no, channel, type, priority, status, title, description, tags,
    warranty_status, contact, attachments, assignee, escalation_level, urge_count, created_by, version, created_at,
    updated_at)
VALUES ($1, 'T-BENCH-REMIND', 'C-REMIND', 'app', 'repair', 'normal', 'in_progress', 'Reminder bench', 'Bench',
    '[]', 'unknown', '{}', '[]', 'agent-001', 0, 0, 'bench', 1, $2, $2)
"""
_TASKS = """
INSERT INTO tasks (id, number, ticket_id, title, status, assignee, due_at, attachments, return_count,
    due_soon_notified, overdue_notified, next_reminder_at, created_by, version, created_at, updated_at)
SELECT gen_random_uuid(), 'TK-BENCH-' || g, $1, 'Bench task ' || g, 'in_progress',
    'agent-' || lpad((1 + g % 200)::text, 3, '0'), d.due, '[]', 0, false, false, d.due - $4::interval,
    'bench', 1, $2, $2
FROM generate_series(1, $3::int) AS g,
    LATERAL (SELECT $2::timestamptz + $5::interval + make_interval(secs => g * $6::int) AS due) AS d
"""


@dataclass(frozen=True, slots=True)
class ReminderFigures:
    tasks: int
    idle_ms: float  # median of IDLE_RUNS scans with nothing due
    due_ms: float  # one scan that sent `sent` reminders
    sent: int
    plan: Plan


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at


async def measure(database_url: str, tasks: int) -> ReminderFigures:
    conn = await asyncpg.connect(plain_dsn(database_url))
    try:
        now: datetime = await conn.fetchval("SELECT now()")
        ticket_id = await conn.fetchval("SELECT gen_random_uuid()")
        await conn.execute(_SETUP, now)
        await conn.execute(_TICKET, ticket_id, now)
        await conn.execute(_TASKS, ticket_id, now, tasks, LEAD, FIRST_DUE, SPACING_SECONDS)
        await conn.execute("ANALYZE tasks")
    finally:
        await conn.close()
    clock = _Clock(now)
    settings = Settings(
        env="development",
        database_url=database_url,
        task_reminder_lead_minutes=int(LEAD.total_seconds() // 60),
        log_level="WARNING",
    )
    services = build_services(settings, clock)
    try:
        idle = []
        for _ in range(IDLE_RUNS):
            started = time.perf_counter()
            await services.tasks.remind()
            idle.append((time.perf_counter() - started) * 1000)
        plan = await _plan(database_url, now)
        clock.at = now + FIRST_DUE - LEAD + timedelta(seconds=SPACING_SECONDS * DUE_BATCH)
        started = time.perf_counter()
        sent = await services.tasks.remind()
        due_ms = (time.perf_counter() - started) * 1000
    finally:
        await services.database.dispose()
    return ReminderFigures(tasks, statistics.median(idle), due_ms, sent, plan)


async def _plan(database_url: str, now: datetime) -> Plan:
    """EXPLAIN ANALYZE of the statement SqlTaskRepository.due_for_reminder sends."""
    engine = create_async_engine(database_url, pool_size=1)
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        sent.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with engine.connect() as conn:
            await SqlTaskRepository(conn).due_for_reminder(now, 500)
            statement, parameters = sent[-1]
            result = await conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {statement}", parameters)
            return Plan("reminder scan", [row[0] for row in result])
    finally:
        await engine.dispose()


def lines(figures: ReminderFigures) -> list[str]:
    per = figures.due_ms / figures.sent if figures.sent else 0.0
    return [
        f"reminder scan over {figures.tasks:,} open tasks: idle {figures.idle_ms:.2f} ms (median of {IDLE_RUNS}); "
        f"{figures.sent:,} reminders due: {figures.due_ms:.0f} ms ({per:.2f} ms each)",
        f"reminder scan plan: {figures.plan.summary}",
        *(f"    {line}" for line in figures.plan.lines),
    ]
