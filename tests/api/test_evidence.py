"""证据要求: an after-sales reason that needs photos (damaged, quality_issue by default) is not approved, by a reviewer
or by 极速审核, until that many evidence photos are linked and scanned clean; the button is absent meanwhile and the
action answers 409 `evidence_missing`. The rules are a settings document with ETag/If-Match."""

from __future__ import annotations

from typing import Any

import pytest

from app.domain.principal import Role
from tests.conftest import client_for
from tests.factories import PDF_BYTES, auto_review_body, png, run_scans, seed_shop, upload_file

AUTO_REVIEW = auto_review_body(types=("refund", "partial_refund"), max_amount=50000)
RULES = "/v1/settings/evidence-rules"


@pytest.fixture
async def shop(client, auth):
    await seed_shop(client, auth)


async def _refund(client, auth, reason: str = "damaged", attachments: tuple[str, ...] = ()) -> dict[str, Any]:
    body = {
        "order_no": "SO-UNPICKED",
        "type": "refund",
        "reason_code": reason,
        "attachments": [{"id": a} for a in attachments],
    }
    response = await client.post("/v1/after-sales", json=body, headers=auth(Role.CUSTOMER))
    assert response.status_code == 201, response.text
    return response.json()


async def _read(client, headers, order: dict[str, Any], **extra: str) -> dict[str, Any]:
    return (await client.get(f"/v1/after-sales/{order['id']}", headers={**headers, **extra})).json()


def _actions(view: dict[str, Any]) -> set[str]:
    return {a["action"] for a in view["available_actions"]}


async def test_a_damaged_goods_request_is_not_approved_until_a_clean_photo_is_added(app, client, auth, shop):
    reviewer, customer = auth(Role.REVIEWER), auth(Role.CUSTOMER)
    order = await _refund(client, auth)

    refused = await client.post(f"/v1/after-sales/{order['id']}/actions/approve", json={}, headers=reviewer)
    waiting = await _read(client, reviewer, order)
    asked = await _read(client, customer, order)
    asked_en = await _read(client, customer, order, **{"Accept-Language": "en"})

    assert order["evidence"] | {"message": None} == {
        "required": 1,
        "clean": 0,
        "pending": 0,
        "complete": False,
        "message": None,
    }
    assert (refused.status_code, refused.json()["code"]) == (409, "evidence_missing")
    assert refused.json()["evidence"] == {"required": 1, "clean": 0, "pending": 0}
    assert "damaged" in refused.json()["detail"]
    assert "approve" not in _actions(waiting) and "add_evidence" in _actions(
        await _read(client, auth(Role.AGENT), order)
    )
    assert "照片" in asked["evidence"]["message"] and "photo" in asked_en["evidence"]["message"]
    assert "add_evidence" in _actions(asked)

    photo = await upload_file(client, customer, name="破损.png")
    added = await client.post(
        f"/v1/after-sales/{order['id']}/actions/add_evidence", json={"attachments": [{"id": photo}]}, headers=customer
    )
    pending = await _read(client, reviewer, order)
    await run_scans(app)
    cleared = await _read(client, reviewer, order)
    approved = await client.post(f"/v1/after-sales/{order['id']}/actions/approve", json={}, headers=reviewer)

    assert added.status_code == 200, added.text
    assert [a["id"] for a in added.json()["attachments"]] == [photo]
    assert (pending["evidence"]["pending"], pending["evidence"]["clean"]) == (1, 0)
    assert "approve" not in _actions(pending)
    assert (cleared["evidence"]["clean"], cleared["evidence"]["complete"]) == (1, True)
    assert "approve" in _actions(cleared)
    assert (approved.status_code, approved.json()["status"]) == (200, "refunding")


async def test_an_infected_photo_never_counts_as_evidence(app_with, auth, shop):
    flags_everything = "sh -c 'cat > /dev/null; echo Eicar-Test-Signature; exit 1'"
    scanning = app_with(attachment_scanner="command", attachment_scan_command=flags_everything)
    async with client_for(scanning) as http:
        photo = await upload_file(http, auth(Role.CUSTOMER))
        order = await _refund(http, auth, attachments=(photo,))

        await run_scans(scanning)
        view = await _read(http, auth(Role.REVIEWER), order)

    assert order["evidence"]["pending"] == 1
    assert (view["evidence"]["clean"], view["evidence"]["pending"], view["evidence"]["complete"]) == (0, 0, False)
    assert "approve" not in _actions(view)


async def test_a_photo_already_on_the_order_counts_once(app, client, auth, shop):
    customer = auth(Role.CUSTOMER)
    photo = await upload_file(client, customer)
    await run_scans(app)
    order = await _refund(client, auth, reason="quality_issue", attachments=(photo,))

    again = await client.post(
        f"/v1/after-sales/{order['id']}/actions/add_evidence", json={"attachments": [{"id": photo}]}, headers=customer
    )

    assert order["evidence"]["clean"] == 1 and "approve" in _actions(await _read(client, auth(Role.REVIEWER), order))
    assert again.status_code == 200, again.text
    assert again.json()["evidence"]["clean"] == 1


async def test_evidence_is_uploaded_as_evidence_not_as_a_document(client, auth, shop):
    customer = auth(Role.CUSTOMER)
    invoice = await upload_file(
        client, customer, name="发票.pdf", data=PDF_BYTES, content_type="application/pdf", purpose="document"
    )
    order = await _refund(client, auth, attachments=(invoice,))  # creation takes documents too

    refused = await client.post(
        f"/v1/after-sales/{order['id']}/actions/add_evidence", json={"attachments": [{"id": invoice}]}, headers=customer
    )
    empty = await client.post(
        f"/v1/after-sales/{order['id']}/actions/add_evidence", json={"attachments": []}, headers=customer
    )

    assert order["evidence"]["clean"] + order["evidence"]["pending"] == 0  # a document is no photo
    assert (refused.status_code, refused.json()["code"]) == (422, "purpose_not_allowed")
    assert refused.json()["errors"][0]["pointer"] == "#/attachments/0/id"
    assert (empty.status_code, empty.json()["errors"][0]["pointer"]) == (422, "#/attachments")


