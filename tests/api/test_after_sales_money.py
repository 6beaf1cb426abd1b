"""Money held per line and per order: eligibility and enforcement agree, refunds never exceed a line's value, and an
ERP re-upsert cannot shrink an order below what after-sales holds against it."""

from __future__ import annotations

import pytest

from app.domain.principal import Role
from tests.factories import order_body, product_body, put, seed_reference_data

TWO_LINES = {
    "lines": [
        {"sku": "FLT-X3", "quantity": 2, "unit_price": 19900},
        {"sku": "SKU-1", "quantity": 1, "unit_price": 10000},
    ],
    "shipping_fee": 0,
    "paid_amount": 49800,
}


@pytest.fixture
async def two_lines(client, auth):
    """SO-2L of C-1, signed: 2 × FLT-X3 at 199.00 and 1 × SKU-1 at 100.00, paid 498.00."""
    await seed_reference_data(client, auth)
    await put(client, auth(Role.INTEGRATION), "/v1/products/FLT-X3", product_body(name="Filter X3"))
    await put(client, auth(Role.INTEGRATION), "/v1/orders/SO-2L", order_body(**TWO_LINES))


async def _ask(client, auth, **body):
    payload = {"order_no": "SO-2L", "reason_code": "changed_mind", **body}
    return await client.post("/v1/after-sales", json=payload, headers=auth(Role.CUSTOMER))


async def _line(client, auth, sku):
    found = (await client.get("/v1/orders/SO-2L/eligibility", headers=auth(Role.AGENT))).json()
    return found, next(line for line in found["lines"] if line["sku"] == sku)


def _partial(amount, quantity=1):
    return {"type": "partial_refund", "amount": amount, "lines": [{"sku": "FLT-X3", "quantity": quantity}]}


async def test_a_line_cannot_be_partially_refunded_beyond_its_value(client, auth, two_lines):
    answers = [await _ask(client, auth, **_partial(19900)) for _ in range(4)]

    assert [a.status_code for a in answers] == [201, 201, 422, 422]
    refused = {e["pointer"]: e["detail"] for e in answers[2].json()["errors"]}
    assert refused["#/lines/0/sku"] == "partial_refund is not possible now: Nothing is left to refund on this line"
    assert refused["#/amount"] == "above what the lines named may still refund: at most 0.00 CNY"
    order, line = await _line(client, auth, "FLT-X3")
    assert (line["max_refundable_amount"], order["refundable_amount"]) == (0, 10000)
    assert {r["type"]: r["allowed"] for r in line["rules"]}["partial_refund"] is False


async def test_a_return_after_a_partial_refund_refunds_only_what_is_left_on_the_line(client, auth, two_lines):
    first = await _ask(client, auth, **_partial(5000))
    assert first.status_code == 201, first.text

    returned = await _ask(client, auth, type="return_refund", lines=[{"sku": "FLT-X3", "quantity": 2}])

    assert returned.status_code == 201, returned.text
    assert returned.json()["amount"] == 39800 - 5000
    assert returned.json()["lines"] == [{"sku": "FLT-X3", "quantity": 2, "amount": 34800}]
    _order, line = await _line(client, auth, "FLT-X3")
    assert (line["max_refundable_amount"], line["remaining_quantity"]) == (0, 0)


async def test_eligibility_shows_each_lines_refundable_after_refunds_under_way(client, auth, two_lines):
    await _ask(client, auth, **_partial(12345))

    order, line = await _line(client, auth, "FLT-X3")
    _order, other = await _line(client, auth, "SKU-1")

    assert (order["refundable_amount"], line["max_refundable_amount"], other["max_refundable_amount"]) == (
        49800 - 12345,
        39800 - 12345,
        10000,
    )


async def test_a_rejected_partial_refund_frees_its_line_again(client, auth, two_lines):
    created = (await _ask(client, auth, **_partial(19900, quantity=2))).json()
    await _ask(client, auth, **_partial(19900, quantity=2))

    reject = await client.post(
        f"/v1/after-sales/{created['id']}/actions/reject", json={"reason": "no evidence"}, headers=auth(Role.REVIEWER)
    )

    assert reject.status_code == 200, reject.text
    _order, line = await _line(client, auth, "FLT-X3")
    assert line["max_refundable_amount"] == 19900


async def test_amount_errors_speak_major_units(client, auth, two_lines):
    response = await _ask(client, auth, **{**_partial(49801), "lines": [{"sku": "FLT-X3", "quantity": 2}]})

    assert response.status_code == 422
    assert response.json()["errors"][0]["detail"] == "above what the lines named may still refund: at most 398.00 CNY"


async def test_a_reupsert_below_what_after_sales_holds_is_refused_naming_each_hold(client, auth, two_lines):
    await _ask(client, auth, type="return_refund", lines=[{"sku": "FLT-X3", "quantity": 2}])
    compensation = await _ask(client, auth, type="compensation", compensation_kind="cash", amount=6000)
    assert compensation.status_code == 201, compensation.text
    shrunk = order_body(lines=[{"sku": "FLT-X3", "quantity": 1, "unit_price": 5000}], shipping_fee=0, paid_amount=5000)

    response = await client.put("/v1/orders/SO-2L", json=shrunk, headers=auth(Role.INTEGRATION))

    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["code"] == "order_below_held"
    assert {e["pointer"] for e in problem["errors"]} == {"#/paid_amount", "#/lines/0/quantity", "#/lines/0/unit_price"}
    order = (await client.get("/v1/orders/SO-2L", headers=auth(Role.AGENT))).json()
    assert order["paid_amount"] == 49800  # nothing was written


async def test_a_reupsert_that_still_covers_every_hold_is_accepted(client, auth, two_lines):
    await _ask(client, auth, type="return_refund", lines=[{"sku": "FLT-X3", "quantity": 1}])
    grown = order_body(**{**TWO_LINES, "shipping_fee": 500, "paid_amount": 50300})

    response = await client.put("/v1/orders/SO-2L", json=grown, headers=auth(Role.INTEGRATION))

    assert response.status_code == 200, response.text


async def test_removing_a_held_line_is_refused(client, auth, two_lines):
    await _ask(client, auth, type="exchange", lines=[{"sku": "SKU-1", "quantity": 1}])
    without = order_body(lines=[TWO_LINES["lines"][0]], shipping_fee=0, paid_amount=39800)

    response = await client.put("/v1/orders/SO-2L", json=without, headers=auth(Role.INTEGRATION))

    assert response.status_code == 409
    assert response.json()["errors"] == [
        {"pointer": "#/lines", "detail": "'SKU-1' is held by after-sales orders and cannot be removed"}
    ]
