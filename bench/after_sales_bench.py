"""The after-sales scenarios: whole refund flows per second (create → 极速审核 → payment accepted → succeeded),
and many concurrent partial refunds racing for one order's money."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from app.domain.principal import Role
from bench.harness import Harness
from bench.load import PythonLoad, Result, Send
from bench.scenarios import CUSTOMER_NO, SKU, bearer_headers

AUTO_REVIEW = {
    "enabled": True,
    "types": ["refund", "partial_refund"],
    "max_amount": None,
    "only_before_shipping": False,
    "customer_levels": [],
    "max_recent_after_sales": None,
    "lightning_refund_levels": [],
}
"""极速审核 for every refund: the flow never waits for a reviewer."""
PAID = 21000
LINE_VALUE = 2 * 10000  # the one line's value: a partial refund holds against its line, shipping is not on it
RACE_ORDER = "SO-RACE"
RACE_REQUESTS = 100
RACE_AMOUNT = 500  # 100 × 5.00 asked for, 40 fit into the line's 200.00
SEED_CONCURRENCY = 16
_STEPS_AGO = {"picking": 50, "picked": 40, "shipped": 30, "signed": 20}  # minutes, for the race's signed order


class FlowBroken(httpx.HTTPError):
    """A step answered 2xx but left the order where a refund flow does not go; the load counts the flow failed."""


@dataclass(frozen=True, slots=True)
class Race:
    """Concurrent partial refunds on one order: how long they took, what was let through, what the ledger says."""

    requests: int
    accepted: int
    refused: int  # 409 or 422: nothing left to refund
    seconds: float
    refundable_after: int  # the order's refundable amount once every request was answered

    @property
    def fits(self) -> int:
        return min(PAID, LINE_VALUE) // RACE_AMOUNT

    @property
    def accepted_amount(self) -> int:
        return self.accepted * RACE_AMOUNT

    @property
    def overpaid(self) -> bool:
        """More promised back than was paid: the one outcome that loses money."""
        return self.accepted_amount > min(PAID, LINE_VALUE) or self.refundable_after < 0

    @property
    def exact(self) -> bool:
        """Every request that fit went through, every other was refused, and the ledger agrees."""
        return (
            self.accepted == self.fits
            and self.accepted + self.refused == self.requests
            and self.refundable_after == PAID - self.accepted_amount
        )


def _paid_order(**fulfilment: Any) -> dict[str, Any]:
    """Paid an hour ago; not yet picked unless `fulfilment` says otherwise."""
    placed = datetime.now(UTC) - timedelta(hours=1)
    return {
        "customer_no": CUSTOMER_NO,
        "currency": "CNY",
        "lines": [{"sku": SKU, "quantity": 2, "unit_price": 10000}],
        "shipping_fee": 1000,
        "discount_amount": 0,
        "paid_amount": PAID,
        "payment_status": "paid",
        "fulfilment_status": "paid",
        "paid_at": (placed + timedelta(minutes=1)).isoformat(),
        "placed_at": placed.isoformat(),
        **fulfilment,
    }


def _signed_order() -> dict[str, Any]:
    """Signed for 20 minutes ago: a partial refund is allowed."""
    now = datetime.now(UTC)
    steps = {f"{step}_at": (now - timedelta(minutes=m)).isoformat() for step, m in _STEPS_AGO.items()}
    return _paid_order(fulfilment_status="signed", **steps)


async def _put_orders(client: httpx.AsyncClient, url: str, headers: Mapping[str, str], order_nos: list[str]) -> None:
    semaphore = asyncio.Semaphore(SEED_CONCURRENCY)
    body = _paid_order()

    async def one(order_no: str) -> None:
        async with semaphore:
            response = await client.put(f"{url}/v1/orders/{order_no}", json=body, headers=headers)
        if not response.is_success:
            raise RuntimeError(f"seeding order {order_no} answered {response.status_code}: {response.text[:200]}")

    await asyncio.gather(*(one(order_no) for order_no in order_nos))


def _order_nos(prefix: str, count: int) -> list[str]:
    return [f"{prefix}-{index:07d}" for index in range(count)]


def refund_flow(client: httpx.AsyncClient, url: str, headers: Mapping[str, str], order_nos: list[str]) -> Send:
    """One whole refund per index, on its own paid order, by the integration that is also the payment centre: the
    answer is the last step's, or the first that went wrong."""

    async def send(index: int) -> httpx.Response:
        body = {"order_no": order_nos[index], "type": "refund", "reason_code": "changed_mind"}
        created = await client.post(f"{url}/v1/after-sales", json=body, headers=headers)
        if created.status_code != 201:
            return created
        _expect(created, "refunding", "create (极速审核)")
        actions = f"{url}/v1/after-sales/{created.json()['id']}/actions"
        payment = {"reference": f"PAY-{index:07d}"}
        accepted = await client.post(f"{actions}/payment_accepted", json=payment, headers=headers)
        if accepted.status_code != 200:
            return accepted
        _expect(accepted, "payment_accepted", "payment_accepted")
        succeeded = await client.post(f"{actions}/payment_succeeded", json=payment, headers=headers)
        if succeeded.status_code == 200:
            _expect(succeeded, "refunded", "payment_succeeded")
        return succeeded

    return send


