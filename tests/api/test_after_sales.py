"""After-sales orders: eligibility, review (manual and 极速审核), each scenario's steps, and money that is never
refunded twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.domain.principal import Role
from app.persistence.tables import outbox
from tests.factories import NOW, auto_review_body, customer_body, iso, order_body, put, seed_shop

AUTO_REVIEW = auto_review_body(types=("refund", "partial_refund"), max_amount=50000)


@pytest.fixture
async def shop(client, auth):
    """C-1 (vip) and C-2 with signed orders SO-C-1 / SO-C-2 (2 × SKU-1 at 100.00 + 10.00 shipping, paid 210.00),
    and SO-UNPICKED, paid but not yet picked."""
    await seed_shop(client, auth)


async def _create(client, headers, **body):
    return await client.post("/v1/after-sales", json={"reason_code": "changed_mind", **body}, headers=headers)


async def _created(client, headers, **body) -> dict:
    response = await _create(client, headers, **body)
    assert response.status_code == 201, response.text
    return response.json()


async def _act(client, headers, order, action, **body):
    return await client.post(f"/v1/after-sales/{order['id']}/actions/{action}", json=body, headers=headers)


async def _steps(client, order, *steps):
    """Run (role, action, body) steps, each expected to succeed; the last answer."""
    body = order
    for headers, action, fields in steps:
        response = await _act(client, headers, order, action, **fields)
        assert response.status_code == 200, (action, response.text)
        body = response.json()
    return body


async def _eligibility(client, auth, order_no="SO-C-1"):
    return (await client.get(f"/v1/orders/{order_no}/eligibility", headers=auth(Role.AGENT))).json()


async def _outbox_types(app) -> list[str]:
    async with app.state.services.database.engine.connect() as conn:
        return list((await conn.execute(select(outbox.c.type).order_by(outbox.c.id))).scalars())


async def test_eligibility_shows_what_each_line_allows_with_deadlines(client, auth, shop):
    signed = await _eligibility(client, auth)
    unpicked = await _eligibility(client, auth, "SO-UNPICKED")

    line = signed["lines"][0]
    rules = {r["type"]: r for r in line["rules"]}
    assert (signed["refundable_amount"], line["remaining_quantity"], line["max_refundable_amount"]) == (21000, 2, 20000)
    assert rules["return_refund"]["allowed"] and rules["return_refund"]["rule_text"] == "签收后7天内可申请退货退款"
    assert rules["return_refund"]["deadline"] is not None
    order_rules = {r["type"]: r for r in signed["order_rules"]}
    assert order_rules["refund"]["allowed"] is False
    assert {r["type"]: r["allowed"] for r in unpicked["order_rules"]}["refund"] is True
    assert not any(r["allowed"] for r in unpicked["lines"][0]["rules"])


async def test_a_customer_sees_only_their_own_orders_eligibility(client, auth, shop):
    response = await client.get("/v1/orders/SO-C-2/eligibility", headers=auth(Role.CUSTOMER))

    assert (response.status_code, response.json()["code"]) == (404, "order_not_found")


async def test_a_return_waits_for_review_and_holds_the_quantity(client, auth, shop):
    customer = auth(Role.CUSTOMER)

    created = await _created(
        client, customer, order_no="SO-C-1", type="return_refund", lines=[{"sku": "SKU-1", "quantity": 1}]
    )

    assert created["number"].startswith(f"AS-{NOW.year}-")
    assert (created["status"], created["amount"], created["view"]) == ("under_review", 10000, "customer")
    assert created["customer_status"]["label"] == "退货审核中"
    assert {a["action"] for a in created["available_actions"]} == {"cancel", "urge", "add_evidence"}
    after = await _eligibility(client, auth)
    assert (after["lines"][0]["remaining_quantity"], after["refundable_amount"]) == (1, 11000)


async def test_auto_review_approves_a_refund_and_asks_the_payment_centre(app, client, auth, shop):
    put_rules = await client.put("/v1/settings/auto-review", json=AUTO_REVIEW, headers=auth(Role.MANAGER))
    assert put_rules.status_code == 200, put_rules.text

    created = await _created(client, auth(Role.CUSTOMER), order_no="SO-UNPICKED", type="refund")

    assert (created["status"], created["amount"], created["customer_status"]["label"]) == ("refunding", 21000, "退款中")
    staff_view = (await client.get(f"/v1/after-sales/{created['number']}", headers=auth(Role.AGENT))).json()
    assert (staff_view["review_rule"], staff_view["reviewed_by"]) == ("auto_review/v1", "auto-review")
    history = (await client.get(f"/v1/after-sales/{created['id']}/timeline", headers=auth(Role.AGENT))).json()
    approve = next(e for e in history["items"] if e["action"] == "approve")
    assert approve["payload"]["rule"] == "auto_review/v1" and "极速审核" in approve["remark"]
    assert "type refund is auto-reviewed" in approve["payload"]["matched"]
    assert "amount 210.00 CNY ≤ 500.00 CNY" in approve["payload"]["matched"]
    assert "after_sales.refund_requested" in await _outbox_types(app)


async def test_the_refund_completes_and_a_repeated_success_changes_nothing(client, auth, shop):
    await client.put("/v1/settings/auto-review", json=AUTO_REVIEW, headers=auth(Role.MANAGER))
    created = await _created(client, auth(Role.CUSTOMER), order_no="SO-UNPICKED", type="refund")
    payment = auth(Role.INTEGRATION, sub="payment-centre")

    refunded = await _steps(
        client,
        created,
        (payment, "payment_accepted", {"reference": "PAY-1"}),
        (payment, "payment_succeeded", {"reference": "PAY-1"}),
    )
    again = await _act(client, payment, created, "payment_succeeded", reference="PAY-1")

    assert (refunded["status"], refunded["customer_status"]["message"]) == ("refunded", "已到账")
    assert (again.status_code, again.json()["version"]) == (200, refunded["version"])
    assert (await _eligibility(client, auth, "SO-UNPICKED"))["refundable_amount"] == 0
    duplicate = await _create(client, auth(Role.CUSTOMER), order_no="SO-UNPICKED", type="refund")
    assert (duplicate.status_code, duplicate.json()["errors"][0]["pointer"]) == (422, "#/type")


async def test_a_failed_payment_is_retried(client, auth, shop):
    await client.put("/v1/settings/auto-review", json=AUTO_REVIEW, headers=auth(Role.MANAGER))
    created = await _created(client, auth(Role.AGENT), order_no="SO-UNPICKED", type="refund")
    payment = auth(Role.INTEGRATION)

    failed = await _steps(client, created, (payment, "payment_failed", {"reason": "card closed"}))
    retried = await _steps(client, created, (auth(Role.AGENT), "retry_payment", {}))

    assert failed["status"] == "payment_failed"
    assert (retried["status"], retried["payment_attempts"]) == ("refunding", 2)


async def test_a_reviewer_approves_small_amounts_but_large_ones_also_need_a_manager(app_with, auth, client, shop):
    from tests.conftest import client_for

    async with client_for(app_with(manager_review_above=5000)) as strict:
        customer = auth(Role.CUSTOMER)
        line = [{"sku": "SKU-1", "quantity": 1}]
        small = await _created(strict, customer, order_no="SO-C-1", type="partial_refund", amount=3000, lines=line)
        large = await _created(strict, customer, order_no="SO-C-1", type="partial_refund", amount=8000, lines=line)
        alone = await _created(strict, customer, order_no="SO-C-1", type="partial_refund", amount=6000, lines=line)
        reviewer, manager = auth(Role.REVIEWER), auth(Role.MANAGER)
        shown = (await strict.get(f"/v1/after-sales/{large['id']}", headers=reviewer)).json()
        assert [level["name"] for level in shown["approval"]["levels"]] == ["售后审核", "经理审批"]
        assert large.get("approval") is None  # the customer's view shows no internal review

        approved = await _act(strict, reviewer, small, "approve")
        first_level = await _act(strict, reviewer, large, "approve")
        waiting = (await strict.get("/v1/approvals", headers=manager)).json()["items"]
        by_manager = await _act(strict, manager, large, "approve")
        both_levels = await _act(strict, manager, alone, "approve")

    assert approved.json()["status"] == "refunding"
    assert first_level.json()["status"] == "under_review"
    assert first_level.json()["approval"]["current_level"] == 1
    assert "approve" not in [a["action"] for a in first_level.json()["available_actions"]]
    assert {a["subject_ref"] for a in waiting} == {large["number"], alone["number"]}
    assert by_manager.json()["status"] == "refunding"
    assert both_levels.json()["status"] == "refunding"  # the same approver decides both levels at once


async def test_rejection_releases_the_reserved_money(client, auth, shop):
    created = await _created(
        client,
        auth(Role.CUSTOMER),
        order_no="SO-C-1",
        type="partial_refund",
        amount=5000,
        lines=[{"sku": "SKU-1", "quantity": 1}],
    )
    assert (await _eligibility(client, auth))["refundable_amount"] == 16000

    rejected = await _steps(client, created, (auth(Role.REVIEWER), "reject", {"reason": "照片无法证明损坏"}))

    assert (rejected["status"], rejected["status_label"]) == ("rejected", "审核驳回")
    assert (await _eligibility(client, auth))["refundable_amount"] == 21000


async def test_a_return_is_picked_up_received_inspected_and_refunded(app, client, auth, shop):
    await put(client, auth(Role.INTEGRATION), "/v1/customers/C-1", customer_body(level="regular"))
    created = await _created(
        client, auth(Role.CUSTOMER), order_no="SO-C-1", type="return_refund", lines=[{"sku": "SKU-1", "quantity": 2}]
    )
    wms, payment = auth(Role.INTEGRATION, sub="wms"), auth(Role.INTEGRATION, sub="payment-centre")

    done = await _steps(
        client,
        created,
        (auth(Role.REVIEWER), "approve", {}),
        (wms, "picked_up", {"carrier": "SF", "tracking_no": "SF1234567"}),
        (wms, "return_received", {}),
        (auth(Role.AGENT), "inspect", {"result": "pass"}),
        (payment, "payment_succeeded", {"reference": "PAY-9"}),
    )

    assert (done["status"], done["amount"], done["return_shipment"]["tracking_no"]) == ("refunded", 20000, "SF1234567")
    types = await _outbox_types(app)
    assert types.index("after_sales.pickup_requested") < types.index("after_sales.refund_requested")
    assert (await _eligibility(client, auth))["refundable_amount"] == 1000


async def test_a_trusted_customers_return_refunds_on_pickup(client, auth, shop):
    rules = {**AUTO_REVIEW, "lightning_refund_levels": ["vip"]}
    await client.put("/v1/settings/auto-review", json=rules, headers=auth(Role.ADMIN))
    created = await _created(
        client, auth(Role.CUSTOMER), order_no="SO-C-1", type="return_refund", lines=[{"sku": "SKU-1", "quantity": 1}]
    )

    picked = await _steps(
        client, created, (auth(Role.REVIEWER), "approve", {}), (auth(Role.INTEGRATION), "picked_up", {})
    )

    assert (created["lightning_refund"], picked["status"]) == (True, "refunding")


async def test_a_failed_inspection_ends_without_a_refund_and_frees_the_quantity(client, auth, shop):
    created = await _created(
        client, auth(Role.AGENT), order_no="SO-C-1", type="return_refund", lines=[{"sku": "SKU-1", "quantity": 1}]
    )

    failed = await _steps(
        client,
        created,
        (auth(Role.REVIEWER), "approve", {}),
        (auth(Role.CUSTOMER), "ship_return", {"carrier": "YTO", "tracking_no": "YT88"}),
        (auth(Role.INTEGRATION), "return_received", {}),
        (auth(Role.AGENT), "inspect", {"result": "fail"}),
    )

    assert (failed["status"], failed["inspection_passed"]) == ("inspection_failed", False)
    eligibility = await _eligibility(client, auth)
    assert (eligibility["refundable_amount"], eligibility["lines"][0]["remaining_quantity"]) == (21000, 2)


async def test_an_exchange_goes_from_pickup_to_a_signed_replacement(client, auth, shop):
    created = await _created(
        client, auth(Role.CUSTOMER), order_no="SO-C-1", type="exchange", lines=[{"sku": "SKU-1", "quantity": 1}]
    )
    wms = auth(Role.INTEGRATION)

    labels = []
    for headers, action, body in (
        (auth(Role.REVIEWER), "approve", {}),
        (wms, "picked_up", {}),
        (wms, "picking_started", {}),
        (wms, "shipped", {"carrier": "SF", "tracking_no": "SF99"}),
        (wms, "signed", {}),
    ):
        await _steps(client, created, (headers, action, body))
        view = (await client.get(f"/v1/after-sales/{created['id']}", headers=auth(Role.CUSTOMER))).json()
        labels.append(view["status_label"])

    assert labels == ["取件中", "取件完成", "拣货中", "配送中", "已签收"]
    assert created["amount"] == 0


async def test_a_replenishment_is_shipped_and_signed(client, auth, shop):
    created = await _created(
        client, auth(Role.AGENT), order_no="SO-C-1", type="replenish", lines=[{"sku": "SKU-1", "quantity": 1}]
    )
    wms = auth(Role.INTEGRATION)

    signed = await _steps(
        client,
        created,
        (auth(Role.MANAGER), "approve", {}),
        (wms, "shipped", {"tracking_no": "JD001"}),
        (wms, "signed", {}),
    )

    assert (signed["status"], signed["replacement_shipment"]["tracking_no"]) == ("signed", "JD001")


async def test_compensation_is_capped_by_policy(client, auth, shop):
    too_much = await _create(
        client, auth(Role.AGENT), order_no="SO-C-1", type="compensation", compensation_kind="coupon", amount=7000
    )
    coupon = await _created(
        client, auth(Role.AGENT), order_no="SO-C-1", type="compensation", compensation_kind="coupon", amount=6300
    )

    paid = await _steps(
        client, coupon, (auth(Role.MANAGER), "approve", {}), (auth(Role.INTEGRATION), "payment_succeeded", {})
    )

    assert (too_much.status_code, too_much.json()["errors"][0]["pointer"]) == (422, "#/amount")
    assert (paid["status"], paid["customer_status"]["label"]) == ("compensated", "赔付成功")
    assert (await _eligibility(client, auth))["compensable_amount"] == 0


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"type": "refund"}, "#/type"),  # signed: picking is complete
        ({"type": "partial_refund", "amount": 30000, "lines": [{"sku": "SKU-1", "quantity": 1}]}, "#/amount"),
        ({"type": "partial_refund", "amount": 1000}, "#/lines"),
        ({"type": "return_refund", "lines": [{"sku": "SKU-1", "quantity": 3}]}, "#/lines/0/quantity"),
        ({"type": "return_refund", "lines": [{"sku": "SKU-9", "quantity": 1}]}, "#/lines/0/sku"),
        (
            {"type": "exchange", "lines": [{"sku": "SKU-1", "quantity": 1}, {"sku": "SKU-1", "quantity": 1}]},
            "#/lines/1/sku",
        ),
        ({"type": "compensation", "amount": 100}, "#/compensation_kind"),
        ({"type": "return_refund", "amount": 100, "lines": [{"sku": "SKU-1", "quantity": 1}]}, "#/amount"),
        ({"type": "return_refund", "order_no": "SO-C-2", "lines": [{"sku": "SKU-1", "quantity": 1}]}, "#/order_no"),
        ({"type": "return_refund", "ticket": "T-2026-999999", "lines": [{"sku": "SKU-1", "quantity": 1}]}, "#/ticket"),
    ],
)
async def test_requests_the_order_does_not_allow_are_named_and_nothing_is_written(client, auth, shop, body, pointer):
    response = await _create(client, auth(Role.CUSTOMER), **{"order_no": "SO-C-1", **body})

    problem = response.json()
    assert response.status_code == 422, problem
    assert pointer in {e["pointer"] for e in problem["errors"]}, problem
    assert (await client.get("/v1/after-sales", headers=auth(Role.ADMIN))).json()["items"] == []
    assert (await _eligibility(client, auth))["refundable_amount"] == 21000


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"type": "partial_refund", "amount": 0}, "#/amount"),
        ({"type": "partial_refund", "amount": -5}, "#/amount"),
        ({"type": "teleport"}, "#/type"),
        ({"type": "return_refund", "lines": [{"sku": "SKU-1", "quantity": 0}]}, "#/lines/0/quantity"),
        ({"type": "refund", "colour": "red"}, "#/colour"),
    ],
)
async def test_malformed_requests_are_422(client, auth, shop, body, pointer):
    response = await _create(client, auth(Role.CUSTOMER), **{"order_no": "SO-C-1", **body})

    assert (response.status_code, response.json()["code"]) == (422, "validation_failed")
    assert pointer in {e["pointer"] for e in response.json()["errors"]}


async def test_the_return_window_closes(client, auth, shop):
    placed = NOW - timedelta(days=20)
    old = order_body(
        placed_at=iso(placed),
        paid_at=iso(placed + timedelta(minutes=1)),
        picking_at=iso(placed + timedelta(hours=1)),
        picked_at=iso(placed + timedelta(hours=2)),
        shipped_at=iso(placed + timedelta(days=1)),
        signed_at=iso(placed + timedelta(days=2)),
    )
    await put(client, auth(Role.INTEGRATION), "/v1/orders/SO-OLD", old)

    response = await _create(
        client, auth(Role.CUSTOMER), order_no="SO-OLD", type="return_refund", lines=[{"sku": "SKU-1", "quantity": 1}]
    )

    assert response.status_code == 422
    assert "window for a return and refund has passed" in response.json()["errors"][0]["detail"]


async def test_customers_see_their_view_and_never_anothers_order(client, auth, shop):
    mine = await _created(
        client, auth(Role.CUSTOMER), order_no="SO-C-1", type="exchange", lines=[{"sku": "SKU-1", "quantity": 1}]
    )
    theirs = await _created(
        client, auth(Role.AGENT), order_no="SO-C-2", type="exchange", lines=[{"sku": "SKU-1", "quantity": 1}]
    )
    customer = auth(Role.CUSTOMER)

    seen = (await client.get(f"/v1/after-sales/{mine['id']}", headers=customer)).json()
    foreign = await client.get(f"/v1/after-sales/{theirs['number']}", headers=customer)
    listed = (await client.get("/v1/after-sales?customer_no=C-2", headers=customer)).json()["items"]
    approve = await _act(client, customer, mine, "approve")

    assert (seen["reviewed_by"], seen["created_by"], seen["payment_attempts"]) == (None, None, None)
    assert (foreign.status_code, foreign.json()["code"]) == (404, "after_sales_not_found")
    assert [o["number"] for o in listed] == [mine["number"]]
    assert (approve.status_code, approve.json()["code"]) == (403, "action_forbidden")


async def test_a_stale_if_match_is_refused(client, auth, shop):
    created = await _created(
        client, auth(Role.CUSTOMER), order_no="SO-C-1", type="exchange", lines=[{"sku": "SKU-1", "quantity": 1}]
    )

    response = await client.post(
        f"/v1/after-sales/{created['id']}/actions/approve", json={}, headers={**auth(Role.REVIEWER), "If-Match": '"9"'}
    )

    assert response.status_code == 412


async def test_urging_is_counted_and_rate_limited(client, auth, shop):
    created = await _created(
        client, auth(Role.CUSTOMER), order_no="SO-C-1", type="exchange", lines=[{"sku": "SKU-1", "quantity": 1}]
    )

    first = await _act(client, auth(Role.CUSTOMER), created, "urge")
    second = await _act(client, auth(Role.CUSTOMER), created, "urge")

    assert (first.json()["urge_count"], second.status_code) == (1, 429)


async def test_lists_filter_by_type_status_and_order(client, auth, shop):
    exchange = await _created(
        client, auth(Role.AGENT), order_no="SO-C-1", type="exchange", lines=[{"sku": "SKU-1", "quantity": 1}]
    )
    await _created(
        client, auth(Role.AGENT), order_no="SO-C-2", type="replenish", lines=[{"sku": "SKU-1", "quantity": 1}]
    )
    agent = auth(Role.AGENT)

    by_type = (await client.get("/v1/after-sales?type=exchange", headers=agent)).json()["items"]
    by_order = (await client.get("/v1/after-sales?order_no=SO-C-2", headers=agent)).json()["items"]
    by_status = (await client.get("/v1/after-sales?status=signed", headers=agent)).json()["items"]

    assert [o["number"] for o in by_type] == [exchange["number"]]
    assert [o["type"] for o in by_order] == ["replenish"]
    assert by_status == []


async def test_auto_review_settings_need_a_manager_and_a_current_etag(client, auth):
    current = await client.get("/v1/settings/auto-review", headers=auth(Role.AGENT))
    by_agent = await client.put("/v1/settings/auto-review", json=AUTO_REVIEW, headers=auth(Role.AGENT))
    first = await client.put("/v1/settings/auto-review", json=AUTO_REVIEW, headers=auth(Role.MANAGER))
    stale = await client.put(
        "/v1/settings/auto-review", json=AUTO_REVIEW, headers={**auth(Role.MANAGER), "If-Match": '"0"'}
    )

    assert (current.json()["enabled"], current.headers["etag"]) == (False, '"0"')
    assert by_agent.status_code == 403
    assert (first.status_code, first.headers["etag"]) == (200, '"1"')
    assert stale.status_code == 412


async def test_an_unknown_status_filter_is_named(client, auth):
    response = await client.get("/v1/after-sales?status=refunded&status=lost", headers=auth(Role.AGENT))

    assert (response.status_code, response.json()["errors"][0]["parameter"]) == (422, "status")


async def test_the_customer_overview_lists_their_after_sales_orders(client, auth, shop):
    mine = await _created(
        client, auth(Role.CUSTOMER), order_no="SO-C-1", type="exchange", lines=[{"sku": "SKU-1", "quantity": 1}]
    )

    overview = (await client.get("/v1/customers/C-1/overview", headers=auth(Role.CUSTOMER))).json()

    assert [(o["number"], o["status_label"]) for o in overview["recent_after_sales"]] == [
        (mine["number"], "换货审核中")
    ]
