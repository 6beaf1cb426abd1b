"""Auto-close (自动完成) on a clock the tests move: a ticket pending follow-up completes when its type's days have
passed since its latest resolution and not a second before, through `complete` as a person's would (timeline,
event), never while switched off or while a task on it is open; the settings document and who may change it; and
on PostgreSQL, concurrent passes that complete each ticket once, reading only due rows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text

from app.domain.principal import Role
from app.domain.tickets import TicketType
from app.main import create_app
from app.persistence.tables import outbox, timeline
from app.persistence.ticket_auto_close import SqlTicketAutoCloseRepository
from app.persistence.unit_of_work import SqlUnitOfWorkFactory
from app.services.ticket_auto_close import TicketAutoCloseService
from tests.api.test_tasks import give_task, task_act
from tests.conftest import MovableClock, client_for, make_settings
from tests.factories import act, open_ticket, seed_service_desk
from tests.problems import problem_fields
from tests.sql_capture import executed_plans, scanned

PATH = "/v1/settings/ticket-auto-close"
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)
RULES = {"enabled": True, "default_days": 7, "by_type": {"complaint": 14, "repair": 3}}


@pytest.fixture
async def desk(database_url: str, clock: MovableClock, auth) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app on the moved clock, with the service desk seeded."""
    app = create_app(make_settings(database_url), clock=clock)
    async with client_for(app) as http:
        await seed_service_desk(http, auth)
        yield app, http


async def put_rules(http: httpx.AsyncClient, auth, body: dict[str, Any]) -> httpx.Response:
    manager = auth(Role.MANAGER)
    current = await http.get(PATH, headers=manager)
    response = await http.put(PATH, json=body, headers={**manager, "If-Match": current.headers["etag"]})
    assert response.status_code == 200, response.text
    return response


async def resolved(http: httpx.AsyncClient, auth, kind: str = "repair") -> dict[str, Any]:
    """A ticket of `kind` agent-1 has worked and resolved: pending follow-up (已解决)."""
    ticket = await open_ticket(http, auth, type=kind)
    for action, body in (("claim", {}), ("start", {}), ("resolve", {"solution": "更换风机"})):
        response = await act(http, auth(Role.AGENT), ticket, action, **body)
        assert response.status_code == 200, response.text
    return response.json()


async def status(http: httpx.AsyncClient, auth, ticket: dict[str, Any]) -> str:
    return (await http.get(f"/v1/tickets/{ticket['id']}", headers=auth(Role.MANAGER))).json()["status"]


async def run(app: FastAPI) -> int:
    return await app.state.services.ticket_auto_close.run()


async def timeline_of(http: httpx.AsyncClient, headers: dict[str, str], ticket: dict[str, Any]) -> list[dict]:
    response = await http.get(f"/v1/tickets/{ticket['id']}/timeline?limit=100", headers=headers)
    return response.json()["items"]


async def test_a_resolved_ticket_completes_after_its_types_days_and_not_a_second_before(desk, auth, clock):
    app, http = desk
    await put_rules(http, auth, RULES)
    repair, complaint = await resolved(http, auth, "repair"), await resolved(http, auth, "complaint")

    clock.advance(3 * DAY - SECOND)
    early = await run(app)
    still = await status(http, auth, repair)
    clock.advance(SECOND)
    due = await run(app)

    assert (early, still) == (0, "pending_follow_up")
    assert due == 1
    assert (await status(http, auth, repair), await status(http, auth, complaint)) == ("completed", "pending_follow_up")
    clock.advance(11 * DAY - SECOND)
    assert (await run(app), await status(http, auth, complaint)) == (0, "pending_follow_up")
    clock.advance(SECOND)
    assert (await run(app), await status(http, auth, complaint)) == (1, "completed")


async def test_types_without_days_of_their_own_take_the_default(desk, auth, clock):
    app, http = desk
    await put_rules(http, auth, {"enabled": True, "default_days": 5, "by_type": {"consultation": None, "repair": 30}})
    consultation, installation = await resolved(http, auth, "consultation"), await resolved(http, auth, "installation")
    repair = await resolved(http, auth, "repair")

    clock.advance(5 * DAY)
    completed = await run(app)

    assert completed == 2
    assert [await status(http, auth, t) for t in (consultation, installation, repair)] == [
        "completed",
        "completed",
        "pending_follow_up",
    ]


