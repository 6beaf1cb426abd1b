"""客诉激增 on a clock the tests move, through the real API and database: a week of steady hourly tickets learned by
the first pass and a day more judged raise no alarm; a burst posted through POST /v1/tickets is announced within its
hour, once (one `risk.spike_detected`, one notification per manager), stays one spike while it lasts, ends after
the calm hours, and a new burst is a new spike. Staff list the spikes with filters, scope and pages; the settings
document refuses bad values naming each field and writes nothing, and a change of dimension starts the watch over;
on PostgreSQL two concurrent passes announce a burst once."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.domain.complaint_spike_watch import Spike
from app.domain.complaint_spikes import SeriesKey
from app.domain.ids import new_id
from app.domain.principal import Role
from app.domain.tickets import Channel, Priority, Ticket, TicketType
from app.main import create_app
from app.persistence.tables import complaint_series, outbox
from app.persistence.unit_of_work import SqlUnitOfWorkFactory
from app.services.complaint_spikes import SPIKE_DETECTED, hour_of
from bench.spike_bench import poisson
from tests.conftest import MovableClock, client_for, make_settings
from tests.factories import agent_body, iso, put, seed_service_desk, ticket_body
from tests.problems import problem_fields

SETTINGS = "/v1/settings/complaint-spikes"
SPIKES = "/v1/complaint-spikes"
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
MANAGERS = ("manager-1", "manager-2")
DEFAULTS = {
    "enabled": True,
    "product_dimension": "sku",
    "p": 1e-6,
    "min_count": 5,
    "half_life_hours": "336.00",
    "warmup_hours": "168.00",
    "end_after_hours": "3.00",
    "baseline_floor": 0.5,
    "season_hours": "24.00",
}
REPAIRS = SeriesKey("SKU-1", "CN-31", "repair")
QUESTIONS = SeriesKey("SKU-1", "CN-31", "consultation")
RATE = 3.0
"""Steady tickets an hour of each series: about 3, Poisson-drawn with a fixed seed."""
BURST = 20


@pytest.fixture
async def desk(database_url: str, clock: MovableClock, auth) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app on the moved clock, the service desk seeded (SKU-1 of the `home` line) and a second manager."""
    app = create_app(make_settings(database_url), clock=clock)
    async with client_for(app) as http:
        await seed_service_desk(http, auth)
        await put(http, auth(Role.ADMIN), "/v1/agents/manager-2", agent_body(name="周经理", roles=["manager"]))
        yield app, http


async def put_settings(http: httpx.AsyncClient, auth, **changes: Any) -> httpx.Response:
    manager = auth(Role.MANAGER)
    current = await http.get(SETTINGS, headers=manager)
    body = {k: v for k, v in current.json().items() if k != "version"} | changes
    return await http.put(SETTINGS, json=body, headers={**manager, "If-Match": current.headers["etag"]})


class History:
    """Tickets written straight through the repository, hour by hour (the API would take minutes for weeks)."""

    def __init__(self, app: FastAPI, seed: int = 20260302) -> None:
        self._app = app
        self._rng = random.Random(seed)
        self._sequence = 0

    async def steady(self, first: datetime, hours: int, keys: tuple[SeriesKey, ...] = (REPAIRS, QUESTIONS)) -> None:
        """About RATE tickets of each series in each of `hours` hours from `first`, at random minutes."""
        rows = []
        for hour in range(hours):
            for key in keys:
                for _ in range(poisson(self._rng, RATE)):
                    rows.append((key, first + hour * HOUR + self._rng.randrange(3600) * timedelta(seconds=1)))
        async with writing(self._app) as uow:
            for key, at in rows:
                self._sequence += 1
                await uow.tickets.add(_ticket(key, at, self._sequence))
            await uow.commit()


def writing(app: FastAPI) -> Any:
    """A write transaction on the app's database, for arranging what the API would take too long to."""
    return SqlUnitOfWorkFactory(app.state.services.database).write()


def _ticket(key: SeriesKey, at: datetime, sequence: int) -> Ticket:
    return Ticket(
        id=new_id(),
        number=f"T-2000-{sequence:06d}",
        customer_no="C-1",
        channel=Channel.APP,
        type=TicketType(key.ticket_type),
        priority=Priority.NORMAL,
        title="净化器异响",
        description="开机后有明显异响。",
        status="closed",
        created_by="history",
        created_at=at,
        updated_at=at,
        sku=key.product,
        region=key.region,
        business_line="home",
        finished_at=at,
    )


