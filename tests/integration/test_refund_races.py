"""Money and quantities under concurrent requests on PostgreSQL: never more refunded than paid, never more
returned than bought, never paid twice."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from app.domain.principal import Role
from app.persistence.tables import order_ledgers
from tests.factories import order_body, product_body, put, seed_reference_data

pytestmark = pytest.mark.postgres_only


async def _ledger(app) -> tuple[int, int]:
    async with app.state.services.database.engine.connect() as conn:
        row = (await conn.execute(select(order_ledgers).where(order_ledgers.c.order_no == "SO-C-1"))).one()
    return row.reserved, row.refunded


def _partial_refund(amount: int) -> dict:
    return {
        "order_no": "SO-C-1",
        "type": "partial_refund",
        "reason_code": "changed_mind",
        "amount": amount,
        "lines": [{"sku": "SKU-1", "quantity": 1}],
    }


async def test_concurrent_partial_refunds_pay_back_exactly_what_the_line_is_worth(app, client, auth):
    await seed_reference_data(client, auth)  # SO-C-1: 2 × SKU-1 at 100.00 plus 10.00 shipping, paid 210.00
    headers = auth(Role.AGENT)

    answers = await asyncio.gather(
        *(client.post("/v1/after-sales", json=_partial_refund(1000), headers=headers) for _ in range(30))
    )

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] * 20 + [422] * 10  # the line holds 200.00; shipping is not on it
    refused = [a.json() for a in answers if a.status_code == 422]
    assert {p["code"] for p in refused} == {"not_eligible"}
    assert await _ledger(app) == (20000, 0)


async def test_concurrent_refunds_on_one_line_never_exceed_that_line(app, client, auth):
    await seed_reference_data(client, auth)
    await put(client, auth(Role.INTEGRATION), "/v1/products/FLT-X3", product_body(name="Filter X3"))
    lines = [
        {"sku": "FLT-X3", "quantity": 2, "unit_price": 19900},
        {"sku": "SKU-1", "quantity": 5, "unit_price": 10000},
    ]
    await put(client, auth(Role.INTEGRATION), "/v1/orders/SO-C-1", order_body(lines=lines, paid_amount=90800))
    body = {**_partial_refund(19900), "lines": [{"sku": "FLT-X3", "quantity": 1}]}

    answers = await asyncio.gather(
        *(client.post("/v1/after-sales", json=body, headers=auth(Role.AGENT)) for _ in range(12))
    )

    assert sorted(a.status_code for a in answers) == [201, 201] + [422] * 10
    assert await _ledger(app) == (39800, 0)
    eligibility = (await client.get("/v1/orders/SO-C-1/eligibility", headers=auth(Role.AGENT))).json()
    assert [line["max_refundable_amount"] for line in eligibility["lines"]] == [0, 50000]


async def test_concurrent_returns_never_exceed_the_quantity_bought(client, auth):
    await seed_reference_data(client, auth)  # SO-C-1 has 2 × SKU-1
    body = {
        "order_no": "SO-C-1",
        "type": "return_refund",
        "reason_code": "no_reason_7_days",
        "lines": [{"sku": "SKU-1", "quantity": 1}],
    }

    answers = await asyncio.gather(
        *(client.post("/v1/after-sales", json=body, headers=auth(Role.CUSTOMER)) for _ in range(8))
    )

    assert sorted(a.status_code for a in answers) == [201, 201] + [422] * 6


async def test_a_success_reported_many_times_at_once_refunds_once(app, client, auth):
    await seed_reference_data(client, auth)
    created = (await client.post("/v1/after-sales", json=_partial_refund(5000), headers=auth(Role.AGENT))).json()
    approved = await client.post(
        f"/v1/after-sales/{created['id']}/actions/approve", json={}, headers=auth(Role.REVIEWER)
    )
    assert approved.json()["status"] == "refunding"
    payment = auth(Role.INTEGRATION, sub="payment-centre")

    answers = await asyncio.gather(
        *(
            client.post(f"/v1/after-sales/{created['id']}/actions/payment_succeeded", json={}, headers=payment)
            for _ in range(10)
        )
    )

    assert {a.status_code for a in answers} == {200}
    assert {a.json()["status"] for a in answers} == {"refunded"}
    assert await _ledger(app) == (0, 5000)
