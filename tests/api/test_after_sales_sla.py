"""The SLA clocks of after-sales orders over HTTP, on a clock the tests move: review (submitted → decided) and
refund_completion (approved → money back) with their deadlines in the `sla` block, the customer's promise, the timer
scan's breach and escalation (the reviewer's claim released to the pool), and the timer dropped once the order is
final. Also a ticket's breach handing it back to a claim pool."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.domain.principal import Role
from app.main import create_app
from app.persistence.tables import outbox, sla_timers
from tests.api.test_business_calendars import calendar_body
from tests.api.test_sla_clock import AGENT, SH, at, metric, open_ticket, put_policy, read
from tests.conftest import MovableClock, client_for, make_settings
from tests.factories import act, seed_service_desk, seed_shop

HOUR = 3600
REVIEWER = "reviewer-1"


def calendar_time(hours: float) -> dict[str, Any]:
    return {"seconds": int(hours * HOUR), "business": False}


def order_policy(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "售后时效",
        "subject": "after_sales",
        "position": 1,
        "targets": {"review": {"normal": calendar_time(2)}, "refund_completion": {"normal": calendar_time(24)}},
        "warning": None,
        "escalation": {"on_breach": ["assignee", "supervisor"], "raise_level": True, "reassign_to": "pool"},
        **overrides,
    }


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def shop(database_url: str, clock: MovableClock, auth) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(make_settings(database_url), clock=clock)
    async with client_for(app) as http:
        await seed_service_desk(http, auth)
        await seed_shop(http, auth)
        yield app, http


async def put_order_policy(http: httpx.AsyncClient, auth, **overrides: Any) -> None:
    response = await http.put(
        "/v1/sla-policies/after-sales", json=order_policy(**overrides), headers=auth(Role.MANAGER)
    )
    assert response.status_code == 201, response.text


async def submit(http: httpx.AsyncClient, auth) -> dict[str, Any]:
    lines = [{"sku": "SKU-1", "quantity": 1}]
    body = {"order_no": "SO-C-1", "type": "return_refund", "reason_code": "changed_mind", "lines": lines}
    response = await http.post("/v1/after-sales", json=body, headers=auth(Role.CUSTOMER))
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "under_review"
    return response.json()


async def order_act(http: httpx.AsyncClient, headers: dict[str, str], order: dict[str, Any], action: str, **body: Any):
    return await http.post(f"/v1/after-sales/{order['id']}/actions/{action}", json=body, headers=headers)


async def staff_read(http: httpx.AsyncClient, auth, order: dict[str, Any]) -> dict[str, Any]:
    response = await http.get(f"/v1/after-sales/{order['id']}", headers=auth(Role.MANAGER))
    assert response.status_code == 200, response.text
    return response.json()


async def timer_count(app: FastAPI, subject_id: str) -> int:
    async with app.state.services.database.engine.connect() as conn:
        query = select(func.count()).select_from(sla_timers).where(sla_timers.c.subject_id == UUID(subject_id))
        return (await conn.execute(query)).scalar_one()


async def test_a_submitted_order_owes_its_review_and_the_customer_reads_when(shop, auth, clock):
    _, http = shop
    await put_order_policy(http, auth)

    created = await submit(http, auth)

    assert created["sla"]["metrics"] == []  # the customer's own view
    assert created["sla"]["promise"].startswith("预计 ") and created["sla"]["promise"].endswith(" 前完成审核")
    staff = (await staff_read(http, auth, created))["sla"]
    review = metric(staff, "review")
    assert staff["policy"] == "after-sales"
    assert at(review["due_at"]) == clock.now().replace(microsecond=0) + timedelta(hours=2)
    assert (review["target_seconds"], review["business"], review["breached"]) == (2 * HOUR, False, False)
    listed = (await http.get("/v1/after-sales", headers=auth(Role.MANAGER))).json()["items"]
    assert [metric(item["sla"], "review")["due_at"] for item in listed] == [review["due_at"]]


async def test_an_overdue_review_is_breached_once_escalated_and_released_to_the_pool(shop, auth, clock):
    app, http = shop
    await put_order_policy(http, auth)
    created = await submit(http, auth)
    claimed = await order_act(http, auth(Role.REVIEWER, sub=REVIEWER), created, "claim")
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["assignee"] == REVIEWER
    scan = app.state.services.sla.scan

    assert await scan() == 0
    clock.advance(timedelta(hours=3))
    assert await scan() == 1
    assert await scan() == 0

    async with app.state.services.database.engine.connect() as conn:
        rows = (await conn.execute(select(outbox).where(outbox.c.type == "sla.breached"))).all()
    [event] = rows
    assert (event.aggregate_type, str(event.aggregate_id)) == ("after_sales", created["id"])
    assert event.payload["after_sales_id"] == created["id"]
    assert (event.payload["metric"], event.payload["failed_by"], event.payload["assignee"]) == (
        "review",
        HOUR,
        REVIEWER,
    )
    order = await staff_read(http, auth, created)
    assert (order["escalation_level"], order["assignee"]) == (1, None)
    review = metric(order["sla"], "review")
    assert (review["breached"], review["failed_by"]) == (True, HOUR)
    history = (await http.get(f"/v1/after-sales/{created['id']}/timeline", headers=auth(Role.MANAGER))).json()
    [escalation] = [e for e in history["items"] if e["action"] == "escalate"]
    assert (escalation["actor"], escalation["visibility"]) == ("system", "internal")
    assert escalation["payload"]["assignee"] == {"from": REVIEWER, "to": None}
    notices = (await http.get("/v1/me/notifications", headers=auth(Role.REVIEWER, sub=REVIEWER))).json()["items"]
    assert [(n["kind"], n["subject"]["type"]) for n in notices] == [("sla_breached", "after_sales")]


async def test_approval_fulfils_the_review_and_starts_the_refund_clock_which_the_return_pauses(shop, auth, clock):
    _, http = shop
    await put_order_policy(http, auth)
    created = await submit(http, auth)
    clock.advance(timedelta(minutes=30))

    approved = await order_act(http, auth(Role.REVIEWER), created, "approve")

    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "awaiting_return"
    sla = (await staff_read(http, auth, created))["sla"]
    review, refund = metric(sla, "review"), metric(sla, "refund_completion")
    assert at(review["fulfilled_at"]) == clock.now().replace(microsecond=0)
    assert (review["breached"], review["remaining_seconds"]) == (False, HOUR + HOUR // 2)
    assert (refund["paused"], refund["due_at"], refund["remaining_seconds"]) == (True, None, 24 * HOUR)


async def test_a_final_order_drops_its_timer(shop, auth):
    app, http = shop
    await put_order_policy(http, auth)
    created = await submit(http, auth)
    assert await timer_count(app, created["id"]) == 1

    rejected = await order_act(http, auth(Role.REVIEWER), created, "reject", reason="超出退货期")

    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    assert await timer_count(app, created["id"]) == 0
    assert metric((await staff_read(http, auth, created))["sla"], "review")["fulfilled_at"] is not None


@pytest.mark.parametrize(("reassign_to", "group"), [("pool", None), ("east", "east")])
async def test_a_ticket_breach_hands_it_to_a_claim_pool(shop, auth, clock, reassign_to, group):
    app, http = shop
    targets = {"first_reply": {"normal": calendar_time(1)}}
    await put_policy(http, auth, targets=targets, escalation={"raise_level": False, "reassign_to": reassign_to})
    created = await open_ticket(http, auth)
    agent = auth(Role.AGENT, sub=AGENT)
    for action in ("claim", "start"):
        assert (await act(http, agent, created, action)).status_code == 200
    clock.advance(timedelta(hours=2))

    assert await app.state.services.sla.scan() == 1

    ticket = await read(http, auth(Role.MANAGER), created)
    assert (ticket["status"], ticket["assignee"], ticket["group_key"], ticket["escalation_level"]) == (
        "new",
        None,
        group,
        0,
    )
    history = (await http.get(f"/v1/tickets/{created['id']}/timeline", headers=auth(Role.MANAGER))).json()["items"]
    [escalation] = [e for e in history if e["action"] == "escalate"]
    assert (escalation["from_status"], escalation["to_status"]) == ("in_progress", "new")
    assert escalation["payload"]["assignee"] == {"from": AGENT, "to": None}
    claimable = await act(http, auth(Role.AGENT, sub="agent-2"), ticket, "claim")
    assert claimable.status_code == 200, claimable.text


async def test_a_calendar_edit_rederives_an_open_orders_timer(shop, auth):
    app, http = shop
    put_calendar = await http.put("/v1/business-calendars/cn", json=calendar_body(), headers=auth(Role.MANAGER))
    assert put_calendar.status_code == 201, put_calendar.text
    business_review = {"review": {"normal": {"seconds": 2 * HOUR, "business": True, "calendar": "cn"}}}
    await put_order_policy(http, auth, targets=business_review)
    created = await submit(http, auth)
    due = at(metric((await staff_read(http, auth, created))["sla"], "review")["due_at"])
    closed = [{"date": due.astimezone(SH).date().isoformat(), "name": "临时停业"}]

    edited = await http.put(
        "/v1/business-calendars/cn", json=calendar_body(overrides=closed), headers=auth(Role.MANAGER)
    )

    assert edited.status_code == 200, edited.text
    assert await app.state.services.sla.rederive() >= 1
    async with app.state.services.database.engine.connect() as conn:
        query = select(sla_timers.c.due_at).where(sla_timers.c.subject_id == UUID(created["id"]))
        moved = (await conn.execute(query)).scalar_one()
    assert moved > due
    assert at(metric((await staff_read(http, auth, created))["sla"], "review")["due_at"]) == moved