async def burst(http: httpx.AsyncClient, auth, count: int = BURST) -> None:
    """Repair tickets of SKU-1 in CN-31 through the API, as the customers' reports arrive."""
    agent = auth(Role.AGENT)
    for _ in range(count):
        response = await http.post("/v1/tickets", json=ticket_body(region="CN-31"), headers=agent)
        assert response.status_code == 201, response.text


async def detected(app: FastAPI) -> list[dict[str, Any]]:
    async with app.state.services.database.engine.connect() as conn:
        rows = await conn.execute(
            select(outbox.c.payload).where(outbox.c.type == SPIKE_DETECTED).order_by(outbox.c.sequence)
        )
        return [row.payload for row in rows]


async def spike_notices(http: httpx.AsyncClient, auth, user: str) -> list[dict[str, Any]]:
    response = await http.get("/v1/me/notifications", params={"limit": 100}, headers=auth(Role.MANAGER, sub=user))
    assert response.status_code == 200, response.text
    return [n for n in response.json()["items"] if n["kind"] == "complaint_spike"]


async def listed(http: httpx.AsyncClient, auth, **params: Any) -> list[dict[str, Any]]:
    response = await http.get(SPIKES, params=params, headers=auth(Role.AGENT))
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def learned_week(app: FastAPI, http: httpx.AsyncClient, auth, clock: MovableClock, *young: SeriesKey) -> History:
    """Eight days of steady tickets before the current hour (the last three hours only for `young` series), the
    settings saved, and the first pass, which learns the last week (the warm-up) and judges nothing."""
    assert (await put_settings(http, auth, **DEFAULTS)).status_code == 200
    history = History(app)
    start = hour_of(clock.now())
    await history.steady(start - 8 * 24 * HOUR, 8 * 24)
    await history.steady(start - 3 * HOUR, 3, young)
    assert await app.state.services.complaint_spikes.run() == 168
    assert await detected(app) == []
    return history


async def next_hour(app: FastAPI, clock: MovableClock, history: History) -> int:
    """The clock to a minute into the next hour, the hour just ended given its steady tickets, one pass."""
    ended = hour_of(clock.now())
    clock.advance(ended + HOUR + MINUTE - clock.now())
    await history.steady(ended, 1)
    return await app.state.services.complaint_spikes.run()


async def test_steady_traffic_raises_no_alarm_and_a_burst_is_one_spike_announced_within_its_hour(desk, auth, clock):
    app, http = desk
    history = await learned_week(app, http, auth, clock)
    for _ in range(24):
        assert await next_hour(app, clock, history) == 1
    assert await detected(app) == []

    clock.advance(9 * MINUTE)  # 10 minutes into the hour
    surge_hour = hour_of(clock.now())
    await burst(http, auth)
    assert await app.state.services.complaint_spikes.run() == 0  # nothing to fold: the hour is under way

    [event] = await detected(app)
    assert (event["product"], event["region"], event["ticket_type"]) == ("SKU-1", "CN-31", "repair")
    assert (event["started_at"], event["count"], event["hour_complete"]) == (iso(surge_hour), BURST, False)
    assert event["count"] > event["bound"] >= event["baseline"] and event["business_line"] == "home"
    for manager in MANAGERS:
        [notice] = await spike_notices(http, auth, manager)
        assert notice["subject"] == {"type": "complaint_spike", "id": event["spike_id"], "ref": "SKU-1"}
        assert notice["title"].startswith("客诉激增：SKU-1（CN-31）报修工单")

    await burst(http, auth, 10)  # the surge goes on, in the same hour and the next
    await app.state.services.complaint_spikes.run()
    await next_hour(app, clock, history)
    await burst(http, auth)
    await app.state.services.complaint_spikes.run()

    assert len(await detected(app)) == 1
    assert [len(await spike_notices(http, auth, manager)) for manager in MANAGERS] == [1, 1]
    [spike] = await listed(http, auth)
    assert (spike["id"], spike["started_at"], spike["open"]) == (event["spike_id"], iso(surge_hour), True)
    assert spike["count"] >= BURST + 10  # the whole first hour, once it was over

    for _ in range(4):  # the hour with the second burst is over too; then three calm hours end the spike
        await next_hour(app, clock, history)
    [ended] = await listed(http, auth)
    assert (ended["open"], ended["ended_at"]) == (False, iso(surge_hour + 5 * HOUR))
    assert len(await detected(app)) == 1

    await burst(http, auth)
    await app.state.services.complaint_spikes.run()
    first, second = await detected(app)
    assert second["spike_id"] != first["spike_id"] and second["started_at"] == iso(hour_of(clock.now()))
    assert [len(await spike_notices(http, auth, manager)) for manager in MANAGERS] == [2, 2]
    assert [s["open"] for s in await listed(http, auth)] == [True, False]  # newest first


