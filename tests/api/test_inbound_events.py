"""Signed inbound events (POST /v1/inbound/{source}): verified as Standard Webhooks, kept once per webhook-id, carried
out as the after-sales actions and reference-data upserts an API caller would run, and open to inspection."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import structlog
from sqlalchemy import func, select
from standardwebhooks import Webhook

from app.domain.principal import Role
from app.persistence.tables import inbound_events, outbox
from tests.conftest import client_for
from tests.factories import auto_review_body, customer_body, order_body, seed_shop

SOURCES = ("payment_centre", "wms", "erp", "crm")
SECRETS = {
    source: "whsec_" + base64.b64encode(f"{source}-signing-key-for-tests-0123456789".encode()).decode()
    for source in SOURCES
}
AUTO_REVIEW = auto_review_body(max_amount=50000)


@pytest.fixture
async def inbound(app, app_with) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app (same database as `app`, emptied after the test) with a signing secret per source."""
    async with client_for(app_with(inbound_secrets=SECRETS)) as http:
        yield http


@pytest.fixture
async def shop(client, auth):
    """C-1 and C-2 with signed orders SO-C-1 / SO-C-2, and SO-UNPICKED (C-1), paid 210.00 but not yet picked."""
    await seed_shop(client, auth)


def signed(
    source: str,
    body: Any,
    *,
    webhook_id: str | None = None,
    at: datetime | None = None,
    secret: str | None = None,
) -> tuple[bytes, dict[str, str]]:
    """The body as bytes and the Standard Webhooks headers that sign it."""
    content = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    msg_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    at = at or datetime.now(UTC)
    signature = Webhook(secret or SECRETS[source]).sign(msg_id, at, content.decode())
    headers = {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }
    return content, headers


async def send(
    http: httpx.AsyncClient, source: str, type_: str, data: dict[str, Any], **signing: Any
) -> httpx.Response:
    content, headers = signed(source, {"type": type_, "data": data}, **signing)
    return await http.post(f"/v1/inbound/{source}", content=content, headers=headers)


async def _stored(app) -> list[dict[str, Any]]:
    async with app.state.services.database.engine.connect() as conn:
        rows = (await conn.execute(select(inbound_events).order_by(inbound_events.c.id))).mappings().all()
    return [dict(row) for row in rows]


async def _outbox_count(app) -> int:
    async with app.state.services.database.engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(outbox))).scalar_one()


async def _after_sales(client, auth, ref: str) -> dict[str, Any]:
    response = await client.get(f"/v1/after-sales/{ref}", headers=auth(Role.AGENT))
    assert response.status_code == 200, response.text
    return response.json()