async def test_a_follow_up_that_sends_the_ticket_back_to_work_restarts_the_count(desk, auth, clock):
    app, http = desk
    await put_rules(http, auth, RULES)
    agent = auth(Role.AGENT)
    ticket = await resolved(http, auth, "repair")
    clock.advance(2 * DAY)
    back = await act(http, agent, ticket, "follow_up", outcome="unsatisfied")
    clock.advance(DAY)
    while_worked = await run(app)
    again = await act(http, agent, ticket, "resolve", solution="更换主板")

    clock.advance(3 * DAY - SECOND)
    early = await run(app)
    clock.advance(SECOND)
    due = await run(app)

    assert (back.json()["status"], while_worked, again.json()["status"]) == ("in_progress", 0, "pending_follow_up")
    assert (early, due) == (0, 1)
    assert await status(http, auth, ticket) == "completed"


async def test_switched_off_it_completes_nothing_and_off_is_the_default(desk, auth, clock):
    app, http = desk
    defaults = await http.get(PATH, headers=auth(Role.AGENT))
    ticket = await resolved(http, auth)
    clock.advance(400 * DAY)
    by_default = await run(app)
    await put_rules(http, auth, {**RULES, "enabled": False})

    switched_off = await run(app)

    assert (defaults.json(), defaults.headers["etag"]) == (
        {"enabled": False, "default_days": 7, "by_type": {}, "version": 0},
        '"0"',
    )
    assert (by_default, switched_off) == (0, 0)
    assert await status(http, auth, ticket) == "pending_follow_up"


async def test_the_completion_is_the_workflows_own_with_the_reason_in_the_customers_timeline(desk, auth, clock):
    app, http = desk
    await put_rules(http, auth, RULES)
    ticket = await resolved(http, auth, "repair")
    clock.advance(3 * DAY)

    await run(app)

    customer = auth(Role.CUSTOMER)
    english = (await timeline_of(http, {**customer, "Accept-Language": "en"}, ticket))[-1]
    staff = (await timeline_of(http, auth(Role.AGENT), ticket))[-1]
    assert (english["action"], english["from_status"], english["to_status"]) == (
        "complete",
        "pending_follow_up",
        "completed",
    )
    assert (english["actor"], english["to_status_label"], english["visibility"]) == ("service", "Completed", "public")
    assert english["remark"] == (
        "Completed automatically: your issue was resolved 3 days ago, with no further word from you. "
        "If it is not solved, you can reopen it within 7 days."
    )
    assert (staff["actor"], staff["remark"]) == (
        "system",
        "问题已解决 3 天，期间未收到您的进一步反馈，系统已自动完成本工单。如问题仍未解决，您可在 7 天内重新打开。",
    )
    read = (await http.get(f"/v1/tickets/{ticket['id']}", headers=customer)).json()
    finished_at = datetime.fromisoformat(read["finished_at"].replace("Z", "+00:00"))
    assert (read["status"], finished_at) == ("completed", clock.now())
    assert "reopen" in {a["action"] for a in read["available_actions"]}
    async with app.state.services.database.engine.connect() as conn:
        events = (await conn.execute(select(outbox.c.payload).where(outbox.c.type == "ticket.complete"))).scalars()
        [event] = list(events)
    assert (event["number"], event["actor"], event["from_status"], event["status"]) == (
        ticket["number"],
        "system",
        "pending_follow_up",
        "completed",
    )


async def test_a_ticket_with_an_open_task_waits_without_holding_back_the_others(desk, auth, clock):
    app, http = desk
    await put_rules(http, auth, RULES)
    visited = await resolved(http, auth, "repair")
    task = await give_task(http, auth, visited, title="上门回访")
    assert task.status_code == 201, task.text
    later = await resolved(http, auth, "repair")
    one_at_a_time = TicketAutoCloseService(
        SqlUnitOfWorkFactory(app.state.services.database), clock, app.state.services.tickets, 7 * DAY, batch=1
    )
    clock.advance(3 * DAY)

    first = await one_at_a_time.run()
    waiting = await status(http, auth, visited)
    cancelled = await task_act(http, auth(Role.AGENT), task.json(), "cancel", reason="客户已确认，无需上门")
    after_the_task = await one_at_a_time.run()

    assert (first, waiting, await status(http, auth, later)) == (1, "pending_follow_up", "completed")
    assert cancelled.status_code == 200, cancelled.text
    assert (after_the_task, await status(http, auth, visited)) == (1, "completed")


