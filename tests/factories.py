"""Request bodies and seeding through the public API, so tests arrange exactly as callers do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from app.domain.principal import Role

NOW = datetime.now(UTC)


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def customer_body(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "张伟",
        "phone": "+86 138 0013 8000",
        "level": "vip",
        "region": "CN-31",
        "contact_channels": [{"kind": "wechat", "value": "zw88", "preferred": True}],
        **overrides,
    }


def product_body(**overrides: Any) -> dict[str, Any]:
    return {"name": "Air purifier X3", "model": "AP-X3", "warranty_months": 24, "product_line": "home", **overrides}


def order_body(customer_no: str = "C-1", **overrides: Any) -> dict[str, Any]:
    """A paid order for two SKU-1 at 100.00 plus 10.00 shipping, signed for a day ago."""
    placed = NOW - timedelta(days=3)
    return {
        "customer_no": customer_no,
        "currency": "CNY",
        "lines": [{"sku": "SKU-1", "quantity": 2, "unit_price": 10000}],
        "shipping_fee": 1000,
        "discount_amount": 0,
        "paid_amount": 21000,
        "payment_status": "paid",
        "fulfilment_status": "signed",
        "paid_at": iso(placed + timedelta(minutes=1)),
        "picking_at": iso(placed + timedelta(hours=1)),
        "picked_at": iso(placed + timedelta(hours=2)),
        "shipped_at": iso(placed + timedelta(days=1)),
        "signed_at": iso(placed + timedelta(days=2)),
        "shipping_region": "CN-31",
        "placed_at": iso(placed),
        **overrides,
    }


def contract_body(customer_no: str = "C-1", **overrides: Any) -> dict[str, Any]:
    return {
        "customer_no": customer_no,
        "skus": ["SKU-1"],
        "starts_on": "2026-01-01",
        "ends_on": "2027-12-31",
        "sla_level": "premium",
        **overrides,
    }


async def put(client: httpx.AsyncClient, headers: dict[str, str], path: str, body: dict[str, Any]) -> httpx.Response:
    response = await client.put(path, json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    return response


async def seed_reference_data(
    client: httpx.AsyncClient, auth: Any, customers: tuple[str, ...] = ("C-1", "C-2")
) -> None:
    """Product SKU-1, the given customers, and one order `SO-<customer_no>` each."""
    admin = auth(Role.INTEGRATION)
    await put(client, admin, "/v1/products/SKU-1", product_body())
    for customer_no in customers:
        await put(client, admin, f"/v1/customers/{customer_no}", customer_body(name=f"Customer {customer_no}"))
        await put(client, admin, f"/v1/orders/SO-{customer_no}", order_body(customer_no))


def agent_body(**overrides: Any) -> dict[str, Any]:
    return {"name": "王工", "roles": ["agent"], "groups": ["east"], "active": True, **overrides}


def ticket_body(customer_no: str | None = "C-1", **overrides: Any) -> dict[str, Any]:
    """A repair request about SKU-1 on the customer's order SO-<customer_no>."""
    body = {
        "customer_no": customer_no,
        "channel": "app",
        "type": "repair",
        "title": "净化器异响",
        "description": "开机后有明显异响，持续两天。",
        "order_no": f"SO-{customer_no or 'C-1'}",
        "sku": "SKU-1",
        "tags": ["noise"],
        **overrides,
    }
    return {k: v for k, v in body.items() if v is not None}


async def seed_service_desk(client: httpx.AsyncClient, auth: Any) -> None:
    """Reference data, group `east`, and registered agents agent-1, agent-2 (group east) and manager-1."""
    await seed_reference_data(client, auth)
    admin = auth(Role.ADMIN)
    await put(client, admin, "/v1/groups/east", {"name": "华东维修组"})
    await put(client, admin, "/v1/agents/agent-1", agent_body(supervisor="manager-1"))
    await put(client, admin, "/v1/agents/agent-2", agent_body(name="李工"))
    await put(client, admin, "/v1/agents/manager-1", agent_body(name="刘经理", roles=["manager"]))


async def open_ticket(client: httpx.AsyncClient, auth: Any, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/v1/tickets", json=ticket_body(**overrides), headers=auth(Role.AGENT))
    assert response.status_code == 201, response.text
    return response.json()


async def act(
    client: httpx.AsyncClient, headers: dict[str, str], ticket: dict[str, Any], action: str, **body: Any
) -> httpx.Response:
    return await client.post(f"/v1/tickets/{ticket['id']}/actions/{action}", json=body, headers=headers)


async def seed_shop(client: httpx.AsyncClient, auth: Any) -> None:
    """Reference data (C-1 and C-2 with signed orders SO-C-1 / SO-C-2), and SO-UNPICKED of C-1: paid 210.00 but
    not yet picked, so it may still be refunded whole."""
    await seed_reference_data(client, auth)
    await put(client, auth(Role.INTEGRATION), "/v1/orders/SO-UNPICKED", unpicked_order_body())


def unpicked_order_body(customer_no: str = "C-1") -> dict[str, Any]:
    """An order paid two hours ago and not yet picked: it may still be refunded whole."""
    placed = NOW - timedelta(hours=2)
    return order_body(
        customer_no,
        fulfilment_status="paid",
        placed_at=iso(placed),
        paid_at=iso(placed + timedelta(minutes=1)),
        picking_at=None,
        picked_at=None,
        shipped_at=None,
        signed_at=None,
    )


PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x02\x00\x00\x00"
PDF_BYTES = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"


def png(seed: int = 0) -> bytes:
    """A small PNG whose bytes (and so digest) differ by `seed`."""
    return PNG_HEADER + seed.to_bytes(8, "big") + b"\x00" * 512


async def upload_file(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    name: str = "photo.png",
    data: bytes | None = None,
    content_type: str = "image/png",
    purpose: str = "evidence",
    customer_no: str | None = None,
) -> str:
    """Upload through POST /v1/attachments as a caller would (a small PNG unless `data` says otherwise) and answer the
    attachment's id; staff name the customer it is for."""
    fields = {"purpose": purpose, **({"customer_no": customer_no} if customer_no else {})}
    files = {"file": (name, png() if data is None else data, content_type)}
    response = await client.post("/v1/attachments", data=fields, files=files, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def run_scans(app: Any) -> int:
    """The scan pass, as the worker runs it (with no scanner configured every file comes out clean)."""
    scanned = 0
    while found := await app.state.services.attachments.scan():
        scanned += found
    return scanned


def auto_review_body(types: tuple[str, ...] = ("refund",), max_amount: int | None = None) -> dict[str, Any]:
    """极速审核 settings that approve every order of `types` up to `max_amount` (None: any), with no other condition."""
    return {
        "enabled": True,
        "types": list(types),
        "max_amount": max_amount,
        "only_before_shipping": False,
        "customer_levels": [],
        "max_recent_after_sales": None,
        "lightning_refund_levels": [],
    }
