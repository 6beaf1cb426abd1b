"""Reference-data upserts announce themselves: `customer.upserted`, `product.upserted` and `order.upserted` reach
subscribed webhook endpoints with the record as GET shows it, once per change and never for a no-op, whether the
upsert came by PUT or by an inbound ERP/CRM event."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from standardwebhooks import Webhook

from app.domain.principal import Role
from bench.receiver import Receiver
from tests.conftest import client_for
from tests.factories import customer_body, order_body, product_body, put

CRM_SECRET = "whsec_" + base64.b64encode(b"crm-signing-key-for-reference-events-0123").decode()


@pytest.fixture
async def hooks(app_with) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An app whose webhooks may reach 127.0.0.1 and that takes signed CRM events, on the test's database."""
    app = app_with(webhook_allowed_hosts="127.0.0.1", inbound_secrets={"crm": CRM_SECRET})
    async with client_for(app) as http:
        yield app, http


async def _subscribe(http: httpx.AsyncClient, headers: dict[str, str], url: str, *event_types: str) -> dict[str, Any]:
    response = await http.post("/v1/webhook-endpoints", json={"url": url, "event_types": event_types}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def _delivered(app: FastAPI, receiver: Receiver, endpoint: dict[str, Any]) -> list[dict[str, Any]]:
    """Run the dispatcher once and return the verified bodies the endpoint received, oldest first."""
    await app.state.services.webhooks.dispatch()
    bodies = [Webhook(endpoint["secret"]).verify(r.body.decode(), r.headers) for r in receiver.received]
    return sorted(bodies, key=lambda body: body["sequence"])


async def _get(http: httpx.AsyncClient, headers: dict[str, str], path: str) -> dict[str, Any]:
    response = await http.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_customer_upserts_are_delivered_with_the_record_as_get_shows_it(hooks, auth):
    app, http = hooks
    crm = auth(Role.INTEGRATION)
    async with Receiver() as receiver:
        endpoint = await _subscribe(http, crm, receiver.url, "customer.*")
        await put(http, crm, "/v1/customers/C-9", customer_body())
        created = await _get(http, crm, "/v1/customers/C-9")
        await put(http, crm, "/v1/customers/C-9", customer_body(level="gold"))
        updated = await _get(http, crm, "/v1/customers/C-9")

        bodies = await _delivered(app, receiver, endpoint)

    assert [b["type"] for b in bodies] == ["customer.upserted", "customer.upserted"]
    assert [b["data"] for b in bodies] == [
        {"customer_no": "C-9", "version": 1, "change": "created", "customer": created},
        {"customer_no": "C-9", "version": 2, "change": "updated", "customer": updated},
    ]


async def test_product_upserts_are_delivered_with_the_record_as_get_shows_it(hooks, auth):
    app, http = hooks
    erp = auth(Role.INTEGRATION)
    async with Receiver() as receiver:
        endpoint = await _subscribe(http, erp, receiver.url, "product.upserted")
        await put(http, erp, "/v1/products/SKU-9", product_body())
        await put(http, erp, "/v1/products/SKU-9", product_body(warranty_months=36))
        updated = await _get(http, erp, "/v1/products/SKU-9")

        bodies = await _delivered(app, receiver, endpoint)

    assert [(b["type"], b["data"]["change"], b["data"]["version"]) for b in bodies] == [
        ("product.upserted", "created", 1),
        ("product.upserted", "updated", 2),
    ]
    assert bodies[1]["data"]["sku"] == "SKU-9"
    assert bodies[1]["data"]["product"] == updated


async def test_order_upserts_are_delivered_with_the_record_as_get_shows_it(hooks, auth):
    app, http = hooks
    erp = auth(Role.INTEGRATION)
    await put(http, erp, "/v1/products/SKU-1", product_body())
    await put(http, erp, "/v1/customers/C-1", customer_body())
    async with Receiver() as receiver:
        endpoint = await _subscribe(http, erp, receiver.url, "order.*")
        await put(http, erp, "/v1/orders/SO-9", order_body(fulfilment_status="shipped", signed_at=None))
        await put(http, erp, "/v1/orders/SO-9", order_body())
        signed = await _get(http, erp, "/v1/orders/SO-9")

        bodies = await _delivered(app, receiver, endpoint)

    assert [(b["type"], b["data"]["change"], b["data"]["version"]) for b in bodies] == [
        ("order.upserted", "created", 1),
        ("order.upserted", "updated", 2),
    ]
    assert bodies[0]["data"]["order"]["fulfilment_status"] == "shipped"
    assert bodies[1]["data"] == {"order_no": "SO-9", "version": 2, "change": "updated", "order": signed}


async def test_an_identical_re_upsert_announces_nothing(hooks, auth):
    app, http = hooks
    erp = auth(Role.INTEGRATION)
    records = [
        ("/v1/products/SKU-1", product_body()),
        ("/v1/customers/C-1", customer_body()),
        ("/v1/orders/SO-1", order_body()),
    ]
    async with Receiver() as receiver:
        endpoint = await _subscribe(http, erp, receiver.url, "*")
        for path, body in records:
            await put(http, erp, path, body)
        first = await _delivered(app, receiver, endpoint)
        receiver.received.clear()

        again = [await http.put(path, json=body, headers=erp) for path, body in records]
        repeated = await _delivered(app, receiver, endpoint)

    assert [b["type"] for b in first] == ["product.upserted", "customer.upserted", "order.upserted"]
    assert [(r.status_code, r.json()["version"]) for r in again] == [(200, 1)] * 3
    assert repeated == []


async def test_a_refused_upsert_announces_nothing(hooks, auth):
    app, http = hooks
    erp = auth(Role.INTEGRATION)
    await put(http, erp, "/v1/products/SKU-1", product_body())
    await put(http, erp, "/v1/customers/C-1", customer_body())
    await put(http, erp, "/v1/orders/SO-1", order_body())
    async with Receiver() as receiver:
        endpoint = await _subscribe(http, erp, receiver.url, "order.*", "customer.*")
        await _delivered(app, receiver, endpoint)  # the seeding's own events go out first
        receiver.received.clear()

        currency = await http.put("/v1/orders/SO-1", json=order_body(currency="USD"), headers=erp)
        stale = await http.put("/v1/customers/C-1", json=customer_body(name="X"), headers={**erp, "If-Match": '"7"'})
        bodies = await _delivered(app, receiver, endpoint)

    assert (currency.status_code, stale.status_code) == (409, 412)
    assert bodies == []


async def test_a_customer_upserted_by_a_crm_event_is_announced_like_a_put(hooks, auth):
    app, http = hooks
    crm = auth(Role.INTEGRATION)
    async with Receiver() as receiver:
        endpoint = await _subscribe(http, crm, receiver.url, "customer.*")
        content = json.dumps({"type": "customer.upserted", "data": {"customer_no": "C-77", **customer_body()}})
        msg_id = f"msg_{uuid.uuid4().hex}"
        now = datetime.now(UTC)
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(CRM_SECRET).sign(msg_id, now, content),
        }
        inbound = await http.post("/v1/inbound/crm", content=content, headers=headers)
        stored = await _get(http, crm, "/v1/customers/C-77")

        bodies = await _delivered(app, receiver, endpoint)

    assert inbound.status_code == 200, inbound.text
    assert [b["data"] for b in bodies] == [
        {"customer_no": "C-77", "version": 1, "change": "created", "customer": stored}
    ]


async def test_reference_event_types_are_listed_and_accepted_as_filters(hooks, auth):
    _, http = hooks
    admin = auth(Role.ADMIN)

    listed = await _get(http, admin, "/v1/webhook-event-types")
    families = await http.post(
        "/v1/webhook-endpoints",
        json={"url": "http://127.0.0.1:9/hooks", "event_types": ["customer.*", "product.*", "order.upserted"]},
        headers=admin,
    )

    assert {"customer.upserted", "product.upserted", "order.upserted"} <= set(listed)
    assert families.status_code == 201, families.text
    assert families.json()["event_types"] == ["customer.*", "product.*", "order.upserted"]
