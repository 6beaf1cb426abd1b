"""What the ticket benchmarks send: one intake body to the service and the baseline alike, and list queries."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from uuid import UUID

from bench.scenarios import CUSTOMER_NO, ORDER_NO, SKU
from bench.traffic import Traffic, path_with_query

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


def create_tickets(tickets_path: str, headers: Mapping[str, str]) -> Traffic:
    """POST the same intake every time: each request is a new ticket (the service numbers it; nothing in the body
    has to be unique)."""
    return Traffic(
        "POST", (tickets_path,), {**headers, "content-type": "application/json"}, json.dumps(INTAKE).encode()
    )


def read_tickets(tickets_path: str, ids: Sequence[UUID], headers: Mapping[str, str]) -> Traffic:
    """GET existing tickets in turn, from the service or the baseline alike."""
    return Traffic("GET", tuple(f"{tickets_path}/{ticket_id}" for ticket_id in ids), headers)


def list_tickets(tickets_path: str, headers: Mapping[str, str], params: Mapping[str, str]) -> Traffic:
    """GET the same list page every time (a deep page by a fixed cursor): its latency, not its cache misses, is
    what a caller waits for."""
    return Traffic("GET", (path_with_query(tickets_path, params),), headers)
