"""The SLA timer scan reads no timer that is not due (PostgreSQL plans, EXPLAIN ANALYZE): which subjects have a
timer due, and each subject's claim, go through the (subject_type, due_at) index and read the due timers of that
subject only, however many timers wait for later or belong to the other subject."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from app.domain.sla_policies import Subject
from app.persistence.sla_clocks import SqlSlaClockRepository
from tests.sql_capture import executed_plans, scanned

pytestmark = pytest.mark.postgres_only
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
SPREAD = (
    # 4,000 ticket timers and 2,000 order timers, due from an hour after NOW on; 7 ticket and 3 order timers due.
    """INSERT INTO sla_timers (subject_id, subject_type, due_at, updated_at)
    SELECT gen_random_uuid(), CASE WHEN g % 3 = 0 THEN 'after_sales' ELSE 'ticket' END,
        timestamptz '2026-06-01T13:00:00Z' + g * interval '1 minute', now()
    FROM generate_series(1, 6000) AS g""",
    """INSERT INTO sla_timers (subject_id, subject_type, due_at, updated_at)
    SELECT gen_random_uuid(), CASE WHEN g <= 7 THEN 'ticket' ELSE 'after_sales' END,
        timestamptz '2026-06-01T11:00:00Z' + g * interval '1 minute', now()
    FROM generate_series(1, 10) AS g""",
    "ANALYZE sla_timers",
)


@pytest.fixture
async def planner(app):
    async with app.state.services.database.engine.connect() as conn:
        for statement in SPREAD:
            await conn.exec_driver_sql(statement)
        for planner_method in ("seqscan", "bitmapscan"):
            await conn.execute(text(f"SET LOCAL enable_{planner_method} = off"))
        yield conn


@pytest.fixture(params=["custom", "generic"])
async def planned(planner, request):
    """Plans as the first runs of a prepared statement get them (custom: the parameters' values known), and as
    PostgreSQL plans it from the sixth run on (generic: the values unknown)."""
    if request.param == "generic":
        await planner.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
    return planner


async def test_which_subjects_are_due_reads_at_most_one_due_timer_of_each(planned):
    timers = SqlSlaClockRepository(planned)

    [plan] = await executed_plans(planned, lambda: timers.due_subjects(NOW))

    assert await timers.due_subjects(NOW) == [Subject.TICKET, Subject.AFTER_SALES]
    read = scanned(plan, "sla_timers")
    assert (read.indexes, read.sequential) == ({"ix_sla_timers_subject_type_due_at"}, ())
    assert read.rows <= len(Subject)


@pytest.mark.parametrize(("subject", "due"), [(Subject.TICKET, 7), (Subject.AFTER_SALES, 3)])
async def test_a_subjects_claim_reads_its_due_timers_only(planned, subject, due):
    timers = SqlSlaClockRepository(planned)

    [plan] = await executed_plans(planned, lambda: timers.due(subject, NOW, 100))

    read = scanned(plan, "sla_timers")
    assert (read.indexes, read.sequential, read.rows) == ({"ix_sla_timers_subject_type_due_at"}, (), due)