async def _create_refund(client, auth, *, auto_review: bool) -> dict[str, Any]:
    if auto_review:
        rules = await client.put("/v1/settings/auto-review", json=AUTO_REVIEW, headers=auth(Role.MANAGER))
        assert rules.status_code == 200, rules.text
    response = await client.post(
        "/v1/after-sales",
        json={"order_no": "SO-UNPICKED", "type": "refund", "reason_code": "changed_mind"},
        headers=auth(Role.CUSTOMER),
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _refundable(client, auth, order_no: str = "SO-UNPICKED") -> int:
    response = await client.get(f"/v1/orders/{order_no}/eligibility", headers=auth(Role.AGENT))
    return response.json()["refundable_amount"]


# ---- the payment centre ----------------------------------------------------------------------------------------


async def test_payment_succeeded_refunds_and_a_replay_does_nothing(app, client, auth, shop, inbound):
    refund = await _create_refund(client, auth, auto_review=True)
    assert refund["status"] == "refunding"
    accepted = await send(inbound, "payment_centre", "payment.accepted", {"after_sales": refund["number"]})
    data = {"after_sales": refund["id"], "reference": "PAY-1"}
    first = await send(inbound, "payment_centre", "payment.succeeded", data, webhook_id="msg_paid_1")
    after_first = await _after_sales(client, auth, refund["id"])
    outbox_after_first = await _outbox_count(app)

    replay = await send(inbound, "payment_centre", "payment.succeeded", data, webhook_id="msg_paid_1")
    repeat = await send(inbound, "payment_centre", "payment.succeeded", data, webhook_id="msg_paid_2")

    assert (accepted.status_code, accepted.json()["status"]) == (200, "processed")
    assert (first.status_code, first.json()["status"]) == (200, "processed")
    assert first.json()["event"]["detail"] == f"payment_succeeded: {refund['number']} is refunded"
    assert (after_first["status"], after_first["payment_reference"]) == ("refunded", "PAY-1")
    assert (replay.status_code, replay.json()["status"]) == (200, "duplicate")
    assert replay.json()["id"] == first.json()["id"]
    assert replay.json()["event"] == first.json()["event"]
    assert (repeat.status_code, repeat.json()["status"]) == (200, "processed")  # the workflow's idempotent repeat
    after_all = await _after_sales(client, auth, refund["id"])
    assert after_all["version"] == after_first["version"]
    assert await _outbox_count(app) == outbox_after_first
    assert await _refundable(client, auth) == 0  # refunded once: 210.00, not twice
    history = await client.get(f"/v1/after-sales/{refund['id']}/timeline", headers=auth(Role.AGENT))
    steps = [(e["action"], e["actor"]) for e in history.json()["items"] if e["kind"] == "action"]
    assert steps[-2:] == [
        ("payment_accepted", "inbound:payment_centre"),
        ("payment_succeeded", "inbound:payment_centre"),
    ]
    assert [row["status"] for row in await _stored(app)] == ["processed", "processed", "processed"]


@pytest.mark.postgres_only
async def test_the_same_event_delivered_twice_at_once_moves_the_money_once(app, client, auth, shop, inbound):
    refund = await _create_refund(client, auth, auto_review=True)
    content, headers = signed("payment_centre", {"type": "payment.succeeded", "data": {"after_sales": refund["id"]}})

    answers = await asyncio.gather(
        *(inbound.post("/v1/inbound/payment_centre", content=content, headers=headers) for _ in range(4))
    )

    codes = sorted(a.status_code for a in answers)
    assert set(codes) <= {200, 409} and 200 in codes, [a.text for a in answers]
    assert all(a.json()["code"] in ("concurrent_modification", "duplicate") for a in answers if a.status_code == 409)
    assert (await _after_sales(client, auth, refund["id"]))["status"] == "refunded"
    assert await _refundable(client, auth) == 0
    assert [row["status"] for row in await _stored(app)] == ["processed"]


async def test_a_failing_event_is_kept_failed_and_processed_when_delivered_again(app, client, auth, shop, inbound):
    refund = await _create_refund(client, auth, auto_review=False)
    data = {"after_sales": refund["number"], "reference": "PAY-7"}

    early = await send(inbound, "payment_centre", "payment.succeeded", data, webhook_id="msg_early")
    kept = await _stored(app)
    approved = await client.post(
        f"/v1/after-sales/{refund['id']}/actions/approve", json={}, headers=auth(Role.REVIEWER)
    )
    assert approved.json()["status"] == "refunding", approved.text
    retried = await send(inbound, "payment_centre", "payment.succeeded", data, webhook_id="msg_early")

    assert early.status_code == 409
    assert (early.json()["code"], early.json()["current_state"]) == ("action_not_allowed", "under_review")
    assert early.json()["inbound_event_id"] == str(kept[0]["id"])
    assert (kept[0]["status"], kept[0]["processed_at"] is not None) == ("failed", True)
    assert kept[0]["detail"].startswith("action_not_allowed: ")
    assert (retried.status_code, retried.json()["status"], retried.json()["id"]) == (
        200,
        "processed",
        early.json()["inbound_event_id"],
    )
    assert (await _after_sales(client, auth, refund["id"]))["status"] == "refunded"
    assert [row["status"] for row in await _stored(app)] == ["processed"]


async def test_an_event_for_an_unknown_after_sales_order_fails_with_404(app, inbound, shop):
    response = await send(inbound, "payment_centre", "payment.failed", {"after_sales": "AS-2026-999999", "reason": "x"})

    assert (response.status_code, response.json()["code"]) == (404, "after_sales_not_found")
    assert (await _stored(app))[0]["status"] == "failed"


async def test_bad_event_data_names_the_field_under_data(app, inbound, shop):
    missing = await send(inbound, "payment_centre", "payment.failed", {"after_sales": "AS-2026-000001", "extra": 1})
    unnamed = await send(inbound, "payment_centre", "payment.succeeded", {"reference": "PAY-1"})

    assert missing.status_code == 422
    assert {e["pointer"] for e in missing.json()["errors"]} == {"#/data/extra"}
    assert (unnamed.status_code, unnamed.json()["errors"][0]["pointer"]) == (422, "#/data/after_sales")
    assert [row["status"] for row in await _stored(app)] == ["failed", "failed"]


# ---- the WMS / logistics system --------------------------------------------------------------------------------


async def test_the_wms_reports_a_return_shipped_by_the_customer_and_received(client, auth, shop, inbound):
    created = await client.post(
        "/v1/after-sales",
        json={
            "order_no": "SO-C-1",
            "type": "return_refund",
            "reason_code": "changed_mind",
            "lines": [{"sku": "SKU-1", "quantity": 1}],
        },
        headers=auth(Role.CUSTOMER),
    )
    ref = created.json()["number"]
    await client.post(f"/v1/after-sales/{ref}/actions/approve", json={}, headers=auth(Role.REVIEWER))

    shipped = await send(inbound, "wms", "return.shipped", {"after_sales": ref, "carrier": "SF", "tracking_no": "SF1"})
    received = await send(inbound, "wms", "return.received", {"after_sales": ref, "carrier": "SF"})

    assert (shipped.status_code, received.status_code) == (200, 200), (shipped.text, received.text)
    order = await _after_sales(client, auth, ref)
    assert order["status"] == "received"
    assert order["return_shipment"] == {"carrier": "SF", "tracking_no": "SF1"}


# ---- the ERP and the CRM ---------------------------------------------------------------------------------------


async def test_order_upserted_creates_the_order_as_put_would(client, auth, shop, inbound):
    body = order_body("C-2")
    by_event = await send(inbound, "erp", "order.upserted", {"order_no": "SO-EVENT", **body})
    by_put = await client.put("/v1/orders/SO-PUT", json=body, headers=auth(Role.INTEGRATION))

    assert (by_event.status_code, by_event.json()["event"]["detail"]) == (200, "order SO-EVENT created")
    from_event = (await client.get("/v1/orders/SO-EVENT", headers=auth(Role.AGENT))).json()
    from_put = by_put.json()
    different = {"id", "order_no", "created_at", "updated_at"}
    assert {k: v for k, v in from_event.items() if k not in different} == {
        k: v for k, v in from_put.items() if k not in different
    }
    again = await send(inbound, "erp", "order.upserted", {"order_no": "SO-EVENT", **body})
    assert again.json()["event"]["detail"] == "order SO-EVENT saved at version 1"


@pytest.mark.parametrize(
    "lines",
    [
        [{"sku": "SKU-1", "quantity": 0, "unit_price": -5, "colour": "red"}],  # refused by the schema
        [{"sku": "NO-SUCH-SKU", "quantity": 1, "unit_price": 1000}],  # refused by the order rules
    ],
)
async def test_order_upserted_with_bad_lines_gets_the_puts_field_errors(app, client, auth, shop, inbound, lines):
    body = order_body("C-1", lines=lines, paid_amount=2000, shipping_fee=1000)

    by_event = await send(inbound, "erp", "order.upserted", {"order_no": "SO-BAD", **body})
    by_put = await client.put("/v1/orders/SO-BAD", json=body, headers=auth(Role.INTEGRATION))

    assert (by_event.status_code, by_put.status_code) == (422, 422)
    event_errors = sorted((e["pointer"], e["detail"]) for e in by_event.json()["errors"])
    put_errors = sorted((e["pointer"].replace("#/", "#/data/", 1), e["detail"]) for e in by_put.json()["errors"])
    assert event_errors == put_errors
    stored = (await _stored(app))[0]
    assert stored["status"] == "failed" and "/data/lines/0/" in stored["detail"]
    assert (await client.get("/v1/orders/SO-BAD", headers=auth(Role.AGENT))).status_code == 404


async def test_customer_upserted_from_the_crm_saves_the_customer(client, auth, inbound):
    response = await send(inbound, "crm", "customer.upserted", {"customer_no": "C-77", **customer_body(name="李雷")})

    assert (response.status_code, response.json()["event"]["detail"]) == (200, "customer C-77 created")
    customer = (await client.get("/v1/customers/C-77", headers=auth(Role.AGENT))).json()
    assert (customer["name"], customer["level"]) == ("李雷", "vip")


# ---- what is not processed -------------------------------------------------------------------------------------


async def test_an_unknown_type_is_kept_for_inspection(app, client, auth, inbound):
    first = await send(inbound, "erp", "invoice.issued", {"invoice_no": "INV-1"}, webhook_id="msg_inv")
    replay = await send(inbound, "erp", "invoice.issued", {"invoice_no": "INV-1"}, webhook_id="msg_inv")
    foreign = await send(inbound, "wms", "payment.succeeded", {"after_sales": "AS-2026-000001"})

    assert (first.status_code, first.json()["status"], first.json()["event"]["status"]) == (202, "unknown", "unknown")
    assert (replay.status_code, replay.json()["status"], replay.json()["id"]) == (200, "duplicate", first.json()["id"])
    assert (foreign.status_code, foreign.json()["event"]["detail"]) == (
        202,
        "'payment.succeeded' is not an event type the wms source sends",
    )
    shown = await client.get(f"/v1/inbound-events/{first.json()['id']}", headers=auth(Role.ADMIN))
    assert shown.json()["payload"] == {"type": "invoice.issued", "data": {"invoice_no": "INV-1"}}
    assert (shown.json()["source"], shown.json()["webhook_id"]) == ("erp", "msg_inv")
    assert len(await _stored(app)) == 2


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        (b'{"type": "payment.succeeded", "data": {', "#"),
        (b"[1, 2]", "#"),
        (b'{"data": {}}', "#/type"),
        (b'{"type": 7, "data": {}}', "#/type"),
        (b'{"type": "payment.succeeded"}', "#/data"),
        (b'{"type": "payment.succeeded", "data": []}', "#/data"),
        (b'{"type": "payment.succeeded", "data": {"reason": "a\\u0000b"}}', "#/data"),
        (b'{"type": "x", "data": {}, "extra": true}', "#/extra"),
        (b'{"type": "' + b"t" * 65 + b'", "data": {}}', "#/type"),
        (b'{"type": "a", "data": {"n": 1e400}}', "#"),
        (b"[" * 2000 + b"]" * 2000, "#"),
    ],
)
async def test_a_body_without_type_and_data_is_refused_and_not_stored(app, inbound, body, pointer):
    content, headers = signed("payment_centre", body)

    response = await inbound.post("/v1/inbound/payment_centre", content=content, headers=headers)

    assert (response.status_code, response.json()["code"]) == (422, "validation_failed")
    assert pointer in {e["pointer"] for e in response.json()["errors"]}
    assert await _stored(app) == []