async def test_auto_review_waits_for_the_photos_a_reason_needs(app, client, auth, shop):
    assert (await client.put("/v1/settings/auto-review", json=AUTO_REVIEW, headers=auth(Role.MANAGER))).is_success
    without = await _refund(client, auth)
    history = (await client.get(f"/v1/after-sales/{without['id']}/timeline", headers=auth(Role.AGENT))).json()
    photo = await upload_file(client, auth(Role.CUSTOMER), data=png(7))
    await run_scans(app)
    order = {**(await client.get("/v1/orders/SO-UNPICKED", headers=auth(Role.ADMIN))).json()}
    assert order  # the first request was not approved, so the order still has money to refund
    cancelled = await client.post(
        f"/v1/after-sales/{without['id']}/actions/cancel", json={}, headers=auth(Role.CUSTOMER)
    )

    with_photo = await _refund(client, auth, attachments=(photo,))

    assert without["status"] == "under_review"
    needed = next(e for e in history["items"] if e["action"] == "review_needed")
    assert any(reason.startswith("evidence:") for reason in needed["payload"]["reasons"])
    assert cancelled.status_code == 200, cancelled.text
    assert (with_photo["status"], with_photo["evidence"]["complete"]) == ("refunding", True)


async def test_evidence_rules_are_a_settings_document_with_an_etag(client, auth, shop):
    manager = auth(Role.MANAGER)
    first = await client.get(RULES, headers=auth(Role.AGENT))
    changed = await client.put(
        RULES,
        json={"rules": [{"reason_code": "wrong_item", "photos": 2}]},
        headers={**manager, "If-Match": first.headers["etag"]},
    )
    stale = await client.put(RULES, json={"rules": []}, headers={**manager, "If-Match": first.headers["etag"]})
    by_agent = await client.put(RULES, json={"rules": []}, headers={**auth(Role.AGENT), "If-Match": "*"})
    customer = await client.get(RULES, headers=auth(Role.CUSTOMER))

    assert (first.status_code, first.json()) == (
        200,
        {"rules": [{"reason_code": "damaged", "photos": 1}, {"reason_code": "quality_issue", "photos": 1}]},
    )
    assert (changed.status_code, changed.json()) == (200, {"rules": [{"reason_code": "wrong_item", "photos": 2}]})
    assert changed.headers["etag"] != first.headers["etag"]
    assert (stale.status_code, by_agent.status_code, customer.status_code) == (412, 403, 403)
    now_free = await _refund(client, auth)  # damaged needs nothing any more; wrong_item needs two
    assert now_free["evidence"] == {"required": 0, "clean": 0, "pending": 0, "complete": True, "message": None}


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"rules": [{"reason_code": "damaged", "photos": 0}]}, "#/rules/0/photos"),
        ({"rules": [{"reason_code": "damaged", "photos": 21}]}, "#/rules/0/photos"),
        ({"rules": [{"reason_code": "damaged", "photos": "1"}]}, "#/rules/0/photos"),
        ({"rules": [{"reason_code": "damaged", "photos": True}]}, "#/rules/0/photos"),
        ({"rules": [{"reason_code": "not a code!", "photos": 1}]}, "#/rules/0/reason_code"),
        ({"rules": [{"reason_code": "damaged", "photos": 1}] * 2}, "#/rules"),
        ({"rules": {"damaged": 1}}, "#/rules"),
        ({"photos": {}}, "#/photos"),
    ],
)
async def test_bad_evidence_rules_are_refused_naming_the_field(client, auth, shop, body, pointer):
    response = await client.put(RULES, json=body, headers={**auth(Role.ADMIN), "If-Match": "*"})

    assert (response.status_code, response.json()["code"]) == (422, "validation_failed")
    assert pointer in {e.get("pointer") for e in response.json()["errors"]}


async def test_a_chain_that_approves_at_once_still_waits_for_the_photos(app, client, auth, shop):
    chain = {"levels": [{"name": "大额审核", "approvers": "role", "ids": ["manager"], "above_amount": 1_000_000}]}
    saved = await client.put("/v1/settings/approval-chains/after_sales_review", json=chain, headers=auth(Role.ADMIN))
    assert saved.status_code == 200, saved.text
    order = await _refund(client, auth)  # 210.00: no level applies
    reviewer = auth(Role.REVIEWER)
    early = await client.post(f"/v1/after-sales/{order['id']}/actions/approve", json={}, headers=reviewer)
    photo = await upload_file(client, auth(Role.CUSTOMER), data=png(11))
    await client.post(
        f"/v1/after-sales/{order['id']}/actions/add_evidence",
        json={"attachments": [{"id": photo}]},
        headers=auth(Role.CUSTOMER),
    )
    await run_scans(app)
    ready = await _read(client, reviewer, order)

    approved = await client.post(f"/v1/after-sales/{order['id']}/actions/approve", json={}, headers=reviewer)

    assert order["status"] == "under_review"
    assert (early.status_code, early.json()["code"]) == (409, "evidence_missing")
    assert "approve" in _actions(ready)
    assert (approved.status_code, approved.json()["status"]) == (200, "refunding")
