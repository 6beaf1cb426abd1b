"""Re-deriving open tickets' SLA timers after a calendar or policy change: requested in the change's transaction,
walked by the `sla_rederive` job in batches that keep a cursor, idempotent, and visible at /v1/sla-rederivations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.domain.principal import Role
from app.main import create_app
from app.persistence.tables import sla_timers
from app.persistence.unit_of_work import SqlUnitOfWorkFactory
from app.services.sla import SlaService
from tests.api.test_business_calendars import calendar_body
from tests.api.test_sla_clock import SH, metric, next_friday_at_five, open_ticket, put_policy, read, sh
from tests.conftest import MovableClock, client_for, make_settings
from tests.factories import seed_service_desk

BASE = "/v1/sla-rederivations"


@pytest.fixture
def clock() -> MovableClock:
    clock = MovableClock()
    clock.advance(next_friday_at_five() - clock.now())
    return clock


@pytest.fixture
async def desk(database_url: str, clock: MovableClock, auth) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app on the moved clock with the `cn` calendar and the `standard` policy (first reply in 2 business
    hours): a ticket opened now owes its first reply on Monday at 10:00."""
    app = create_app(make_settings(database_url), clock=clock)
    async with client_for(app) as http:
        await seed_service_desk(http, auth)
        created = await http.put("/v1/business-calendars/cn", json=calendar_body(), headers=auth(Role.MANAGER))
        assert created.status_code == 201, created.text
        await put_policy(http, auth)
        yield app, http


def monday(clock: MovableClock) -> date:
    return clock.now().astimezone(SH).date() + timedelta(days=3)


async def close_day(http: httpx.AsyncClient, auth, *days: date) -> None:
    """The `cn` calendar with exactly `days` closed."""
    closed = [{"date": day.isoformat(), "name": "临时停业"} for day in days]
    response = await http.put(
        "/v1/business-calendars/cn", json=calendar_body(overrides=closed), headers=auth(Role.MANAGER)
    )
    assert response.status_code == 200, response.text


async def timers(app: FastAPI) -> dict[UUID, tuple[datetime | None, datetime]]:
    """Every stored timer: (due_at, updated_at) by ticket id."""
    async with app.state.services.database.engine.connect() as conn:
        rows = await conn.execute(select(sla_timers.c.subject_id, sla_timers.c.due_at, sla_timers.c.updated_at))
        return {row.subject_id: (row.due_at, row.updated_at) for row in rows}


async def progress(http: httpx.AsyncClient, auth, **params: Any) -> dict[str, Any]:
    response = await http.get(BASE, params=params, headers=auth(Role.AGENT))
    assert response.status_code == 200, response.text
    return response.json()


def small_batches(app: FastAPI, clock: MovableClock, size: int) -> SlaService:
    """The SLA service of the app's database, walking `size` timers per transaction."""
    return SlaService(SqlUnitOfWorkFactory(app.state.services.database), clock, rederive_batch=size)


async def test_closing_a_day_moves_an_open_tickets_timer_once_the_rederivation_runs(desk, auth, clock):
    app, http = desk
    ticket = await open_ticket(http, auth)
    ticket_id = UUID(ticket["id"])
    day = monday(clock)
    await close_day(http, auth, day)
    before = (await timers(app))[ticket_id][0]
    waiting = (await progress(http, auth))["items"][0]

    walked = await app.state.services.sla.rederive()

    assert before == sh(day, 10)
    assert (waiting["reason"], waiting["done"], waiting["finished_at"]) == ("business_calendar.updated:cn", 0, None)
    assert walked == 1
    assert (await timers(app))[ticket_id][0] == sh(day + timedelta(days=1), 10)
    shown = metric((await read(http, auth(Role.MANAGER), ticket))["sla"], "first_reply")["due_at"]
    assert datetime.fromisoformat(shown.replace("Z", "+00:00")) == sh(day + timedelta(days=1), 10)
    finished = (await progress(http, auth))["items"][0]
    assert (finished["id"], finished["done"]) == (waiting["id"], 1)
    assert finished["finished_at"] is not None