async def test_the_first_pass_learns_only_the_warm_up_and_a_young_series_is_not_judged(desk, auth, clock):
    app, http = desk
    young = SeriesKey("SKU-1", "CN-44", "repair")  # a region whose tickets began three hours ago
    history = await learned_week(app, http, auth, clock, young)
    await next_hour(app, clock, history)

    agent = auth(Role.AGENT)
    for _ in range(BURST):
        response = await http.post("/v1/tickets", json=ticket_body(region="CN-44"), headers=agent)
        assert response.status_code == 201
    await app.state.services.complaint_spikes.run()

    assert await detected(app) == []  # its series is in its warm-up: a few hours seen of 168
    async with app.state.services.database.engine.connect() as conn:
        repairs = select(complaint_series.c.region, complaint_series.c.hours_seen).where(
            complaint_series.c.ticket_type == "repair"
        )
        seen = {row.region: row.hours_seen for row in await conn.execute(repairs)}
    assert seen["CN-44"] == 3  # its hours with tickets: the quiet hour since is folded in when it next has some
    assert seen["CN-31"] <= 168 + 1  # the warm-up week and the hour since, not the eight days written


async def test_switched_off_nothing_is_judged_and_a_change_of_dimension_starts_over(desk, auth, clock):
    app, http = desk
    history = await learned_week(app, http, auth, clock)
    clock.advance(10 * MINUTE)
    await burst(http, auth)
    await app.state.services.complaint_spikes.run()
    [spike] = await listed(http, auth)
    assert spike["open"]

    changed = await put_settings(http, auth, product_dimension="business_line")
    assert changed.status_code == 200, changed.text
    [ended] = await listed(http, auth)
    assert ended["ended_at"] == iso(clock.now())  # the watch starts over: the open spike ends now
    async with app.state.services.database.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(complaint_series))).scalar_one() == 0
    assert await app.state.services.complaint_spikes.run() == 168  # the warm-up learned again, by business line
    by_sku, by_line = await detected(app)  # the burst still under way, judged as the `home` line's
    assert (by_sku["product"], by_line["product"], by_line["product_dimension"]) == ("SKU-1", "home", "business_line")

    assert (await put_settings(http, auth, enabled=False)).status_code == 200
    assert all(not s["open"] for s in await listed(http, auth))
    assert await next_hour(app, clock, history) == 0
    await burst(http, auth, 40)
    assert await app.state.services.complaint_spikes.run() == 0
    assert len(await detected(app)) == 2


async def test_staff_list_spikes_newest_first_with_filters_pages_and_their_business_lines(desk, auth, clock):
    app, http = desk
    now = hour_of(clock.now())
    found = [
        Spike(new_id(), SeriesKey("SKU-1", "CN-31", "repair"), now - 30 * HOUR, 12, 2.5, 11, now, "home", now),
        Spike(new_id(), SeriesKey("SKU-2", "CN-31", "complaint"), now - 20 * HOUR, 9, 1.0, 7, now, "office"),
        Spike(new_id(), SeriesKey("SKU-1", "CN-44", "complaint"), now - 10 * HOUR, 30, 4.0, 15, now, "home"),
    ]
    async with writing(app) as uow:
        for spike in found:
            assert await uow.complaint_spikes.add_spike(spike)
        await uow.commit()
    ids = [str(spike.id) for spike in found]

    assert [s["id"] for s in await listed(http, auth)] == ids[::-1]
    assert [s["id"] for s in await listed(http, auth, product="SKU-1")] == [ids[2], ids[0]]
    assert [s["id"] for s in await listed(http, auth, region="CN-31", ticket_type="complaint")] == [ids[1]]
    assert [s["id"] for s in await listed(http, auth, open="true")] == [ids[2], ids[1]]
    assert [s["id"] for s in await listed(http, auth, open="false")] == [ids[0]]
    window = {"started_from": iso(now - 25 * HOUR), "started_to": iso(now - 10 * HOUR)}
    assert [s["id"] for s in await listed(http, auth, **window)] == [ids[1]]

    manager = auth(Role.MANAGER)
    first = await http.get(SPIKES, params={"limit": 2}, headers=manager)
    rest = await http.get(SPIKES, params={"limit": 2, "cursor": first.json()["next_cursor"]}, headers=manager)
    assert [s["id"] for s in first.json()["items"] + rest.json()["items"]] == ids[::-1]
    assert rest.json()["next_cursor"] is None

    office = await http.get(SPIKES, headers=auth(Role.MANAGER, business_lines=("office",)))
    assert [s["id"] for s in office.json()["items"]] == [ids[1]]
    [oldest] = [s for s in await listed(http, auth) if s["id"] == ids[0]]
    assert oldest == {
        "id": ids[0],
        "product": "SKU-1",
        "region": "CN-31",
        "ticket_type": "repair",
        "business_line": "home",
        "started_at": iso(now - 30 * HOUR),
        "count": 12,
        "baseline": 2.5,
        "bound": 11,
        "detected_at": iso(now),
        "open": False,
        "ended_at": iso(now),
    }
    bad = await http.get(SPIKES, params={"ticket_type": "noise"}, headers=auth(Role.AGENT))
    assert problem_fields(bad, 422, "validation_failed") == {"ticket_type"}


