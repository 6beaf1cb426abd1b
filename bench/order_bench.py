"""The order scenario: upserting new orders, then reading them from the service and from the baseline."""

from __future__ import annotations

import asyncpg

from bench import report
from bench.harness import Harness
from bench.scenarios import bearer_headers, order_reads, order_upserts
from bench.ticket_rows import plain_dsn

READ_SET = 1000  # orders the reads cycle through


async def orders(h: Harness) -> None:
    """Upserting new orders, then reading them from the service and from the baseline."""
    headers = bearer_headers(h.secret)
    url = h.service_url
    upserts = await h.measure_traffic(
        "upsert order", h.service, url, order_upserts(headers, "WARM"), order_upserts(headers, "BENCH")
    )
    conn = await asyncpg.connect(plain_dsn(h.database_url))
    try:
        rows = await conn.fetch(
            "SELECT order_no FROM sales_orders WHERE order_no LIKE 'BENCH-%' ORDER BY order_no LIMIT $1", READ_SET
        )
    finally:
        await conn.close()
    if not rows:
        raise RuntimeError(f"no order was created; first error: {upserts.sample.first_error}")
    order_nos = [row["order_no"] for row in rows]
    ours = order_reads("/v1/orders", order_nos, headers)
    floor = order_reads("/orders", order_nos, {})
    get = await h.measure_traffic("get order", h.service, url, ours, ours)
    baseline = await h.measure_traffic("baseline get order", h.baseline, h.baseline_url, floor, floor)
    h.lines += [report.ratio(get, baseline), report.cpu_ratio(get, baseline)]
