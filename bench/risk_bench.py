"""Intake with the risk checks on and off (target: on ≥ 90 % of off's req/s): complaints taken in through POST
/v1/tickets with the keyword list at its largest (5,000), the VIP and the repeat-complaint checks on, then with the
checks switched off, in alternating pairs of runs, as the SLA bench does for its policy. Each request is another
regular customer's (bulk-loaded `BR-<n>` customers, numbered by the load generator), and its text matches no
keyword, as almost every intake: what is measured is the price of looking, not of flagging."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx

from app.domain.principal import Role
from app.domain.risk_keywords import DEFAULT_EXCEPTIONS
from bench.harness import Harness
from bench.keyword_bench import keyword_list
from bench.load import Result
from bench.scenarios import bearer_headers
from bench.ticket_rows import plain_dsn
from bench.traffic import NUMBER, Traffic, run_numbers
from bench.wrk import MAX_THREADS

PAIRS = 3
PREFIX = "BR-"
TARGET = 0.90
SETTINGS = "/v1/settings/risk"
COMPLAINT = {
    "customer_no": f"{PREFIX}{NUMBER}",
    "channel": "im_bot",
    "type": "complaint",
    "title": "上门服务投诉",
    "description": "师傅迟到两个小时，也没有提前通知。",
    "region": "CN-31",
}
_CUSTOMERS = """INSERT INTO customers (id, customer_no, name, level, region, contact_channels, version, created_at,
        updated_at)
    SELECT gen_random_uuid(), $1 || n, 'Bench customer', 'regular', 'CN-31', '[]', 1, now(), now()
    FROM unnest($2::text[]) AS n"""


@dataclass(frozen=True, slots=True)
class RiskPair:
    off: Result
    on: Result

    @property
    def ratio(self) -> float:
        return self.on.rate / self.off.rate if self.off.rate > 0 else math.nan


async def measure(h: Harness) -> list[RiskPair]:
    await _load_customers(h)
    manager = bearer_headers(h.secret, "bench-manager", Role.MANAGER)
    complaints = Traffic(
        "POST",
        ("/v1/tickets",),
        {**bearer_headers(h.secret), "content-type": "application/json"},
        json.dumps(COMPLAINT).encode(),
    )
    on_body = {
        "enabled": True,
        "keywords": keyword_list(),
        "exceptions": list(DEFAULT_EXCEPTIONS),
        "vip_levels": ["vip"],
        # Every run numbers its requests afresh, so a customer complains once per run: the rule's highest count keeps
        # them under it for the whole bench, while the count itself runs on every complaint.
        "repeat_complaints": 100,
        "repeat_window_days": 30,
        "priorities": {"keyword": "urgent", "vip": "high", "repeat_complaint": "high"},
    }
    pairs = []
    async with httpx.AsyncClient(base_url=h.service_url, timeout=60) as client:
        for run in range(1, PAIRS + 1):
            await _save(client, manager, {**on_body, "enabled": False})
            off = await h.measure_traffic(
                f"complaint intake, risk off ({run})", h.service, h.service_url, *[complaints] * 2
            )
            await _save(client, manager, on_body)
            on = await h.measure_traffic(
                f"complaint intake, risk on ({run})", h.service, h.service_url, *[complaints] * 2
            )
            pairs.append(RiskPair(off, on))
    return pairs


async def _load_customers(h: Harness) -> None:
    """A customer for every number a run's request may carry."""
    numbers = run_numbers(max(h.budget.requests, h.warmup.requests), h.options.concurrency, MAX_THREADS)
    conn = await asyncpg.connect(plain_dsn(h.database_url))
    try:
        await conn.execute(_CUSTOMERS, PREFIX, numbers)
    finally:
        await conn.close()


async def _save(client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]) -> None:
    current = await client.get(SETTINGS, headers=headers)
    current.raise_for_status()
    saved = await client.put(SETTINGS, json=body, headers={**headers, "if-match": current.headers["etag"]})
    saved.raise_for_status()


def _median(pairs: list[RiskPair]) -> RiskPair:
    return sorted(pairs, key=lambda pair: pair.ratio)[len(pairs) // 2]


def lines(pairs: list[RiskPair]) -> list[str]:
    median = _median(pairs)
    return [
        f"complaint intake with risk checks on / off (5,000 keywords), {len(pairs)} alternating pairs: req/s "
        + ", ".join(f"{pair.ratio:.2f}" for pair in pairs)
        + f"; median {median.ratio:.2f} (target ≥ {TARGET:.2f}); server CPU per create on / off "
        + ", ".join(f"{p.on.cpu_ms_per_request:.2f} / {p.off.cpu_ms_per_request:.2f} ms" for p in pairs)
    ]


def failures(pairs: list[RiskPair]) -> list[str]:
    median = _median(pairs)
    if median.ratio < TARGET:
        return [f"FAILED intake with risk checks on ran at {median.ratio:.2f} of off's req/s (target ≥ {TARGET:.2f})"]
    return []