@pytest.mark.parametrize(
    ("body", "pointers"),
    [
        ({"enabled": True, "default_days": 0}, {"#/default_days"}),
        ({"enabled": True, "default_days": 366}, {"#/default_days"}),
        ({"enabled": True, "default_days": "7"}, {"#/default_days"}),
        ({"enabled": True, "default_days": 7.5}, {"#/default_days"}),
        ({"enabled": True}, {"#/default_days"}),
        ({"enabled": "yes", "default_days": 7}, {"#/enabled"}),
        ({"enabled": True, "default_days": 7, "by_type": {"refund": 3}}, {"#/by_type/refund"}),
        (
            {"enabled": True, "default_days": 7, "by_type": {"repair": 0, "other": 366}},
            {"#/by_type/repair", "#/by_type/other"},
        ),
        ({"enabled": True, "default_days": 7, "by_type": {"repair": True}}, {"#/by_type/repair"}),
        ({"enabled": True, "default_days": 7, "by_type": [3]}, {"#/by_type"}),
        ({"enabled": True, "default_days": 7, "window": 3}, {"#/window"}),
    ],
)
async def test_bad_settings_are_refused_naming_the_field_and_nothing_is_saved(client, auth, body, pointers):
    response = await client.put(PATH, json=body, headers=auth(Role.MANAGER))

    assert problem_fields(response, 422, "validation_failed") == pointers
    assert (await client.get(PATH, headers=auth(Role.MANAGER))).json()["version"] == 0


async def test_every_ticket_type_takes_days_of_its_own(client, auth):
    by_type = {kind.value: days for days, kind in enumerate(TicketType, start=1)}

    saved = await client.put(
        PATH, json={"enabled": True, "default_days": 7, "by_type": by_type}, headers=auth(Role.ADMIN)
    )

    assert (saved.status_code, saved.json()["by_type"]) == (200, by_type)
    assert (await client.get(PATH, headers=auth(Role.AGENT))).json()["by_type"] == by_type


async def test_a_change_needs_the_current_etag(client, auth, app_with):
    manager = auth(Role.MANAGER)
    first = await client.put(PATH, json=RULES, headers={**manager, "If-Match": '"0"'})  # the defaults, as read
    stale = await client.put(PATH, json={**RULES, "default_days": 10}, headers={**manager, "If-Match": '"0"'})
    current = await client.put(PATH, json={**RULES, "default_days": 10}, headers={**manager, "If-Match": '"1"'})
    async with client_for(app_with(require_if_match=True)) as strict:
        unguarded = await strict.put(PATH, json=RULES, headers=manager)

    assert (first.status_code, first.headers["etag"]) == (200, '"1"')
    assert (stale.status_code, stale.json()["current_etag"]) == (412, '"1"')
    assert (current.status_code, current.headers["etag"], current.json()["default_days"]) == (200, '"2"', 10)
    assert (unguarded.status_code, unguarded.json()["code"]) == (428, "if_match_required")
    assert (await client.get(PATH, headers=manager)).json()["version"] == 2


async def test_staff_read_the_settings_and_only_managers_and_admins_change_them(client, auth):
    reads = {role: (await client.get(PATH, headers=auth(role))).status_code for role in Role}
    writes = {role: (await client.put(PATH, json=RULES, headers=auth(role))).status_code for role in Role}

    assert reads == {
        Role.CUSTOMER: 403,
        Role.AGENT: 200,
        Role.REVIEWER: 200,
        Role.MANAGER: 200,
        Role.ADMIN: 200,
        Role.INTEGRATION: 403,
    }
    assert writes == {
        Role.CUSTOMER: 403,
        Role.AGENT: 403,
        Role.REVIEWER: 403,
        Role.MANAGER: 200,
        Role.ADMIN: 200,
        Role.INTEGRATION: 403,
    }


