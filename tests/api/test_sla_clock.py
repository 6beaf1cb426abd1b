"""The SLA clock of tickets over HTTP, on a clock the tests move and a Shanghai office calendar (09:00-12:00,
13:30-18:00 Monday to Friday): deadlines in business time, fulfilment by a public agent reply, pauses while waiting
on the customer, the customer's promise, tickets no policy covers, and the timer scan's warnings, breaches and
escalation, each acted on once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.domain.business_time import BusinessCalendar, hours, weekdays
from app.domain.principal import Role
from app.main import create_app
from app.persistence.tables import outbox
from tests.api.test_business_calendars import calendar_body
from tests.api.test_statement_counts import budget, counted
from tests.conftest import MovableClock, client_for, make_settings
from tests.factories import act, customer_body, seed_service_desk, ticket_body

SH = ZoneInfo("Asia/Shanghai")
HOUR = 3600
CN = BusinessCalendar("Asia/Shanghai", weekdays(hours("09:00-12:00", "13:30-18:00")))
AGENT = "agent-1"  # supervised by manager-1 (seed_service_desk)


def next_friday_at_five() -> datetime:
    """17:00 Shanghai time on a Friday at least a week ahead: no order or token of the seed lies after it."""
    today = datetime.now(SH).date() + timedelta(days=7)
    friday = today + timedelta(days=(4 - today.weekday()) % 7)
    return datetime(friday.year, friday.month, friday.day, 17, tzinfo=SH)


def business(hours_: float) -> dict[str, Any]:
    return {"seconds": int(hours_ * HOUR), "business": True, "calendar": "cn"}


def policy_body(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "标准服务",
        "subject": "ticket",
        "position": 1,
        "targets": {"first_reply": {"normal": business(2)}, "resolution": {"normal": business(16)}},
        "warning": None,
        **overrides,
    }


@pytest.fixture
def friday_clock() -> MovableClock:
    clock = MovableClock()
    clock.advance(next_friday_at_five() - clock.now())
    return clock


@pytest.fixture
async def desk(database_url: str, friday_clock: MovableClock, auth) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app on the moved clock, with the service desk seeded and the `cn` business calendar."""
    app = create_app(make_settings(database_url), clock=friday_clock)
    async with client_for(app) as http:
        await seed_service_desk(http, auth)
        calendar = await http.put("/v1/business-calendars/cn", json=calendar_body(), headers=auth(Role.MANAGER))
        assert calendar.status_code == 201, calendar.text
        yield app, http


async def put_policy(http: httpx.AsyncClient, auth, key: str = "standard", **overrides: Any) -> None:
    response = await http.put(f"/v1/sla-policies/{key}", json=policy_body(**overrides), headers=auth(Role.MANAGER))
    assert response.status_code == 201, response.text


async def open_ticket(http: httpx.AsyncClient, auth, **overrides: Any) -> dict[str, Any]:
    response = await http.post("/v1/tickets", json=ticket_body(**overrides), headers=auth(Role.AGENT, sub=AGENT))
    assert response.status_code == 201, response.text
    return response.json()


