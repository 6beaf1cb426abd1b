"""Time-driven task behaviour, on a clock the tests move: one 'due soon' and one 'overdue' reminder per task (not
one per scan), and work finished after the required time archived as overdue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from app.domain.principal import Role
from app.main import create_app
from tests.conftest import MovableClock, client_for, make_settings
from tests.factories import act, iso, open_ticket, seed_service_desk


@pytest.fixture
async def timed_app(database_url: str, clock: MovableClock) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(make_settings(database_url, task_reminder_lead_minutes=60), clock=clock)
    async with client_for(app) as http:
        yield app, http


async def _task(http: httpx.AsyncClient, auth, clock: MovableClock, due_in: timedelta) -> dict:
    await seed_service_desk(http, auth)
    ticket = await open_ticket(http, auth)
    for action in ("claim", "start"):
        await act(http, auth(Role.AGENT), ticket, action)
    body = {"title": "上门检修", "assignee": "agent-2", "due_at": iso(clock.now() + due_in)}
    response = await http.post(f"/v1/tickets/{ticket['id']}/tasks", json=body, headers=auth(Role.AGENT))
    assert response.status_code == 201, response.text
    return response.json()


async def _kinds(http: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    return [n["kind"] for n in (await http.get("/v1/me/notifications?limit=100", headers=headers)).json()["items"]]


async def test_a_task_gets_one_due_soon_and_one_overdue_reminder(timed_app, auth, clock):
    app, http = timed_app
    remind = app.state.services.tasks.remind
    await _task(http, auth, clock, due_in=timedelta(hours=3))
    handler = auth(Role.AGENT, sub="agent-2")

    assert await remind() == 0
    clock.advance(timedelta(hours=2, minutes=5))
    assert await remind() == 1
    assert await remind() == 0
    clock.advance(timedelta(hours=1))
    assert await remind() == 1
    clock.advance(timedelta(days=1))
    assert await remind() == 0

    assert await _kinds(http, handler) == ["task_overdue", "task_due_soon", "assignment"]
    assert await _kinds(http, auth(Role.MANAGER)) == []  # agent-2 has no supervisor


async def test_an_overdue_task_is_also_reported_to_the_handlers_supervisor(timed_app, auth, clock):
    app, http = timed_app
    await seed_service_desk(http, auth)
    ticket = await open_ticket(http, auth)
    for action in ("claim", "start"):
        await act(http, auth(Role.AGENT), ticket, action)
    body = {"title": "自己的任务", "assignee": "agent-1", "due_at": iso(clock.now() + timedelta(hours=1))}
    assert (await http.post(f"/v1/tickets/{ticket['id']}/tasks", json=body, headers=auth(Role.MANAGER))).is_success
    clock.advance(timedelta(hours=2))

    assert await app.state.services.tasks.remind() == 2

    assert await _kinds(http, auth(Role.MANAGER)) == ["task_overdue"]  # manager-1 supervises agent-1


async def test_a_task_found_already_late_gets_only_the_overdue_reminder(timed_app, auth, clock):
    app, http = timed_app
    await _task(http, auth, clock, due_in=timedelta(hours=3))
    clock.advance(timedelta(hours=4))

    assert await app.state.services.tasks.remind() == 1

    assert await _kinds(http, auth(Role.AGENT, sub="agent-2")) == ["task_overdue", "assignment"]


async def test_reported_tasks_are_not_reminded(timed_app, auth, clock):
    app, http = timed_app
    task = await _task(http, auth, clock, due_in=timedelta(hours=3))
    handler = auth(Role.AGENT, sub="agent-2")
    await http.post(f"/v1/tasks/{task['id']}/actions/start", json={}, headers=handler)
    clock.advance(timedelta(minutes=30))
    report = {"result": "完成", "completed_at": iso(clock.now()), "hours_worked": "0.5"}
    assert (await http.post(f"/v1/tasks/{task['id']}/actions/report", json=report, headers=handler)).status_code == 200
    clock.advance(timedelta(hours=5))

    assert await app.state.services.tasks.remind() == 0


async def test_work_finished_after_the_required_time_is_archived_overdue(timed_app, auth, clock):
    _app, http = timed_app
    task = await _task(http, auth, clock, due_in=timedelta(hours=1))
    handler = auth(Role.AGENT, sub="agent-2")
    await http.post(f"/v1/tasks/{task['id']}/actions/start", json={}, headers=handler)
    clock.advance(timedelta(hours=3))
    listed = (await http.get("/v1/tasks?overdue=true", headers=handler)).json()["items"]
    assert [t["number"] for t in listed] == [task["number"]] and listed[0]["overdue"] is True

    report = {"result": "完成", "completed_at": iso(clock.now()), "hours_worked": "2"}
    await http.post(f"/v1/tasks/{task['id']}/actions/report", json=report, headers=handler)
    approved = await http.post(f"/v1/tasks/{task['id']}/actions/approve", json={}, headers=auth(Role.MANAGER))

    assert approved.json()["status"] == "approved"
    assert approved.json()["outcome"] == "overdue"
    assert approved.json()["approved_hours"] == "2.00"
