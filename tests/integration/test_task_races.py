"""Tasks under concurrency on PostgreSQL: reminder scans in several workers send each reminder once, and two
approvers deciding one approval at once cannot both decide it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.domain.principal import Role
from app.main import create_app
from app.persistence.tables import notifications
from tests.conftest import MovableClock, client_for, make_settings
from tests.factories import act, agent_body, iso, open_ticket, put, seed_service_desk

pytestmark = pytest.mark.postgres_only
TASKS = 60


async def test_concurrent_reminder_scans_send_each_reminder_once(database_url, auth, clock: MovableClock):
    apps = [create_app(make_settings(database_url), clock=clock) for _ in range(3)]
    async with client_for(apps[0]) as http, client_for(apps[1]), client_for(apps[2]):
        await seed_service_desk(http, auth)
        ticket = await open_ticket(http, auth)
        await act(http, auth(Role.AGENT), ticket, "claim")
        due = iso(clock.now() + timedelta(hours=1))
        for n in range(TASKS):
            body = {"title": f"任务{n}", "assignee": "agent-2", "due_at": due}
            created = await http.post(f"/v1/tickets/{ticket['id']}/tasks", json=body, headers=auth(Role.AGENT))
            assert created.status_code == 201, created.text
        clock.advance(timedelta(hours=2))

        sent = await asyncio.gather(*(app.state.services.tasks.remind() for app in apps for _ in range(2)))

        assert sum(sent) == TASKS
        async with apps[0].state.services.database.engine.connect() as conn:
            overdue = select(func.count()).where(notifications.c.kind == "task_overdue")
            assert (await conn.execute(overdue)).scalar_one() == TASKS


async def test_two_managers_approving_one_task_at_once_decide_it_once(client, auth):
    await seed_service_desk(client, auth)
    await put(client, auth(Role.ADMIN), "/v1/agents/manager-2", agent_body(name="周经理", roles=["manager"]))
    ticket = await open_ticket(client, auth)
    for action in ("claim", "start"):
        await act(client, auth(Role.AGENT), ticket, action)
    body = {"title": "检修", "assignee": "agent-2", "due_at": iso(datetime.now(UTC) + timedelta(days=1))}
    task = (await client.post(f"/v1/tickets/{ticket['id']}/tasks", json=body, headers=auth(Role.AGENT))).json()
    handler = auth(Role.AGENT, sub="agent-2")
    await client.post(f"/v1/tasks/{task['id']}/actions/start", json={}, headers=handler)
    report = {"result": "完成", "completed_at": iso(datetime.now(UTC)), "hours_worked": "1"}
    await client.post(f"/v1/tasks/{task['id']}/actions/report", json=report, headers=handler)
    managers = [auth(Role.MANAGER, sub=sub) for sub in ("manager-1", "manager-2")]

    answers = await asyncio.gather(
        *(client.post(f"/v1/tasks/{task['id']}/actions/approve", json={}, headers=h) for h in managers)
    )

    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    final = (await client.get(f"/v1/tasks/{task['id']}", headers=managers[0])).json()
    assert final["status"] == "approved"
    history = (await client.get(f"/v1/tasks/{task['id']}/timeline", headers=managers[0])).json()["items"]
    assert [e["action"] for e in history].count("approve") == 1
