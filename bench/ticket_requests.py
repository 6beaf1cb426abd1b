"""What the ticket benchmarks send: one intake body to the service and the baseline alike, and list queries."""

from __future__ import annotations

import json
from collections.abc import Mapping

import httpx

from bench.load import Send
from bench.scenarios import CUSTOMER_NO, ORDER_NO, SKU

INTAKE = {
    "customer_no": CUSTOMER_NO,
    "channel": "im_bot",
    "type": "repair",
    "priority": "normal",
    "title": "净化器异响",
    "description": "开机后有明显异响，持续两天。",
    "order_no": ORDER_NO,
    "sku": SKU,
    "serial_no": "SN-889900",
    "fault_description": "风机异响",
    "contact": {"name": "张伟", "phone": "+86 138 0013 8000"},
    "region": "CN-31",
}
"""An IM bot taking in a repair for a known customer's order: intake checks the customer, order and product."""


def create_tickets(client: httpx.AsyncClient, tickets_url: str, headers: Mapping[str, str]) -> Send:
    """POST the same intake every time: each request is a new ticket."""
    body = json.dumps(INTAKE).encode()  # encoded once: the load generator shares the CPU with the servers
    post_headers = {**headers, "content-type": "application/json"}

    async def send(_index: int) -> httpx.Response:
        return await client.post(tickets_url, content=body, headers=post_headers)

    return send


def list_tickets(
    client: httpx.AsyncClient, tickets_url: str, headers: Mapping[str, str], params: Mapping[str, str]
) -> Send:
    """GET the same list page every time: its latency, not its cache misses, is what a caller waits for."""

    async def send(_index: int) -> httpx.Response:
        return await client.get(tickets_url, params=params, headers=headers)

    return send
