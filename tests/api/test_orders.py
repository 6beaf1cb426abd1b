"""Sales orders: references, money and fulfilment rules, and customer scoping."""

from __future__ import annotations

from app.domain.principal import Role
from tests.factories import customer_body, order_body, product_body, put, seed_reference_data


async def _reference(client, auth) -> dict[str, str]:
    headers = auth(Role.INTEGRATION)
    await put(client, headers, "/v1/products/SKU-1", product_body())
    await put(client, headers, "/v1/customers/C-1", customer_body())
    await put(client, headers, "/v1/customers/C-2", customer_body())
    return headers


async def test_an_order_is_stored_with_its_lines_and_totals(client, auth):
    headers = await _reference(client, auth)

    response = await client.put("/v1/orders/SO-1", json=order_body(), headers=headers)

    body = response.json()
    assert response.status_code == 201
    assert (body["goods_amount"], body["total_amount"], body["paid_amount"]) == (20000, 21000, 21000)
    assert body["lines"] == [{"line_no": 1, "sku": "SKU-1", "quantity": 2, "unit_price": 10000, "amount": 20000}]
    assert body["signed_at"].endswith("Z")


async def test_unknown_product_and_customer_are_named_and_nothing_is_written(client, auth):
    headers = await _reference(client, auth)
    body = order_body(
        "C-404",
        lines=[{"sku": "SKU-1", "quantity": 1, "unit_price": 20000}, {"sku": "NOPE", "quantity": 1, "unit_price": 0}],
    )

    response = await client.put("/v1/orders/SO-1", json=body, headers=headers)

    assert (response.status_code, response.json()["code"]) == (422, "unknown_reference")
    assert {e["pointer"] for e in response.json()["errors"]} == {"#/customer_no", "#/lines/1/sku"}
    assert (await client.get("/v1/orders/SO-1", headers=headers)).status_code == 404


async def test_an_orders_customer_cannot_change(client, auth):
    headers = await _reference(client, auth)
    await put(client, headers, "/v1/orders/SO-1", order_body("C-1"))

    response = await client.put("/v1/orders/SO-1", json=order_body("C-2"), headers=headers)

    assert (response.status_code, response.json()["code"]) == (409, "order_customer_changed")
    assert (await client.get("/v1/orders/SO-1", headers=headers)).json()["customer_no"] == "C-1"


async def test_fulfilment_never_moves_backwards(client, auth):
    headers = await _reference(client, auth)
    await put(client, headers, "/v1/orders/SO-1", order_body())
    earlier = order_body(fulfilment_status="picking", picked_at=None, shipped_at=None, signed_at=None)

    response = await client.put("/v1/orders/SO-1", json=earlier, headers=headers)

    assert (response.status_code, response.json()["code"]) == (409, "fulfilment_regressed")


async def test_fulfilment_moves_forward(client, auth):
    headers = await _reference(client, auth)
    await put(client, headers, "/v1/orders/SO-1", order_body(fulfilment_status="shipped", signed_at=None))

    response = await client.put("/v1/orders/SO-1", json=order_body(), headers=headers)

    assert (response.status_code, response.json()["fulfilment_status"], response.json()["version"]) == (
        200,
        "signed",
        2,
    )


async def test_money_rules_name_the_field(client, auth):
    headers = await _reference(client, auth)
    cases = {
        "#/paid_amount": order_body(paid_amount=20999),
        "#/discount_amount": order_body(discount_amount=99999),
        "#/currency": order_body(currency="XYZ"),
        "#/lines/0/unit_price": order_body(lines=[{"sku": "SKU-1", "quantity": 1, "unit_price": -1}]),
        "#/lines/0/quantity": order_body(lines=[{"sku": "SKU-1", "quantity": 0, "unit_price": 1}]),
        "#/lines/1/sku": order_body(lines=[{"sku": "SKU-1", "quantity": 1, "unit_price": 1}] * 2),
    }
    for pointer, body in cases.items():
        response = await client.put("/v1/orders/SO-1", json=body, headers=headers)
        assert response.status_code == 422, pointer
        assert pointer in {e["pointer"] for e in response.json()["errors"]}, response.json()


async def test_timestamps_must_be_aware_ordered_and_present(client, auth):
    headers = await _reference(client, auth)
    cases = {
        "#/placed_at": order_body(placed_at="2026-01-01T00:00:00"),
        "#/signed_at": order_body(signed_at=None),
        "#/picked_at": order_body(picked_at="2000-01-01T00:00:00Z"),
        "#/shipped_at": order_body(fulfilment_status="picked", signed_at=None),
        "#/fulfilment_status": order_body(payment_status="unpaid", paid_amount=0),
    }
    for pointer, body in cases.items():
        response = await client.put("/v1/orders/SO-1", json=body, headers=headers)
        assert response.status_code == 422, pointer
        assert pointer in {e["pointer"] for e in response.json()["errors"]}, (pointer, response.json())


async def test_customers_see_only_their_own_orders(client, auth):
    await seed_reference_data(client, auth)
    customer = auth(Role.CUSTOMER, customer_no="C-1")

    own = await client.get("/v1/orders/SO-C-1", headers=customer)
    foreign = await client.get("/v1/orders/SO-C-2", headers=customer)
    listed = await client.get("/v1/orders", params={"customer_no": "C-2"}, headers=customer)

    assert own.status_code == 200
    assert foreign.status_code == 404
    assert [o["order_no"] for o in listed.json()["items"]] == ["SO-C-1"]


async def test_staff_filter_orders_by_customer(client, auth):
    await seed_reference_data(client, auth)

    listed = await client.get("/v1/orders", params={"customer_no": "C-2"}, headers=auth(Role.AGENT))
    everything = await client.get("/v1/orders", headers=auth(Role.AGENT))

    assert [o["order_no"] for o in listed.json()["items"]] == ["SO-C-2"]
    assert [o["order_no"] for o in everything.json()["items"]] == ["SO-C-2", "SO-C-1"]