# ---- verification ----------------------------------------------------------------------------------------------


def _tampered(headers: dict[str, str], **changes: str | None) -> dict[str, str]:
    changed = {**headers, **changes}
    return {k: v for k, v in changed.items() if v is not None}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"webhook-id": None, "webhook-timestamp": None, "webhook-signature": None}, "invalid_signature"),
        ({"webhook-signature": None}, "invalid_signature"),
        ({"webhook-id": None}, "invalid_signature"),
        ({"webhook-id": "msg_other"}, "invalid_signature"),
        ({"webhook-signature": "v1,AAAA"}, "invalid_signature"),
        ({"webhook-signature": "v1"}, "invalid_signature"),
        ({"webhook-signature": "v1,,,"}, "invalid_signature"),
        ({"webhook-signature": "v1,!!!not-base64!!!"}, "invalid_signature"),
        ({"webhook-signature": "v1,abc"}, "invalid_signature"),
        ({"webhook-signature": "garbage without commas"}, "invalid_signature"),
        ({"webhook-signature": "v1a,xyz v2,abc"}, "invalid_signature"),
        ({"webhook-timestamp": "soon"}, "invalid_signature"),
        ({"webhook-timestamp": "1.7e9"}, "invalid_signature"),
        ({"webhook-timestamp": "-1"}, "invalid_signature"),
        ({"webhook-timestamp": "99999999999999999999"}, "invalid_signature"),
        ({"webhook-id": "x" * 129}, "invalid_signature"),
    ],
)
async def test_a_request_not_signed_right_is_refused_and_not_stored(app, inbound, change, code):
    content, headers = signed("payment_centre", {"type": "payment.succeeded", "data": {"after_sales": "AS-1"}})

    response = await inbound.post("/v1/inbound/payment_centre", content=content, headers=_tampered(headers, **change))

    assert (response.status_code, response.json()["code"]) == (401, code), response.text
    assert response.headers["www-authenticate"].startswith("Signature")  # a bearer token would not help here
    assert await _stored(app) == []


