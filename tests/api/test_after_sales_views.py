"""What each caller sees of an after-sales order: buttons that match in lists and single reads, the goods of a
闪电退款 still received and inspected, staff deliberation kept from the customer, and the business-line scope."""

from __future__ import annotations

import pytest

from app.domain.principal import Role
from tests.factories import customer_body, order_body, product_body, put, seed_shop

LIGHTNING = {
    "enabled": False,
    "types": ["refund"],
    "max_amount": None,
    "only_before_shipping": False,
    "customer_levels": [],
    "max_recent_after_sales": None,
    "lightning_refund_levels": ["vip"],
}


@pytest.fixture
async def shop(client, auth):
    await seed_shop(client, auth)


async def _created(client, headers, **body) -> dict:
    response = await client.post("/v1/after-sales", json={"reason_code": "changed_mind", **body}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def _act(client, headers, order, action, **body):
    return await client.post(f"/v1/after-sales/{order['id']}/actions/{action}", json=body, headers=headers)


async def _return(client, auth, quantity=1) -> dict:
    lines = [{"sku": "SKU-1", "quantity": quantity}]
    return await _created(client, auth(Role.CUSTOMER), order_no="SO-C-1", type="return_refund", lines=lines)


def _actions(view) -> list[str]:
    return sorted(a["action"] for a in view["available_actions"])


async def test_list_and_single_read_offer_a_reviewer_the_same_buttons(client, auth, shop):
    created = await _return(client, auth)
    reviewer, agent = auth(Role.REVIEWER), auth(Role.AGENT)

    listed = (await client.get("/v1/after-sales", headers=reviewer)).json()["items"]
    single = (await client.get(f"/v1/after-sales/{created['id']}", headers=reviewer)).json()
    agent_listed = (await client.get("/v1/after-sales", headers=agent)).json()["items"]
    agent_single = (await client.get(f"/v1/after-sales/{created['id']}", headers=agent)).json()

    assert _actions(listed[0]) == _actions(single) == ["add_evidence", "approve", "claim", "reject"]
    assert _actions(agent_listed[0]) == _actions(agent_single)
    assert "approve" not in _actions(agent_single)  # the default chain names reviewers, not agents


async def test_a_lightning_refunds_goods_are_still_received_and_inspected(client, auth, shop):
    assert (await client.put("/v1/settings/auto-review", json=LIGHTNING, headers=auth(Role.ADMIN))).status_code == 200
    created = await _return(client, auth)
    wms, payment = auth(Role.INTEGRATION, sub="wms"), auth(Role.INTEGRATION, sub="payment-centre")
    for headers, action, body in (
        (auth(Role.REVIEWER), "approve", {}),
        (wms, "picked_up", {"carrier": "SF", "tracking_no": "SF1"}),
        (payment, "payment_succeeded", {"reference": "PAY-1"}),
    ):
        assert (await _act(client, headers, created, action, **body)).status_code == 200, action
    refunded = (await client.get(f"/v1/after-sales/{created['id']}", headers=wms)).json()
    assert (refunded["status"], _actions(refunded)) == ("refunded", ["return_received"])

    received = await _act(client, wms, created, "return_received")
    inspected = await _act(client, auth(Role.AGENT), created, "inspect", result="fail")
    again = await _act(client, auth(Role.AGENT), created, "inspect", result="pass")

    assert received.status_code == 200, received.text
    assert received.json()["returned_at"] is not None
    assert _actions(received.json()) == ["inspect"]  # the warehouse may inspect too
    assert inspected.status_code == 200, inspected.text
    assert (inspected.json()["status"], inspected.json()["inspection_passed"]) == ("refunded", False)
    assert again.status_code == 409  # inspected once
    eligibility = (await client.get("/v1/orders/SO-C-1/eligibility", headers=auth(Role.AGENT))).json()
    assert eligibility["refundable_amount"] == 21000 - 10000  # the refund stands


async def test_a_repeated_receipt_after_a_lightning_refund_changes_nothing(client, auth, shop):
    await client.put("/v1/settings/auto-review", json=LIGHTNING, headers=auth(Role.ADMIN))
    created = await _return(client, auth)
    wms = auth(Role.INTEGRATION, sub="wms")
    await _act(client, auth(Role.REVIEWER), created, "approve")
    await _act(client, wms, created, "picked_up")
    first = await _act(client, wms, created, "return_received")

    repeat = await _act(client, wms, created, "return_received")

    assert repeat.status_code == 200, repeat.text
    assert repeat.json()["version"] == first.json()["version"]


async def test_a_reviewers_remarks_stay_internal_unless_marked_for_the_customer(client, auth, shop):
    internal = await _return(client, auth)
    shared = await _return(client, auth)
    await _act(client, auth(Role.REVIEWER), internal, "approve", remark="客户历史退货多，谨慎")
    await _act(client, auth(Role.REVIEWER), shared, "approve", remark="已为您加急处理", remark_public=True)

    async def approve_entry(order, role):
        timeline = await client.get(f"/v1/after-sales/{order['id']}/timeline", headers=auth(role))
        return next(e for e in timeline.json()["items"] if e["action"] == "approve")

    assert (await approve_entry(internal, Role.CUSTOMER))["remark"] is None
    assert (await approve_entry(internal, Role.AGENT))["remark"] == "客户历史退货多，谨慎"
    assert (await approve_entry(shared, Role.CUSTOMER))["remark"] == "已为您加急处理"


async def test_approval_comments_never_reach_the_customers_timeline(client, auth, shop):
    created = await _return(client, auth)
    approvals = (await client.get("/v1/approvals", headers=auth(Role.REVIEWER))).json()["items"]
    decision = {"decision": "reject", "comment": "疑似职业索赔"}

    response = await client.post(
        f"/v1/approvals/{approvals[0]['id']}/decision", json=decision, headers=auth(Role.REVIEWER)
    )

    assert response.status_code == 200, response.text
    timeline = (await client.get(f"/v1/after-sales/{created['id']}/timeline", headers=auth(Role.CUSTOMER))).json()
    assert all("疑似职业索赔" not in str(entry) for entry in timeline["items"])
    assert timeline["items"][-1]["to_status_label"] == "售后关闭"


@pytest.fixture
async def office_order(client, auth, shop):
    """An after-sales order on a product of the `office` line."""
    integration = auth(Role.INTEGRATION)
    await put(client, integration, "/v1/products/OFF-1", product_body(name="Desk", product_line="office"))
    await put(client, integration, "/v1/customers/C-9", customer_body(name="Office buyer"))
    order = {
        "customer_no": "C-9",
        "lines": [{"sku": "OFF-1", "quantity": 1, "unit_price": 10000}],
        "shipping_fee": 0,
        "paid_amount": 10000,
    }
    await put(client, integration, "/v1/orders/SO-OFF", order_body(**order))
    lines = [{"sku": "OFF-1", "quantity": 1}]
    return await _created(client, auth(Role.AGENT), order_no="SO-OFF", type="exchange", lines=lines)


async def test_staff_of_another_business_line_cannot_see_or_touch_the_order(client, auth, office_order):
    home = auth(Role.MANAGER, business_lines=("home",))
    office = auth(Role.MANAGER, business_lines=("office",))
    ref = office_order["number"]

    answers = [
        await client.get(f"/v1/after-sales/{ref}", headers=home),
        await client.get(f"/v1/after-sales/{ref}/timeline", headers=home),
        await client.post(f"/v1/after-sales/{ref}/actions/urge", json={}, headers=home),
    ]
    listed = (await client.get("/v1/after-sales", headers=home)).json()["items"]
    overview = (await client.get("/v1/customers/C-9/overview", headers=home)).json()

    assert [a.status_code for a in answers] == [404, 404, 404]
    assert all(a.json()["code"] == "after_sales_not_found" for a in answers)
    assert ref not in {o["number"] for o in listed}
    assert overview["recent_after_sales"] == []
    assert (await client.get(f"/v1/after-sales/{ref}", headers=office)).status_code == 200
    assert office_order["number"] in {
        o["number"] for o in (await client.get("/v1/after-sales", headers=office)).json()["items"]
    }


async def test_the_default_review_levels_are_named_in_both_languages(client, auth, shop):
    created = await _return(client, auth)

    staff = (await client.get(f"/v1/after-sales/{created['id']}", headers=auth(Role.REVIEWER))).json()
    chain = (await client.get("/v1/settings/approval-chains/after_sales_review", headers=auth(Role.ADMIN))).json()

    assert [(level["name"], level["name_en"]) for level in staff["approval"]["levels"]] == [
        ("售后审核", "After-sales review")
    ]
    assert [level["name_en"] for level in chain["levels"]] == ["After-sales review", "Manager approval"]
