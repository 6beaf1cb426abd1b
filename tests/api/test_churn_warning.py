"""流失预警 on a clock the tests move: refunds paid, repeat complaints, detractor answers and SLA breaches score a
customer; crossing the threshold writes one `risk.churn_warning` and one inbox notification per manager, again only
after the score fell below and crossed once more; facts leave the window; staff read the score on the overview and
filter the customer list by it, the customer never sees it; and the settings document with its refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, text

from app.domain.churn import ChurnFilter
from app.domain.pagination import PageRequest
from app.domain.principal import Role
from app.main import create_app
from app.persistence.churn import SqlChurnRepository
from app.persistence.customers import SqlCustomerRepository
from app.persistence.tables import outbox, service_settings
from app.services.churn import SETTLE
from tests.api.test_after_sales_sla import calendar_time
from tests.api.test_sla_clock import put_policy
from tests.api.test_surveys import LOW, invited_link
from tests.conftest import MovableClock, client_for, make_settings
from tests.factories import agent_body, customer_body, iso, open_ticket, order_body, put, seed_service_desk
from tests.problems import problem_fields
from tests.sql_capture import executed_plans, scanned

SETTINGS = "/v1/settings/churn"
MANAGERS = ("manager-1", "manager-2")
DEFAULTS = {
    "refund_points": 10,
    "refund_cap": 30,
    "refund_amount_points": 5,
    "refund_amount_step": 50000,
    "refund_amount_cap": 20,
    "repeat_complaint_points": 15,
    "repeat_complaint_cap": 45,
    "detractor_points": 15,
    "detractor_cap": 30,
    "sla_breach_points": 5,
    "sla_breach_cap": 20,
    "threshold": 60,
    "window_days": 90,
    "currency": "CNY",
}
AT_THRESHOLD = [
    {"code": "repeat_complaints", "points": 30},
    {"code": "refunds", "points": 20},
    {"code": "refund_amount", "points": 10},
]
"""Two refunds of 600.00 CNY (20, and 1,200.00 in all: 10) and three complaints (two repeats: 30): 60."""


@pytest.fixture
async def desk(database_url: str, clock: MovableClock, auth) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app on the moved clock, the service desk seeded (C-1, C-2), and a second manager."""
    app = create_app(make_settings(database_url), clock=clock)
    async with client_for(app) as http:
        await seed_service_desk(http, auth)
        await put(http, auth(Role.ADMIN), "/v1/agents/manager-2", agent_body(name="周经理", roles=["manager"]))
        yield app, http


async def refund(
    http: httpx.AsyncClient, auth, clock: MovableClock, number: str, amount: int = 60000, *, paid: bool = True
) -> str:
    """A partial refund of `amount` on a new order C-1 signed for a day ago, approved and (`paid`) paid out; answers
    the path of its actions."""
    placed = clock.now() - timedelta(days=3)
    order = order_body(
        lines=[{"sku": "SKU-1", "quantity": 1, "unit_price": amount}],
        shipping_fee=0,
        paid_amount=amount,
        placed_at=iso(placed),
        paid_at=iso(placed + timedelta(minutes=1)),
        picking_at=iso(placed + timedelta(hours=1)),
        picked_at=iso(placed + timedelta(hours=2)),
        shipped_at=iso(placed + timedelta(days=1)),
        signed_at=iso(placed + timedelta(days=2)),
    )
    await put(http, auth(Role.INTEGRATION), f"/v1/orders/{number}", order)
    body = {"order_no": number, "type": "partial_refund", "reason_code": "changed_mind", "amount": amount}
    created = await http.post(
        "/v1/after-sales", json={**body, "lines": [{"sku": "SKU-1", "quantity": 1}]}, headers=auth(Role.CUSTOMER)
    )
    assert created.status_code == 201, created.text
    path = f"/v1/after-sales/{created.json()['id']}/actions"
    approved = await http.post(f"{path}/approve", json={}, headers=auth(Role.REVIEWER))
    assert approved.json()["status"] == "refunding", approved.text
    if paid:
        await pay(http, auth, path)
    return path


async def pay(http: httpx.AsyncClient, auth, path: str) -> None:
    """The payment centre reports the refund paid (退款完成)."""
    paid = await http.post(f"{path}/payment_succeeded", json={}, headers=auth(Role.INTEGRATION, sub="payment-centre"))
    assert paid.json()["status"] == "refunded", paid.text


