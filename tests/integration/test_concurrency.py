"""Concurrent writers on PostgreSQL: one creation wins, nobody sees a 500, nothing is doubled."""

from __future__ import annotations

import asyncio

import pytest

from app.domain.principal import Role
from tests.factories import customer_body, order_body, product_body, put

pytestmark = pytest.mark.postgres_only


async def test_concurrent_first_puts_create_one_customer(client, auth):
    headers = auth(Role.INTEGRATION)

    answers = await asyncio.gather(
        *(client.put("/v1/customers/C-RACE", json=customer_body(name=f"n{i}"), headers=headers) for i in range(16))
    )

    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(201) == 1
    assert set(statuses) <= {200, 201, 409}
    assert all(a.json()["code"] in ("concurrent_modification", "duplicate") for a in answers if a.status_code == 409)
    final = (await client.get("/v1/customers/C-RACE", headers=headers)).json()
    assert final["version"] == 1 + statuses.count(200)  # every replace carried a different name


async def test_concurrent_if_match_updates_let_exactly_one_through(client, auth):
    headers = auth(Role.INTEGRATION)
    await put(client, headers, "/v1/products/SKU-1", product_body())
    await put(client, headers, "/v1/customers/C-1", customer_body())
    created = await put(client, headers, "/v1/orders/SO-1", order_body())
    guarded = {**headers, "If-Match": created.headers["etag"]}

    answers = await asyncio.gather(
        *(client.put("/v1/orders/SO-1", json=order_body(shipping_region=f"R{i}"), headers=guarded) for i in range(12))
    )

    assert sorted(a.status_code for a in answers) == [200] + [412] * 11
    assert (await client.get("/v1/orders/SO-1", headers=headers)).json()["version"] == 2