async def test_another_secret_a_changed_body_or_a_non_utf8_body_is_refused(app, inbound):
    body = {"type": "payment.succeeded", "data": {"after_sales": "AS-1"}}
    content, by_wms = signed("payment_centre", body, secret=SECRETS["wms"])
    _, headers = signed("payment_centre", body)
    binary, binary_headers = b'{"type": "\xff"}', signed("payment_centre", b"{}")[1]

    wrong_secret = await inbound.post("/v1/inbound/payment_centre", content=content, headers=by_wms)
    changed = await inbound.post("/v1/inbound/payment_centre", content=content + b" ", headers=headers)
    not_utf8 = await inbound.post("/v1/inbound/payment_centre", content=binary, headers=binary_headers)

    for response in (wrong_secret, changed, not_utf8):
        assert (response.status_code, response.json()["code"]) == (401, "invalid_signature")
    assert await _stored(app) == []


async def test_one_matching_signature_among_several_is_enough(app, inbound):
    content, headers = signed("crm", {"type": "note.added", "data": {}})
    headers["webhook-signature"] = f"v1,bm90LXRoaXMtb25l v2,zzz {headers['webhook-signature']}"

    response = await inbound.post("/v1/inbound/crm", content=content, headers=headers)

    assert response.status_code == 202, response.text


