"""Money and quantities under concurrent requests on PostgreSQL: never more refunded than paid, never more
returned than bought, never paid twice."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from app.domain.principal import Role
from app.persistence.tables import order_ledgers
from tests.factories import seed_reference_data

pytestmark = pytest.mark.postgres_only


async def _ledger(app) -> tuple[int, int]:
    async with app.state.services.database.engine.connect() as conn:
        row = (await conn.execute(select(order_ledgers).where(order_ledgers.c.order_no == "SO-C-1"))).one()
    return row.reserved, row.refunded


def _partial_refund(amount: int) -> dict:
    return {
        "order_no": "SO-C-1",
        "type": "partial_refund",
        "reason_code": "damaged",
        "amount": amount,
        "lines": [{"sku": "SKU-1", "quantity": 1}],
    }


async def test_concurrent_partial_refunds_pay_back_exactly_what_was_paid(app, client, auth):
    await seed_reference_data(client, auth)  # SO-C-1 paid 21000
    headers = auth(Role.AGENT)

    answers = await asyncio.gather(
        *(client.post("/v1/after-sales", json=_partial_refund(1000), headers=headers) for _ in range(30))
    )

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] * 21 + [422] * 9
    refused = [a.json() for a in answers if a.status_code == 422]
    assert {p["code"] for p in refused} == {"not_eligible"}
    assert await _ledger(app) == (21000, 0)


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