async def complaints(http: httpx.AsyncClient, auth, count: int, customer_no: str = "C-1") -> None:
    for _ in range(count):
        await open_ticket(http, auth, type="complaint", customer_no=customer_no)


async def at_threshold(http: httpx.AsyncClient, auth, clock: MovableClock, tag: str) -> None:
    await refund(http, auth, clock, f"SO-{tag}-1")
    await refund(http, auth, clock, f"SO-{tag}-2")
    await complaints(http, auth, 3)


async def scored(app: FastAPI, clock: MovableClock) -> int:
    """Let the events settle, then one pass of the job."""
    clock.advance(SETTLE + timedelta(seconds=1))
    return await app.state.services.churn.run()


async def warnings(app: FastAPI) -> list[dict[str, Any]]:
    async with app.state.services.database.engine.connect() as conn:
        rows = await conn.execute(
            select(outbox.c.payload).where(outbox.c.type == "risk.churn_warning").order_by(outbox.c.sequence)
        )
        return [row.payload for row in rows]


async def inbox(http: httpx.AsyncClient, auth, manager: str) -> list[dict[str, Any]]:
    response = await http.get("/v1/me/notifications", headers=auth(Role.MANAGER, sub=manager))
    assert response.status_code == 200, response.text
    return [n for n in response.json()["items"] if n["kind"] == "churn_warning"]