@pytest.mark.parametrize("skew", [timedelta(minutes=-6), timedelta(minutes=6), timedelta(days=-400)])
async def test_a_stale_or_future_timestamp_is_refused(app, inbound, skew):
    content, headers = signed("erp", {"type": "x", "data": {}}, at=datetime.now(UTC) + skew)

    response = await inbound.post("/v1/inbound/erp", content=content, headers=headers)

    assert (response.status_code, response.json()["code"]) == (401, "stale_timestamp")
    assert await _stored(app) == []


async def test_a_timestamp_within_five_minutes_is_accepted(inbound):
    content, headers = signed("erp", {"type": "x", "data": {}}, at=datetime.now(UTC) - timedelta(minutes=4))

    response = await inbound.post("/v1/inbound/erp", content=content, headers=headers)

    assert response.status_code == 202


async def test_an_unknown_or_unconfigured_source_is_404(app, client, inbound):
    content, headers = signed("erp", {"type": "x", "data": {}})

    unknown = await inbound.post("/v1/inbound/logistics", content=content, headers=headers)
    unconfigured = await client.post("/v1/inbound/erp", content=content, headers=headers)  # the app has no secrets

    for response in (unknown, unconfigured):
        assert (response.status_code, response.json()["code"]) == (404, "inbound_source_not_found")
    assert await _stored(app) == []


