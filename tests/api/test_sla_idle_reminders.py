"""Idle reminders (长时间未更新提醒): a ticket without an update for its policy's `idle_reminder` time reminds its
assignee, and for its `idle_escalation` time their supervisor, counted in business time from the latest update; each
reminder once per idle spell, never a breach, never in the `sla` block. On the Shanghai office calendar (09:00-12:00,
13:30-18:00 Monday to Friday) and a clock the tests move, starting on a Friday at 17:00."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from app.domain.principal import Role
from app.persistence.tables import outbox
from tests.api.test_sla_clock import AGENT, SH, business, desk, friday_clock, open_ticket, put_policy, read, sh
from tests.conftest import MovableClock
from tests.factories import act

__all__ = ["desk", "friday_clock"]  # fixtures

SUPERVISOR = "manager-1"
IDLE_TARGETS = {
    "first_reply": {"normal": business(8)},
    "idle_reminder": {"normal": business(1)},
    "idle_escalation": {"normal": business(3)},
}


async def reminders(http: httpx.AsyncClient, auth, subject: str, role: Role = Role.AGENT) -> list[dict[str, Any]]:
    items = (await http.get("/v1/me/notifications?limit=100", headers=auth(role, sub=subject))).json()["items"]
    return [n for n in items if n["kind"] == "idle_reminder"]


async def idle_events(app: FastAPI) -> list[dict[str, Any]]:
    async with app.state.services.database.engine.connect() as conn:
        rows = await conn.execute(select(outbox.c.payload).where(outbox.c.type == "ticket.idle").order_by(outbox.c.id))
        return [row.payload for row in rows]


def monday(clock: MovableClock):
    return clock.now().astimezone(SH).date() + timedelta(days=3)


def move_to(clock: MovableClock, when) -> None:
    clock.advance(when - clock.now())


async def claimed_ticket(http: httpx.AsyncClient, auth) -> dict[str, Any]:
    created = await open_ticket(http, auth)
    assert (await act(http, auth(Role.AGENT, sub=AGENT), created, "claim")).status_code == 200
    return created


async def test_an_idle_ticket_reminds_its_assignee_then_the_supervisor_once_each(desk, auth, friday_clock):
    app, http = desk
    await put_policy(http, auth, targets=IDLE_TARGETS, warning={"share": 0.5})
    created = await claimed_ticket(http, auth)  # Friday 17:00
    scan = app.state.services.sla.scan
    friday, day = friday_clock.now().astimezone(SH).date(), monday(friday_clock)

    move_to(friday_clock, sh(friday, 17, 59))
    assert await scan() == 0
    move_to(friday_clock, sh(friday, 18))  # one business hour without an update
    assert await scan() == 1
    assert await scan() == 0
    move_to(friday_clock, sh(day, 10, 59))
    assert await scan() == 0
    move_to(friday_clock, sh(day, 11))  # three business hours: 17-18 on Friday, 9-11 on Monday
    assert await scan() == 1
    assert await scan() == 0

    assert [n["data"]["reminder"] for n in await reminders(http, auth, AGENT)] == ["assignee"]
    assert [n["data"]["reminder"] for n in await reminders(http, auth, SUPERVISOR, Role.MANAGER)] == ["supervisor"]
    events = await idle_events(app)
    assert [(e["reminder"], e["number"], e["assignee"]) for e in events] == [
        ("assignee", created["number"], AGENT),
        ("supervisor", created["number"], AGENT),
    ]
    claimed_at = sh(friday, 17).astimezone(UTC).isoformat().replace("+00:00", "Z")
    assert [e["idle_since"] for e in events] == [claimed_at, claimed_at]
    ticket = await read(http, auth(Role.MANAGER), created)
    assert [m["metric"] for m in ticket["sla"]["metrics"]] == ["first_reply"]  # reminders are not SLA targets
    assert ticket["escalation_level"] == 0  # a reminder is no breach


async def test_every_update_restarts_the_idle_spell(desk, auth, friday_clock):
    app, http = desk
    await put_policy(http, auth, targets=IDLE_TARGETS)
    created = await claimed_ticket(http, auth)
    scan = app.state.services.sla.scan
    day = monday(friday_clock)
    move_to(friday_clock, sh(day, 9, 30))
    assert await scan() == 1  # Friday 18:00's reminder, noticed late

    note = {"body": "内部：已联系仓库", "visibility": "internal"}
    commented = await http.post(f"/v1/tickets/{created['id']}/comments", json=note, headers=auth(Role.AGENT, sub=AGENT))
    assert commented.status_code == 201, commented.text
    move_to(friday_clock, sh(day, 10, 29))
    assert await scan() == 0  # the note at 09:30 restarted the count: the next reminder falls at 10:30
    move_to(friday_clock, sh(day, 10, 30))
    assert await scan() == 1

    assert len(await reminders(http, auth, AGENT)) == 2


async def test_waiting_on_the_customer_and_resolving_stop_the_reminders(desk, auth, friday_clock):
    app, http = desk
    await put_policy(http, auth, targets=IDLE_TARGETS)
    waiting, resolved = await claimed_ticket(http, auth), await claimed_ticket(http, auth)
    agent = auth(Role.AGENT, sub=AGENT)
    for ticket in (waiting, resolved):
        assert (await act(http, agent, ticket, "start")).status_code == 200
    assert (await act(http, agent, waiting, "request_info", question="请提供购买凭证")).status_code == 200
    resolution = {"solution": "已更换滤网"}
    assert (await act(http, agent, resolved, "resolve", **resolution)).status_code == 200, "resolve"

    move_to(friday_clock, sh(monday(friday_clock) + timedelta(days=7), 12))
    assert await app.state.services.sla.scan() == 0

    assert await reminders(http, auth, AGENT) == []


async def test_after_sales_policies_have_no_idle_reminders(desk, auth):
    _, http = desk
    body = {
        "name": "售后时效",
        "subject": "after_sales",
        "position": 1,
        "targets": {"idle_reminder": {"normal": {"seconds": 3600, "business": False}}},
    }

    response = await http.put("/v1/sla-policies/after-sales", json=body, headers=auth(Role.MANAGER))

    assert response.status_code == 422, response.text
    assert [e["pointer"] for e in response.json()["errors"]] == ["#/targets/idle_reminder"]
