"""What the benchmark sends: the reference data it seeds, its token, and one request builder per scenario."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from app.domain.principal import Role
from app.services.tokens import TokenCodec, TokenPolicy
from bench.load import Send

CUSTOMER_NO = "C-BENCH"
SKU = "SKU-BENCH"
ORDER_NO = "SO-BENCH-TICKETS"


def bearer_headers(secret: str, subject: str = "bench", role: Role = Role.INTEGRATION) -> dict[str, str]:
    """By default an integration caller (an ERP, an IM bot): it may upsert and read orders and take in tickets."""
    codec = TokenCodec(TokenPolicy(secret=secret, issuer="aftersales", audience="aftersales-api"))
    token = codec.issue(subject=subject, roles=[role], now=datetime.now(UTC), ttl=timedelta(hours=1))
    return {"authorization": f"Bearer {token}"}


async def seed_reference_data(client: httpx.AsyncClient, service_url: str, headers: dict[str, str]) -> None:
    """The product and customer every benchmark order names, and the order every benchmark ticket names."""
    product = {"name": "Air purifier X3", "model": "AP-X3", "warranty_months": 24, "product_line": "home"}
    customer = {
        "name": "Bench customer",
        "phone": "+86 138 0013 8000",
        "level": "vip",
        "region": "CN-31",
        "contact_channels": [{"kind": "wechat", "value": "bench", "preferred": True}],
    }
    seeds = (
        (f"/v1/products/{SKU}", product),
        (f"/v1/customers/{CUSTOMER_NO}", customer),
        (f"/v1/orders/{ORDER_NO}", _order_body()),
    )
    for path, body in seeds:
        response = await client.put(f"{service_url}{path}", json=body, headers=headers)
        if not response.is_success:
            raise RuntimeError(f"seeding {path} answered {response.status_code}: {response.text}")


def upsert_orders(
    client: httpx.AsyncClient, service_url: str, headers: dict[str, str], prefix: str, created: list[str]
) -> Send:
    """PUT a fresh order_no per request (the create path); each order created is appended to `created`."""
    body = json.dumps(_order_body()).encode()  # encoded once: the load generator shares the CPU with the servers
    put_headers = {**headers, "content-type": "application/json"}

    async def send(index: int) -> httpx.Response:
        order_no = f"{prefix}-{index:07d}"
        response = await client.put(f"{service_url}/v1/orders/{order_no}", content=body, headers=put_headers)
        if response.is_success:
            created.append(order_no)
        return response

    return send


def read_orders(client: httpx.AsyncClient, orders_url: str, order_nos: list[str], headers: dict[str, str]) -> Send:
    """GET existing orders round-robin, from the service or the baseline alike."""

    async def send(index: int) -> httpx.Response:
        return await client.get(f"{orders_url}/{order_nos[index % len(order_nos)]}", headers=headers)

    return send


def _order_body() -> dict[str, Any]:
    """A paid, signed order of two units at 100.00 plus 10.00 shipping."""
    placed = datetime.now(UTC) - timedelta(days=3)

    def at(offset: timedelta) -> str:
        return (placed + offset).isoformat().replace("+00:00", "Z")

    return {
        "customer_no": CUSTOMER_NO,
        "currency": "CNY",
        "lines": [{"sku": SKU, "quantity": 2, "unit_price": 10000}],
        "shipping_fee": 1000,
        "discount_amount": 0,
        "paid_amount": 21000,
        "payment_status": "paid",
        "fulfilment_status": "signed",
        "paid_at": at(timedelta(minutes=1)),
        "picking_at": at(timedelta(hours=1)),
        "picked_at": at(timedelta(hours=2)),
        "shipped_at": at(timedelta(days=1)),
        "signed_at": at(timedelta(days=2)),
        "shipping_region": "CN-31",
        "placed_at": at(timedelta()),
    }