def _expect(response: httpx.Response, status: str, step: str) -> None:
    found = response.json()["status"]
    if found != status:
        raise FlowBroken(f"{step} left the after-sales order {found}, not {status}")


async def refund_flows(h: Harness) -> Result:
    """Whole refund flows per second: the rate is flows, each of four calls, by the Python client (each call needs
    the answer of the one before). Every flow has its own paid order, upserted before the clock starts."""
    client, url = h.client, h.service_url
    headers, manager = bearer_headers(h.secret), bearer_headers(h.secret, "bench-manager", Role.MANAGER)
    settings = await client.put(f"{url}/v1/settings/auto-review", json=AUTO_REVIEW, headers=manager)
    if not settings.is_success:
        raise RuntimeError(f"setting auto-review answered {settings.status_code}: {settings.text[:200]}")
    warmup, budget = h.warmup, h.budget
    warm_orders, orders = _order_nos("SO-WARM-REFUND", warmup.requests), _order_nos("SO-REFUND", budget.requests)
    await _put_orders(client, url, headers, warm_orders + orders)
    warm = PythonLoad(refund_flow(client, url, headers, warm_orders))
    flows = PythonLoad(refund_flow(client, url, headers, orders))
    return await h.measure("refund flow", h.service, warm, flows)


async def partial_refund_race(url: str, headers: Mapping[str, str]) -> Race:
    """RACE_REQUESTS partial refunds at once on one signed order, each on its own connection: exactly what was paid
    may go through."""
    limits = httpx.Limits(max_connections=RACE_REQUESTS, max_keepalive_connections=RACE_REQUESTS)
    async with httpx.AsyncClient(limits=limits, timeout=60.0) as client:
        order = await client.put(f"{url}/v1/orders/{RACE_ORDER}", json=_signed_order(), headers=headers)
        if not order.is_success:
            raise RuntimeError(f"seeding {RACE_ORDER} answered {order.status_code}: {order.text[:200]}")
        body = {
            "order_no": RACE_ORDER,
            "type": "partial_refund",
            "reason_code": "changed_mind",
            "amount": RACE_AMOUNT,
            "lines": [{"sku": SKU, "quantity": 1}],
        }
        started = time.perf_counter()
        answers = await asyncio.gather(
            *(client.post(f"{url}/v1/after-sales", json=body, headers=headers) for _ in range(RACE_REQUESTS))
        )
        seconds = time.perf_counter() - started
        eligibility = await client.get(f"{url}/v1/orders/{RACE_ORDER}/eligibility", headers=headers)
        if not eligibility.is_success:
            raise RuntimeError(f"eligibility of {RACE_ORDER} answered {eligibility.status_code}")
    codes = [answer.status_code for answer in answers]
    return Race(
        requests=RACE_REQUESTS,
        accepted=codes.count(201),
        refused=codes.count(409) + codes.count(422),
        seconds=seconds,
        refundable_after=eligibility.json()["refundable_amount"],
    )