async def test_a_body_over_the_cap_is_413(app, app_with):
    content, headers = signed("erp", {"type": "x", "data": {"blob": "x" * 4096}})

    async with client_for(app_with(inbound_secrets=SECRETS, max_body_bytes=2048)) as small:
        response = await small.post("/v1/inbound/erp", content=content, headers=headers)

    assert (response.status_code, response.json()["code"]) == (413, "payload_too_large")
    assert await _stored(app) == []


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Every log line rendered while the test runs: structlog's (its loggers are cached, so the configured renderer
    is wrapped in place) and the standard library's."""
    processors = structlog.get_config()["processors"]
    renderer = processors[-1]
    lines: list[str] = []

    def capturing(logger: Any, method: str, event: dict[str, Any]) -> Any:
        rendered = renderer(logger, method, event)
        lines.append(rendered if isinstance(rendered, str) else repr(rendered))
        return rendered

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect()
    root = logging.getLogger()
    processors[-1] = capturing
    root.addHandler(handler)
    try:
        yield lines
    finally:
        processors[-1] = renderer
        root.removeHandler(handler)


async def test_the_secrets_never_appear_in_logs_or_answers(app, client, auth, shop, log_lines, app_with):
    async with client_for(app_with(inbound_secrets=SECRETS)) as inbound:
        answers = [
            await send(inbound, "payment_centre", "payment.succeeded", {"after_sales": "AS-2026-000001"}),
            await send(inbound, "erp", "order.upserted", {"order_no": "SO-LOG", **order_body()}),
            await send(inbound, "wms", "anything.else", {}),
            await send(inbound, "crm", "x", {}, secret=SECRETS["erp"]),
            await send(inbound, "crm", "x", {}, at=datetime.now(UTC) - timedelta(hours=1)),
        ]
        answers.append(await inbound.get("/v1/inbound-events", headers=auth(Role.ADMIN)))

    assert [a.status_code for a in answers] == [404, 200, 202, 401, 401, 200]
    assert any('"/v1/inbound/erp"' in line for line in log_lines), log_lines
    for secret in SECRETS.values():
        key = secret.removeprefix("whsec_")
        for text in [*log_lines, *(a.text for a in answers)]:
            assert key not in text and key[:16] not in text


# ---- inspection ------------------------------------------------------------------------------------------------


async def test_inbound_events_are_listed_by_filter_and_page(client, auth, inbound, shop):
    await send(inbound, "erp", "order.upserted", {"order_no": "SO-L1", **order_body()})
    await send(inbound, "crm", "customer.upserted", {"customer_no": "C-L1", **customer_body()})
    await send(inbound, "erp", "invoice.issued", {})
    await send(inbound, "payment_centre", "payment.succeeded", {"after_sales": "AS-2026-999999"})
    admin = auth(Role.ADMIN)

    async def listed(**params: Any) -> dict[str, Any]:
        response = await client.get("/v1/inbound-events", params=params, headers=admin)
        assert response.status_code == 200, response.text
        return response.json()

    first = await listed(limit=3)
    second = await listed(limit=3, cursor=first["next_cursor"])
    by_source = await listed(source="erp")
    by_status = await listed(status="failed")
    by_type = await listed(type="customer.upserted")
    integration = await client.get("/v1/inbound-events", headers=auth(Role.INTEGRATION))

    types = [e["type"] for e in first["items"] + second["items"]]
    assert types == ["payment.succeeded", "invoice.issued", "customer.upserted", "order.upserted"]
    assert second["next_cursor"] is None
    assert [e["type"] for e in by_source["items"]] == ["invoice.issued", "order.upserted"]
    assert [(e["type"], e["status"]) for e in by_status["items"]] == [("payment.succeeded", "failed")]
    assert [e["source"] for e in by_type["items"]] == ["crm"]
    assert integration.status_code == 200 and "payload" not in integration.json()["items"][0]


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.AGENT, Role.REVIEWER, Role.MANAGER])
async def test_only_admins_and_integrations_inspect_inbound_events(client, auth, role):
    listing = await client.get("/v1/inbound-events", headers=auth(role))
    one = await client.get(f"/v1/inbound-events/{uuid.uuid4()}", headers=auth(role))

    assert (listing.status_code, one.status_code) == (403, 403)