async def test_running_the_rederivation_again_changes_nothing_more(desk, auth, clock):
    app, http = desk
    ticket_id = UUID((await open_ticket(http, auth))["id"])
    await close_day(http, auth, monday(clock))
    rederive = app.state.services.sla.rederive
    assert await rederive() == 1
    moved = await timers(app)
    clock.advance(timedelta(minutes=5))
    renamed = await http.put(
        "/v1/business-calendars/cn",
        json=calendar_body(name="上海客服", overrides=[{"date": monday(clock).isoformat(), "name": "临时停业"}]),
        headers=auth(Role.MANAGER),
    )
    assert renamed.status_code == 200, renamed.text

    again, nothing_left = await rederive(), await rederive()

    assert (again, nothing_left) == (1, 0)  # the rename's request walks the ticket, then no request is left
    assert await timers(app) == moved  # not even updated_at: a timer whose due_at stays is not written
    assert moved[ticket_id][0] is not None
    items = (await progress(http, auth))["items"]
    assert [(i["reason"], i["done"], i["finished_at"] is not None) for i in items[:2]] == [
        ("business_calendar.updated:cn", 1, True),
        ("business_calendar.updated:cn", 1, True),
    ]


async def test_an_interrupted_rederivation_resumes_after_its_last_batch(desk, auth, clock):
    app, http = desk
    tickets = sorted([UUID((await open_ticket(http, auth))["id"]) for _ in range(3)])
    day = monday(clock)
    await close_day(http, auth, day)
    service = small_batches(app, clock, 2)

    first = await service.rederive(batches=1)
    halfway, stopped = await timers(app), (await progress(http, auth))["items"][0]
    rest = await service.rederive()

    assert first == 2
    assert [halfway[t][0] for t in tickets] == [sh(day + timedelta(days=1), 10)] * 2 + [sh(day, 10)]
    assert (stopped["done"], stopped["finished_at"]) == (2, None)
    assert rest == 1  # the third ticket only: the walk went on from its cursor
    assert {timer[0] for timer in (await timers(app)).values()} == {sh(day + timedelta(days=1), 10)}
    done = (await progress(http, auth))["items"][0]
    assert (done["id"], done["done"], done["finished_at"] is not None) == (stopped["id"], 3, True)


async def test_a_newer_request_supersedes_one_still_running(desk, auth, clock):
    app, http = desk
    for _ in range(3):
        await open_ticket(http, auth)
    day = monday(clock)
    await close_day(http, auth, day)
    service = small_batches(app, clock, 2)
    assert await service.rederive(batches=1) == 2
    clock.advance(timedelta(minutes=1))
    await close_day(http, auth, day, day + timedelta(days=1))  # Tuesday closed too: the first reply is owed Wednesday

    walked = await service.rederive()

    assert walked == 3  # the newer request walked every ticket from the start
    assert {timer[0] for timer in (await timers(app)).values()} == {sh(day + timedelta(days=2), 10)}
    newer, older = (await progress(http, auth, limit=2))["items"]
    assert (newer["done"], newer["superseded_by"], newer["finished_at"] is not None) == (3, None, True)
    assert (older["done"], older["superseded_by"], older["finished_at"] is not None) == (2, newer["id"], True)


async def test_policy_changes_request_a_rederivation_and_staff_page_through_them(desk, auth):
    _, http = desk
    await put_policy(http, auth, key="vip", conditions={"vip": True})
    listed = await http.get(BASE, headers=auth(Role.CUSTOMER))

    first = await progress(http, auth, limit=2)
    second = await progress(http, auth, limit=2, cursor=first["next_cursor"])

    assert listed.status_code == 403
    reasons = [item["reason"] for item in first["items"] + second["items"]]
    assert reasons == ["sla_policy.created:vip", "sla_policy.created:standard", "business_calendar.created:cn"]
    assert second["next_cursor"] is None
    assert set(first["items"][0]) == {"id", "reason", "requested_at", "done", "finished_at", "superseded_by"}
