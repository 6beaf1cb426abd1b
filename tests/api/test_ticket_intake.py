"""Ticket intake from every channel: who may open what, the number, warranty, and every bad input refused."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import timedelta

import pytest

from app.domain.principal import Role
from tests.factories import NOW, iso, open_ticket, product_body, put, seed_service_desk, ticket_body, upload_file


@pytest.fixture
async def desk(client, auth):
    await seed_service_desk(client, auth)


async def _count_tickets(client, auth) -> int:
    return len((await client.get("/v1/tickets?limit=100", headers=auth(Role.ADMIN))).json()["items"])


async def test_a_customer_opens_a_ticket_and_gets_a_number_and_a_confirmation(client, auth, desk):
    response = await client.post("/v1/tickets", json=ticket_body(customer_no=None), headers=auth(Role.CUSTOMER))

    body = response.json()
    assert response.status_code == 201, body
    assert re.fullmatch(rf"T-{NOW.year}-\d{{6}}", body["number"])
    assert body["confirmation_message"] == f"您的服务请求已受理，编号为{body['number']}。"
    assert (body["customer_no"], body["status"], body["view"]) == ("C-1", "new", "customer")
    assert body["customer_status"]["label"] == "已受理"
    assert response.headers["location"] == f"/v1/tickets/{body['id']}"
    assert response.headers["etag"] == '"1"'
    assert {a["action"] for a in body["available_actions"]} == {"cancel", "urge"}


async def test_numbers_increase_and_the_number_finds_the_ticket(client, auth, desk):
    first = await open_ticket(client, auth)
    second = await open_ticket(client, auth)

    assert second["number"] > first["number"]
    by_number = await client.get(f"/v1/tickets/{second['number']}", headers=auth(Role.AGENT))
    assert by_number.json()["id"] == second["id"]


async def test_an_integration_takes_in_a_ticket_with_contact_and_attachments(client, auth, desk):
    video = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 1000
    photo = await upload_file(client, auth(Role.CUSTOMER), name="noise.mp4", data=video, content_type="video/mp4")
    body = ticket_body(
        channel="im_bot",
        type="complaint",
        priority="high",
        contact={"name": "张伟", "phone": "+86 138 0013 8000", "email": "zw@example.com"},
        attachments=[{"id": photo}],
        expected_by=iso(NOW + timedelta(days=2)),
        group_key="east",
    )

    response = await client.post("/v1/tickets", json=body, headers=auth(Role.INTEGRATION, sub="im-bot"))

    created = response.json()
    assert response.status_code == 201, created
    assert (created["channel"], created["priority"], created["created_by"]) == ("im_bot", "high", "im-bot")
    assert created["contact"]["email"] == "zw@example.com"
    assert created["attachments"] == [
        {
            "id": photo,
            "name": "noise.mp4",
            "content_type": "video/mp4",
            "size": len(video),
            "sha256": hashlib.sha256(video).hexdigest(),
            "external_url": None,
        }
    ]
    assert created["group_key"] == "east"


async def test_warranty_status_follows_the_purchase_date_and_the_products_warranty(client, auth, desk):
    await put(client, auth(Role.ADMIN), "/v1/products/SKU-OLD", product_body(warranty_months=12))
    old = await open_ticket(client, auth, order_no=None, sku="SKU-OLD", purchase_date="2020-02-29")
    recent = await open_ticket(client, auth)  # purchase date defaults to the order's date

    assert (old["warranty_status"], old["warranty_until"]) == ("out_of_warranty", "2021-02-28")
    assert recent["warranty_status"] == "in_warranty"
    assert recent["purchase_date"] == (NOW - timedelta(days=3)).date().isoformat()
    assert recent["business_line"] == "home"


async def test_without_a_product_the_warranty_is_unknown(client, auth, desk):
    ticket = await open_ticket(client, auth, order_no=None, sku=None, type="consultation")

    assert (ticket["warranty_status"], ticket["warranty_until"]) == ("unknown", None)


async def test_accept_language_picks_english_labels_and_message(client, auth, desk):
    headers = {**auth(Role.CUSTOMER), "Accept-Language": "en-US,en;q=0.9,zh;q=0.5"}

    body = (await client.post("/v1/tickets", json=ticket_body(customer_no=None), headers=headers)).json()

    assert body["confirmation_message"].startswith("Your request has been received")
    assert body["customer_status"]["label"] == "Received"


@pytest.mark.parametrize(
    ("override", "pointer"),
    [
        ({"channel": "fax"}, "#/channel"),
        ({"type": "praise"}, "#/type"),
        ({"priority": "critical"}, "#/priority"),
        ({"description": ""}, "#/description"),
        ({"title": "x" * 201}, "#/title"),
        ({"title": "bad\u0000title"}, "#/title"),
        ({"title": "two\nlines"}, "#/title"),
        ({"description": "NUL \u0000 cannot be stored"}, "#/description"),
        ({"contact": {"name": "\u0000"}}, "#/contact/name"),
        ({"description": "x" * 10_001}, "#/description"),
        ({"tags": ["ok", "not a tag!"]}, "#/tags/1"),
        ({"contact": {"phone": "call me"}}, "#/contact/phone"),
        ({"attachments": [{"name": "a", "content_type": "x", "size": 1, "sha256": "z", "url": "ftp://a"}]}, None),
        ({"attachments": [{"id": "not-a-uuid"}]}, "#/attachments/0/id"),
        ({"attachments": {"id": str(uuid.uuid4())}}, "#/attachments"),
        ({"attachments": [{"id": str(uuid.uuid4())}] * 21}, "#/attachments"),
        ({"expected_by": "2026-12-01T10:00:00"}, "#/expected_by"),
        ({"colour": "red"}, "#/colour"),
    ],
)
async def test_malformed_fields_are_named_and_nothing_is_written(client, auth, desk, override, pointer):
    response = await client.post("/v1/tickets", json=ticket_body(**override), headers=auth(Role.AGENT))

    problem = response.json()
    assert (response.status_code, problem["code"]) == (422, "validation_failed")
    assert response.headers["content-type"] == "application/problem+json"
    pointers = {e.get("pointer") for e in problem["errors"]}
    assert pointer in pointers if pointer else all(p.startswith("#/attachments/0/") for p in pointers)
    assert await _count_tickets(client, auth) == 0


@pytest.mark.parametrize(
    ("override", "pointer", "reason"),
    [
        ({"order_no": "SO-C-2"}, "#/order_no", "no such order for this customer"),
        ({"order_no": "SO-NOPE"}, "#/order_no", "no such order for this customer"),
        ({"purchase_date": (NOW + timedelta(days=2)).date().isoformat()}, "#/purchase_date", "in the future"),
        ({"expected_by": iso(NOW - timedelta(hours=1))}, "#/expected_by", "has passed"),
        ({"sku": "SKU-NOPE", "order_no": None}, "#/sku", "unknown product"),
        ({"group_key": "west"}, "#/group_key", "unknown group"),
        ({"customer_no": "C-404", "order_no": None}, "#/customer_no", "unknown customer"),
    ],
)
async def test_business_rule_breaks_are_named_and_nothing_is_written(client, auth, desk, override, pointer, reason):
    response = await client.post("/v1/tickets", json=ticket_body(**override), headers=auth(Role.AGENT))

    problem = response.json()
    assert (response.status_code, problem["code"]) == (422, "invalid_ticket"), problem
    assert any(e["pointer"] == pointer and reason in e["detail"] for e in problem["errors"]), problem
    assert await _count_tickets(client, auth) == 0


async def test_a_customer_cannot_open_a_ticket_on_another_customers_order(client, auth, desk):
    response = await client.post(
        "/v1/tickets", json=ticket_body(customer_no=None, order_no="SO-C-2"), headers=auth(Role.CUSTOMER)
    )

    assert (response.status_code, response.json()["errors"][0]["pointer"]) == (422, "#/order_no")


async def test_a_customer_cannot_open_a_ticket_for_someone_else(client, auth, desk):
    response = await client.post("/v1/tickets", json=ticket_body(customer_no="C-2"), headers=auth(Role.CUSTOMER))

    assert (response.status_code, response.json()["errors"][0]["pointer"]) == (422, "#/customer_no")


async def test_staff_must_say_whose_ticket_it_is(client, auth, desk):
    response = await client.post("/v1/tickets", json=ticket_body(customer_no=None), headers=auth(Role.AGENT))

    assert (response.status_code, response.json()["errors"][0]["pointer"]) == (422, "#/customer_no")


async def test_the_customer_overview_lists_their_tickets(client, auth, desk):
    ticket = await open_ticket(client, auth)
    await open_ticket(client, auth, customer_no="C-2")

    overview = (await client.get("/v1/customers/C-1/overview", headers=auth(Role.CUSTOMER))).json()

    assert [t["number"] for t in overview["recent_tickets"]] == [ticket["number"]]
    assert overview["recent_tickets"][0]["status_label"] == "已受理"
    assert overview["more_tickets_cursor"] is None