async def test_inspection_refuses_bad_filters_and_unknown_ids(client, auth):
    admin = auth(Role.ADMIN)

    bad_status = await client.get("/v1/inbound-events?status=lost", headers=admin)
    bad_source = await client.get("/v1/inbound-events?source=bank", headers=admin)
    missing = await client.get(f"/v1/inbound-events/{uuid.uuid4()}", headers=admin)

    assert (bad_status.status_code, bad_status.json()["errors"][0]["parameter"]) == (422, "status")
    assert bad_source.status_code == 422
    assert (missing.status_code, missing.json()["code"]) == (404, "inbound_event_not_found")


# ---- steps out of order: one already passed is answered 200 and changes nothing; a contradiction conflicts ----


async def test_payment_accepted_after_payment_succeeded_is_a_step_already_passed(app, client, auth, shop, inbound):
    refund = await _create_refund(client, auth, auto_review=True)
    await send(inbound, "payment_centre", "payment.succeeded", {"after_sales": refund["number"]})
    paid = await _after_sales(client, auth, refund["id"])

    late = await send(inbound, "payment_centre", "payment.accepted", {"after_sales": refund["number"]})

    assert (late.status_code, late.json()["status"]) == (200, "processed"), late.text
    assert "had already passed this step" in late.json()["event"]["detail"]
    assert (await _after_sales(client, auth, refund["id"]))["version"] == paid["version"]


async def test_a_failure_after_success_contradicts_the_order_and_conflicts(app, client, auth, shop, inbound):
    refund = await _create_refund(client, auth, auto_review=True)
    await send(inbound, "payment_centre", "payment.succeeded", {"after_sales": refund["number"]})

    contradiction = await send(
        inbound, "payment_centre", "payment.failed", {"after_sales": refund["number"], "reason": "bank refused"}
    )

    assert contradiction.status_code == 409
    assert contradiction.json()["current_state"] == "refunded"
    assert [row["status"] for row in await _stored(app)][-1] == "failed"


async def test_an_out_of_order_warehouse_step_is_answered_like_a_repeat(client, auth, shop):
    lines = [{"sku": "SKU-1", "quantity": 1}]
    created = await client.post(
        "/v1/after-sales",
        json={"order_no": "SO-C-1", "type": "exchange", "reason_code": "changed_mind", "lines": lines},
        headers=auth(Role.CUSTOMER),
    )
    order = created.json()
    wms = auth(Role.INTEGRATION, sub="wms")
    await client.post(f"/v1/after-sales/{order['id']}/actions/approve", json={}, headers=auth(Role.REVIEWER))
    for step in ("picked_up", "shipped"):
        assert (await client.post(f"/v1/after-sales/{order['id']}/actions/{step}", json={}, headers=wms)).is_success

    late = await client.post(f"/v1/after-sales/{order['id']}/actions/picking_started", json={}, headers=wms)

    assert late.status_code == 200, late.text
    assert late.json()["status"] == "shipping"