async def read(http: httpx.AsyncClient, headers: dict[str, str], ticket: dict[str, Any]) -> dict[str, Any]:
    response = await http.get(f"/v1/tickets/{ticket['id']}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def metric(sla: dict[str, Any], name: str) -> dict[str, Any]:
    return next(m for m in sla["metrics"] if m["metric"] == name)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def sh(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SH)


async def test_a_ticket_opened_at_five_on_friday_owes_its_first_reply_at_ten_on_monday(desk, auth, friday_clock):
    _, http = desk
    await put_policy(http, auth)

    created = await open_ticket(http, auth)

    sla = created["sla"]
    assert (sla["policy"], sla["none_reason"]) == ("standard", None)
    first = metric(sla, "first_reply")
    monday = friday_clock.now().astimezone(SH).date() + timedelta(days=3)
    assert at(first["due_at"]) == sh(monday, 10)
    assert (first["target_seconds"], first["business"], first["calendar"]) == (2 * HOUR, True, "cn")
    assert (first["remaining_seconds"], first["paused"], first["breached"]) == (2 * HOUR, False, False)
    assert metric((await read(http, auth(Role.MANAGER), created))["sla"], "first_reply")["due_at"] == first["due_at"]


async def test_a_public_agent_reply_fulfils_the_first_reply(desk, auth, friday_clock):
    _, http = desk
    await put_policy(http, auth)
    created = await open_ticket(http, auth)
    friday_clock.advance(timedelta(minutes=30))
    internal = {"body": "内部：先查库存", "visibility": "internal"}
    await http.post(f"/v1/tickets/{created['id']}/comments", json=internal, headers=auth(Role.AGENT, sub=AGENT))
    still_owed = metric((await read(http, auth(Role.AGENT), created))["sla"], "first_reply")

    reply = {"body": "您好，我们已收到，正在安排工程师。", "visibility": "public"}
    posted = await http.post(f"/v1/tickets/{created['id']}/comments", json=reply, headers=auth(Role.AGENT, sub=AGENT))

    assert posted.status_code == 201, posted.text
    assert (still_owed["fulfilled_at"], still_owed["due_at"] is not None) == (None, True)
    first = metric((await read(http, auth(Role.AGENT), created))["sla"], "first_reply")
    assert at(first["fulfilled_at"]) == friday_clock.now().replace(microsecond=0)
    assert (first["due_at"], first["breached"], first["remaining_seconds"]) == (None, False, HOUR + HOUR // 2)


async def test_waiting_on_the_customer_moves_the_resolution_deadline_by_the_paused_business_time(
    desk, auth, friday_clock
):
    _, http = desk
    await put_policy(http, auth)
    created = await open_ticket(http, auth)
    agent = auth(Role.AGENT, sub=AGENT)
    for action in ("claim", "start"):
        assert (await act(http, agent, created, action)).status_code == 200
    friday_clock.advance(timedelta(days=2, hours=17))  # Monday 10:00
    before = metric((await read(http, agent, created))["sla"], "resolution")

    asked = await act(http, agent, created, "request_info", question="请提供购买凭证照片")
    paused = metric(asked.json()["sla"], "resolution")
    friday_clock.advance(timedelta(hours=4))  # Monday 14:00: 2.5 business hours later (lunch is not counted)
    answered = await act(http, auth(Role.CUSTOMER), created, "customer_reply", message="已上传")

    assert answered.status_code == 200, answered.text
    assert (paused["paused"], paused["due_at"]) == (True, None)
    after = metric((await read(http, agent, created))["sla"], "resolution")
    assert after["paused"] is False
    assert after["remaining_seconds"] == before["remaining_seconds"] == paused["remaining_seconds"]
    assert CN.elapsed(at(before["due_at"]), at(after["due_at"])) == int(2.5 * HOUR)
    assert at(after["due_at"]) > at(before["due_at"])


async def test_the_customer_reads_the_promise_and_never_the_targets(desk, auth):
    _, http = desk
    await put_policy(http, auth)
    created = await open_ticket(http, auth)
    customer = auth(Role.CUSTOMER)

    chinese = (await read(http, customer, created))["sla"]
    english = (await read(http, customer | {"Accept-Language": "en"}, created))["sla"]

    due = at(metric(created["sla"], "first_reply")["due_at"]).astimezone(SH)
    assert chinese == {
        "policy": None,
        "metrics": [],
        "none_reason": None,
        "promise": f"预计 {due.month}月{due.day}日 10:00 前回复",
    }
    month = due.strftime("%b")
    assert english["promise"] == f"We will reply by {due.day} {month}, 10:00"
    assert english["metrics"] == []


async def test_a_ticket_no_policy_covers_answers_why_it_has_no_deadlines(desk, auth):
    _, http = desk

    created = await open_ticket(http, auth)

    assert created["sla"] == {"policy": None, "metrics": [], "none_reason": "no policy matches", "promise": None}
    listed = (await http.get("/v1/tickets", headers=auth(Role.MANAGER))).json()["items"]
    assert [item["sla"]["none_reason"] for item in listed] == ["no policy matches"]


async def _count(app: FastAPI, event_type: str) -> int:
    async with app.state.services.database.engine.connect() as conn:
        return (await conn.execute(select(func.count()).where(outbox.c.type == event_type))).scalar_one()


async def _sla_notices(http: httpx.AsyncClient, headers: dict[str, str]) -> list[tuple[str, str]]:
    items = (await http.get("/v1/me/notifications?limit=100", headers=headers)).json()["items"]
    notices = [n for n in items if "sla" in n["data"]]
    assert all(n["kind"] == f"sla_{n['data']['sla']}" for n in notices), notices
    return [(n["data"]["sla"], n["data"]["metric"]) for n in notices]


async def test_the_scan_warns_then_breaches_once_and_escalates(desk, auth, friday_clock):
    app, http = desk
    await put_policy(http, auth, warning={"share": 0.8})
    created = await open_ticket(http, auth)
    assert (await act(http, auth(Role.AGENT, sub=AGENT), created, "claim")).status_code == 200
    scan = app.state.services.sla.scan
    assignee, supervisor = auth(Role.AGENT, sub=AGENT), auth(Role.MANAGER, sub="manager-1")
    monday = friday_clock.now().astimezone(SH).date() + timedelta(days=3)

    assert await scan() == 0
    friday_clock.advance(sh(monday, 9, 36) - friday_clock.now())  # four fifths of 2 business hours used
    assert await scan() == 1
    assert await scan() == 0
    friday_clock.advance(sh(monday, 10) - friday_clock.now())  # the deadline
    assert await scan() == 1
    assert await scan() == 0

    assert (await _count(app, "sla.warning"), await _count(app, "sla.breached")) == (1, 1)
    assert await _sla_notices(http, assignee) == [("breached", "first_reply"), ("warning", "first_reply")]
    assert await _sla_notices(http, supervisor) == [("breached", "first_reply")]
    ticket = await read(http, auth(Role.MANAGER), created)
    assert ticket["escalation_level"] == 1
    first = metric(ticket["sla"], "first_reply")
    assert (first["breached"], at(first["breached_at"])) == (True, sh(monday, 10))
    history = (await http.get(f"/v1/tickets/{created['id']}/timeline", headers=auth(Role.MANAGER))).json()["items"]
    escalation = [e for e in history if e["action"] == "escalate"]
    assert [(e["actor"], e["payload"]["reason"], e["payload"]["metrics"]) for e in escalation] == [
        ("system", "sla_breached", ["first_reply"])
    ]
    assert ticket["version"] == created["version"] + 2  # the claim, then the escalation


async def test_the_breach_payload_names_the_ticket_metric_deadline_and_policy(desk, auth, friday_clock):
    app, http = desk
    await put_policy(http, auth, escalation={"raise_level": True, "raise_priority": True})
    created = await open_ticket(http, auth)
    monday = friday_clock.now().astimezone(SH).date() + timedelta(days=3)
    friday_clock.advance(sh(monday, 10, 30) - friday_clock.now())  # half an hour late

    assert await app.state.services.sla.scan() == 1

    async with app.state.services.database.engine.connect() as conn:
        row = (await conn.execute(select(outbox.c.payload).where(outbox.c.type == "sla.breached"))).one()
    monday_ten = sh(monday, 10).astimezone(UTC)
    assert row.payload | {"warn_at": None} == {
        "ticket_id": created["id"],
        "number": created["number"],
        "metric": "first_reply",
        "due_at": monday_ten.isoformat().replace("+00:00", "Z"),
        "breached_at": monday_ten.isoformat().replace("+00:00", "Z"),
        "warn_at": None,
        "failed_by": 30 * 60,
        "policy_key": "standard",
        "assignee": None,
        "priority": "normal",
    }
    ticket = await read(http, auth(Role.MANAGER), created)
    assert (ticket["escalation_level"], ticket["priority"]) == (1, "high")


async def test_a_priority_edit_rematches_the_ticket_and_the_timeline_names_the_new_policy(desk, auth):
    _, http = desk
    urgent = {"first_reply": {"urgent": business(1)}, "resolution": {"urgent": business(4)}}
    await put_policy(http, auth, key="standard")
    await put_policy(http, auth, key="urgent", conditions={"priority": ["urgent"]}, targets=urgent)  # goes first
    created = await open_ticket(http, auth)
    manager = auth(Role.MANAGER)

    patched = await http.patch(
        f"/v1/tickets/{created['id']}", json={"priority": "urgent"}, headers=manager | {"If-Match": '"1"'}
    )

    assert patched.status_code == 200, patched.text
    assert (created["sla"]["policy"], patched.json()["sla"]["policy"]) == ("standard", "urgent")
    assert metric(patched.json()["sla"], "first_reply")["target_seconds"] == HOUR
    history = (await http.get(f"/v1/tickets/{created['id']}/timeline", headers=manager)).json()["items"]
    [update] = [e for e in history if e["action"] == "update"]
    assert update["payload"]["sla_policy"] == {"from": "standard", "to": "urgent"}


async def test_a_vip_customer_matches_the_vip_policy(desk, auth):
    _, http = desk
    regular = await http.put("/v1/customers/C-1", json=customer_body(level="regular"), headers=auth(Role.INTEGRATION))
    assert regular.status_code == 200, regular.text  # C-2 stays vip
    await put_policy(http, auth, key="standard")
    await put_policy(http, auth, key="vip", conditions={"vip": True})  # goes first

    regular, special = await open_ticket(http, auth), await open_ticket(http, auth, customer_no="C-2")

    assert (regular["sla"]["policy"], special["sla"]["policy"]) == ("standard", "vip")


async def test_creating_a_ticket_under_a_policy_stays_within_seven_statements(desk, auth):
    app, http = desk
    await put_policy(http, auth)
    await open_ticket(http, auth)  # warm: the policy snapshot is read once, not per request

    with counted(app) as statements:
        response = await http.post("/v1/tickets", json=ticket_body(), headers=auth(Role.INTEGRATION))

    assert response.status_code == 201, response.text
    assert len(statements) <= budget(app, 7, entries=1), "\n".join(statements)