TICKETS = 40
PASSES = 6


@pytest.mark.postgres_only
async def test_concurrent_passes_complete_each_ticket_exactly_once(database_url, auth, clock):
    apps = [create_app(make_settings(database_url), clock=clock) for _ in range(3)]
    async with client_for(apps[0]) as http, client_for(apps[1]), client_for(apps[2]):
        await seed_service_desk(http, auth)
        await put_rules(http, auth, RULES)
        for _ in range(TICKETS):
            await resolved(http, auth, "repair")
        clock.advance(3 * DAY)
        passes = [
            TicketAutoCloseService(
                SqlUnitOfWorkFactory(app.state.services.database), clock, app.state.services.tickets, 7 * DAY, batch=3
            )
            for app in apps
            for _ in range(PASSES // len(apps))
        ]

        completed = await asyncio.gather(*(p.run() for p in passes))

        assert sum(completed) == TICKETS
        assert sum(1 for n in completed if n) >= 2, completed  # the passes overlapped: more than one claimed work
        assert [await p.run() for p in passes] == [0] * PASSES
        async with apps[0].state.services.database.engine.connect() as conn:
            events = select(func.count()).where(outbox.c.type == "ticket.complete")
            entries = select(func.count()).where(timeline.c.action == "complete")
            assert (await conn.execute(events)).scalar_one() == TICKETS
            assert (await conn.execute(entries)).scalar_one() == TICKETS


BASE = datetime(2026, 3, 1, tzinfo=UTC)
SPREAD = (
    """INSERT INTO customers (id, customer_no, name, level, contact_channels, version, created_at, updated_at)
    VALUES (gen_random_uuid(), 'C-1', 'customer', 'normal', '[]', 1, now(), now())""",
    # 6,000 tickets: 1,000 repairs pending follow-up, resolved a minute apart from BASE on; beside them, all resolved
    # the day before BASE, complaints pending follow-up or completed and repairs closed or back in progress.
    """INSERT INTO tickets (id, number, customer_no, channel, type, priority, status, title, description, tags,
        warranty_status, contact, attachments, escalation_level, urge_count, created_by, version, created_at,
        updated_at, resolved_at)
    SELECT gen_random_uuid(), 'T-' || g, 'C-1', 'app', CASE WHEN g % 3 = 0 THEN 'complaint' ELSE 'repair' END,
        'normal',
        CASE WHEN g % 3 <> 2 AND g <= 3000 THEN 'pending_follow_up'
             ELSE (ARRAY['completed', 'closed', 'in_progress'])[1 + g % 3] END,
        'title', 'description', '[]', 'unknown', '{}', '[]', 0, 0, 'test', 1, now(), now(),
        CASE WHEN g % 3 = 1 AND g <= 3000 THEN timestamptz '2026-03-01Z' + g * interval '1 minute'
             ELSE timestamptz '2026-02-28Z' END
    FROM generate_series(1, 6000) AS g""",
    "ANALYZE customers, tickets",
)
CUTOFF = BASE + timedelta(minutes=91)
"""31 of the pending repairs (resolved at minutes 1, 4, … 91) are due."""


@pytest.mark.postgres_only
async def test_the_claim_reads_only_due_tickets_of_its_type_through_the_partial_index(app):
    async with app.state.services.database.engine.connect() as conn:
        for statement in SPREAD:
            await conn.exec_driver_sql(statement)
        for planner_method in ("seqscan", "bitmapscan", "sort"):
            await conn.execute(text(f"SET LOCAL enable_{planner_method} = off"))
        repository = SqlTicketAutoCloseRepository(conn)

        [plan] = await executed_plans(conn, lambda: repository.claim_due(TicketType.REPAIR, CUTOFF, 100))

    read = scanned(plan, "tickets")
    assert (read.indexes, read.sequential) == ({"ix_tickets_pending_follow_up_type_resolved_at"}, ())
    assert (read.rows, plan["Plan"]["Actual Rows"]) == (31, 31)