async def churn_of(http: httpx.AsyncClient, headers: dict[str, str], customer_no: str = "C-1") -> dict[str, Any] | None:
    response = await http.get(f"/v1/customers/{customer_no}/overview", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["churn"]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_two_refunds_and_three_complaints_warn_once_per_crossing(desk, auth, clock):
    app, http = desk
    await at_threshold(http, auth, clock, "A")

    assert await scored(app, clock) == 1

    [warning] = await warnings(app)
    assert warning == {"customer_no": "C-1", "score": 60, "reasons": AT_THRESHOLD, "threshold": 60}
    for manager in MANAGERS:
        [note] = await inbox(http, auth, manager)
        assert (note["subject"]["type"], note["subject"]["ref"], note["data"]) == ("customer", "C-1", warning)
        assert note["title"] == "客户 C-1 有流失风险（预警分 60）"

    await complaints(http, auth, 1)  # still above: 75, no crossing
    assert await scored(app, clock) == 1
    assert await scored(app, clock) == 0
    assert len(await warnings(app)) == 1
    assert (await churn_of(http, auth(Role.AGENT)))["score"] == 75

    clock.advance(timedelta(days=91))  # every fact leaves the window: the daily refresh lowers the score
    assert await scored(app, clock) == 1
    assert (await churn_of(http, auth(Role.AGENT)))["score"] == 0
    assert len(await warnings(app)) == 1

    await at_threshold(http, auth, clock, "B")
    await scored(app, clock)

    assert [w["score"] for w in await warnings(app)] == [60, 60]
    assert [len(await inbox(http, auth, manager)) for manager in MANAGERS] == [2, 2]


async def test_staff_read_the_score_and_its_reasons_on_the_overview_and_the_customer_does_not(desk, auth, clock):
    app, http = desk
    assert await churn_of(http, auth(Role.AGENT)) == {
        "score": 0,
        "threshold": 60,
        "warning": False,
        "reasons": [],
        "scored_at": None,
        "warned_at": None,
    }
    await at_threshold(http, auth, clock, "A")
    await scored(app, clock)

    staff = await churn_of(http, auth(Role.AGENT))
    customer = await http.get("/v1/customers/C-1/overview", headers=auth(Role.CUSTOMER))
    own = await http.get("/v1/customers/C-1", headers=auth(Role.CUSTOMER))

    assert (staff["score"], staff["threshold"], staff["warning"], staff["reasons"]) == (60, 60, True, AT_THRESHOLD)
    assert at(staff["scored_at"]) == at(staff["warned_at"]) == clock.now()
    assert await churn_of(http, auth(Role.INTEGRATION)) == staff
    assert customer.status_code == 200 and customer.json()["churn"] is None
    assert "churn" not in own.json() and "churn" not in customer.json()["customer"]


async def test_facts_older_than_the_window_do_not_count(desk, auth, clock):
    app, http = desk
    await at_threshold(http, auth, clock, "A")
    clock.advance(timedelta(days=90, minutes=1))
    await complaints(http, auth, 1)  # the job's first pass: the new complaint re-scores C-1

    await scored(app, clock)

    assert await warnings(app) == []
    churn = await churn_of(http, auth(Role.MANAGER))
    assert (churn["score"], churn["reasons"]) == (0, [])  # one complaint in the window: no repeat yet
    assert churn["scored_at"] is not None


async def test_a_refund_counts_once_its_money_is_paid_out(desk, auth, clock):
    app, http = desk
    under_way = await refund(http, auth, clock, "SO-A-1", paid=False)
    await complaints(http, auth, 3)
    await scored(app, clock)
    assert (await churn_of(http, auth(Role.MANAGER)))["reasons"] == [{"code": "repeat_complaints", "points": 30}]

    await pay(http, auth, under_way)
    await scored(app, clock)

    churn = await churn_of(http, auth(Role.MANAGER))
    assert churn["score"] == 45  # 30, one refund (10), one step of 500.00 (5)
    assert churn["reasons"][1:] == [{"code": "refunds", "points": 10}, {"code": "refund_amount", "points": 5}]


async def test_detractor_answers_and_sla_breaches_on_the_customers_tickets_count(desk, auth, clock):
    app, http = desk
    token = await invited_link(app, http, auth, clock)
    answered = await http.post(f"/v1/surveys/{token}", json=LOW)
    assert answered.status_code == 200, answered.text
    await put_policy(http, auth, targets={"first_reply": {"normal": calendar_time(1)}})
    await open_ticket(http, auth)
    clock.advance(timedelta(hours=2))
    assert await app.state.services.sla.scan() == 1

    await scored(app, clock)

    churn = await churn_of(http, auth(Role.MANAGER))
    assert churn["score"] == 20
    assert churn["reasons"] == [{"code": "detractor_answers", "points": 15}, {"code": "sla_breaches", "points": 5}]


async def test_the_customer_list_filters_by_churn_score_highest_first(desk, auth, clock):
    app, http = desk
    await put(http, auth(Role.INTEGRATION), "/v1/customers/C-3", customer_body(name="Customer C-3"))
    await at_threshold(http, auth, clock, "A")
    await put(http, auth(Role.INTEGRATION), "/v1/orders/SO-C-2", order_body("C-2"))
    await complaints(http, auth, 2, customer_no="C-2")  # one repeat: 15
    await scored(app, clock)
    manager = auth(Role.MANAGER)

    async def listed(**params: Any) -> list[tuple[str, int]]:
        response = await http.get("/v1/customers", params=params, headers=manager)
        assert response.status_code == 200, response.text
        return [(c["customer_no"], c["churn"]["score"]) for c in response.json()["items"]]

    assert await listed(churn_warning="true") == [("C-1", 60)]
    assert await listed(min_churn_score=10) == [("C-1", 60), ("C-2", 15)]
    assert await listed(min_churn_score=61) == []
    assert await listed(churn_warning="false") == [("C-3", 0), ("C-2", 15)]
    assert {c for c, _ in await listed()} == {"C-1", "C-2", "C-3"}
    first = (await http.get("/v1/customers", params={"min_churn_score": 1, "limit": 1}, headers=manager)).json()
    rest = await http.get(
        "/v1/customers", params={"min_churn_score": 1, "cursor": first["next_cursor"]}, headers=manager
    )
    assert [c["customer_no"] for c in first["items"] + rest.json()["items"]] == ["C-1", "C-2"]
    for bad in ("0", "101", "1e2", "60.0"):
        refused = await http.get("/v1/customers", params={"min_churn_score": bad}, headers=manager)
        assert problem_fields(refused, 422, "validation_failed") == {"min_churn_score"}, bad
    other_order = await http.get("/v1/customers", params={"cursor": first["next_cursor"]}, headers=manager)
    assert problem_fields(other_order, 422, "invalid_cursor") == {"cursor"}


async def test_settings_are_replaced_with_if_match_and_apply_at_the_next_score(desk, auth, clock):
    app, http = desk
    manager = auth(Role.MANAGER)
    current = await http.get(SETTINGS, headers=auth(Role.AGENT))
    assert (current.status_code, current.headers["etag"], current.json()) == (200, '"0"', {**DEFAULTS, "version": 0})

    changed = {**DEFAULTS, "repeat_complaint_points": 20, "threshold": 40}
    saved = await http.put(SETTINGS, json=changed, headers={**manager, "If-Match": '"0"'})
    stale = await http.put(SETTINGS, json=DEFAULTS, headers={**manager, "If-Match": '"0"'})

    assert (saved.status_code, saved.headers["etag"], saved.json()) == (200, '"1"', {**changed, "version": 1})
    assert (stale.status_code, stale.json()["code"]) == (412, "etag_mismatch")
    assert (await http.get(SETTINGS, headers=manager)).json() == {**changed, "version": 1}
    await complaints(http, auth, 3)  # two repeats at 20: 40
    await scored(app, clock)
    assert [(w["score"], w["threshold"]) for w in await warnings(app)] == [(40, 40)]


async def stored_settings(app: FastAPI) -> list[Any]:
    async with app.state.services.database.engine.connect() as conn:
        return list(await conn.execute(select(service_settings).where(service_settings.c.key == "churn")))


@pytest.mark.parametrize(
    ("changes", "code", "fields"),
    [
        (
            {"refund_points": -1, "detractor_cap": 101, "threshold": 0, "window_days": 366, "bonus": 1},
            "validation_failed",
            {"#/refund_points", "#/detractor_cap", "#/threshold", "#/window_days", "#/bonus"},
        ),
        (
            {"sla_breach_points": 2.5, "refund_amount_step": "500"},
            "validation_failed",
            {"#/sla_breach_points", "#/refund_amount_step"},
        ),
        ({"currency": "RMB"}, "invalid_churn_settings", {"#/currency"}),
    ],
)
async def test_bad_settings_are_refused_naming_each_field_and_nothing_is_written(desk, auth, changes, code, fields):
    app, http = desk

    response = await http.put(SETTINGS, json={**DEFAULTS, **changes}, headers={**auth(Role.MANAGER), "If-Match": '"0"'})

    assert problem_fields(response, 422, code) == fields
    assert await stored_settings(app) == []
    assert (await http.get(SETTINGS, headers=auth(Role.MANAGER))).headers["etag"] == '"0"'


async def test_the_warning_is_an_event_webhooks_can_subscribe_to(desk, auth):
    _, http = desk

    types = await http.get("/v1/webhook-event-types", headers=auth(Role.INTEGRATION))

    assert "risk.churn_warning" in types.json()


SCORED_SPREAD = (
    # 3,000 customers; every tenth scored (0-99 by number), scored a day and an hour ago when odd, just now when even.
    """INSERT INTO customers (id, customer_no, name, level, contact_channels, version, created_at, updated_at,
        churn_score, churn_reasons, churn_scored_at)
    SELECT gen_random_uuid(), 'C-' || g, 'customer', 'regular', '[]', 1, now(), now(),
        CASE WHEN g % 10 = 0 THEN g / 10 % 100 END,
        CASE WHEN g % 10 = 0 THEN '[]'::jsonb END,
        CASE WHEN g % 10 = 0 THEN now() - CASE WHEN g % 20 = 10 THEN interval '25 hours' ELSE interval '0' END END
    FROM generate_series(1, 3000) AS g""",
    "ANALYZE customers",
)


@pytest.mark.postgres_only
async def test_the_filtered_list_and_the_refresh_read_only_scored_customers_through_their_indexes(app):
    async with app.state.services.database.engine.connect() as conn:
        for statement in SCORED_SPREAD:
            await conn.exec_driver_sql(statement)
        for planner_method in ("seqscan", "bitmapscan", "sort"):
            await conn.execute(text(f"SET LOCAL enable_{planner_method} = off"))
        customers, churn = SqlCustomerRepository(conn), SqlChurnRepository(conn)
        cutoff = (await conn.execute(text("SELECT now() - interval '1 day'"))).scalar_one()

        [listed] = await executed_plans(conn, lambda: customers.list(PageRequest(limit=20), ChurnFilter(at_least=60)))
        [stale] = await executed_plans(conn, lambda: churn.stale(cutoff, 100))

    page = scanned(listed, "customers")
    assert (page.indexes, page.sequential, page.rows) == ({"ix_customers_scored_churn_score_id"}, (), 21)
    claim = scanned(stale, "customers")
    assert (claim.indexes, claim.sequential) == ({"ix_customers_at_risk_churn_scored_at"}, ())
    assert claim.rows == stale["Plan"]["Actual Rows"] == 100  # 150 are stale (scored above 0 a day ago): one batch
