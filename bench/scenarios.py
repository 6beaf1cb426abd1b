"""What the benchmark sends: the reference data it seeds, its tokens, and the order requests."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from app.domain.principal import Role
from app.services.tokens import TokenCodec, TokenPolicy
from bench.traffic import NUMBER, Traffic

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


def order_upserts(headers: Mapping[str, str], prefix: str) -> Traffic:
    """PUT a fresh order_no per request: the create path."""
    put_headers = {**headers, "content-type": "application/json"}
    return Traffic("PUT", (f"/v1/orders/{prefix}-{NUMBER}",), put_headers, json.dumps(_order_body()).encode())


def order_reads(orders_path: str, order_nos: Sequence[str], headers: Mapping[str, str]) -> Traffic:
    """GET existing orders in turn, from the service or the baseline alike."""
    return Traffic("GET", tuple(f"{orders_path}/{order_no}" for order_no in order_nos), headers)


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