async def test_the_settings_refuse_bad_values_naming_each_and_write_nothing(desk, auth):
    _, http = desk
    manager = auth(Role.MANAGER)
    current = await http.get(SETTINGS, headers=manager)
    assert (current.headers["etag"], current.json()) == ('"0"', {**DEFAULTS, "version": 0})

    def sent(**changes: Any) -> dict[str, Any]:
        return {**DEFAULTS, **changes}

    guarded = {**manager, "If-Match": '"0"'}
    typed = await http.put(SETTINGS, json=sent(p=0.5, min_count=0, baseline_floor=0, extra=1), headers=guarded)
    assert problem_fields(typed, 422, "validation_failed") == {"#/p", "#/min_count", "#/baseline_floor", "#/extra"}
    ruled = await http.put(
        SETTINGS,
        json=sent(half_life_hours="2.50", warmup_hours="9000", end_after_hours="169", season_hours="12"),
        headers=guarded,
    )
    assert problem_fields(ruled, 422, "invalid_spike_settings") == {
        "#/half_life_hours",
        "#/warmup_hours",
        "#/end_after_hours",
        "#/season_hours",
    }
    short = await http.put(SETTINGS, json=sent(warmup_hours="100", season_hours="168"), headers=guarded)
    assert problem_fields(short, 422, "invalid_spike_settings") == {"#/warmup_hours"}
    loose = await http.put(SETTINGS, json=sent(half_life_hours=336, enabled="yes"), headers=guarded)
    assert problem_fields(loose, 422, "validation_failed") == {"#/half_life_hours", "#/enabled"}
    assert (await http.get(SETTINGS, headers=manager)).json()["version"] == 0  # nothing written

    saved = await http.put(SETTINGS, json=sent(p=1e-4, warmup_hours="48"), headers=guarded)
    assert (saved.status_code, saved.headers["etag"]) == (200, '"1"'), saved.text
    assert (saved.json()["p"], saved.json()["warmup_hours"]) == (1e-4, "48.00")
    stale = await http.put(SETTINGS, json=DEFAULTS, headers=guarded)
    assert (stale.status_code, stale.json()["code"]) == (412, "etag_mismatch")
    agent = await http.put(SETTINGS, json=DEFAULTS, headers={**auth(Role.AGENT), "If-Match": '"1"'})
    assert agent.status_code == 403


async def test_the_spike_event_is_offered_to_webhook_subscriptions(desk, auth):
    _, http = desk

    types = await http.get("/v1/webhook-event-types", headers=auth(Role.INTEGRATION))

    assert SPIKE_DETECTED in types.json()


@pytest.mark.postgres_only
async def test_two_concurrent_passes_announce_a_burst_once(desk, auth, clock):
    app, http = desk
    assert (await put_settings(http, auth, **DEFAULTS)).status_code == 200
    history = History(app)
    await history.steady(hour_of(clock.now()) - 8 * 24 * HOUR, 8 * 24)
    await burst(http, auth)
    job = app.state.services.complaint_spikes

    folded = await asyncio.gather(job.run(), job.run())

    assert sum(folded) == 168  # each hour folded once: the passes took turns on the cursor, a day at a time
    assert len(await detected(app)) == 1
    assert [len(await spike_notices(http, auth, manager)) for manager in MANAGERS] == [1, 1]
