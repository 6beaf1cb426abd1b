"""Intake with 派单 on and off (target: on ≥ 80 % of off's req/s), through the real server, in alternating pairs of
runs as the risk bench does: off has no dispatch rule at all (intake leaves every ticket in the pool and reads
nothing for dispatch); on has 20 rules on region, type and priority, round robin and least loaded, over 4 groups of
10 agents without a capacity limit, and every ticket is assigned. The intake is the create scenario's (a repair in
CN-31 for a known order): it matches the eleventh rule, so that ten are tried before one holds.

Rules are changed through the API on the measured server process, which forgets its in-process copy at once; one
intake is checked to be (or not be) dispatched before each run. The tickets assigned in a run, and any
left waiting in the backlog, are closed in bulk (SQL) before the next, so that each run starts with the agents
holding nothing and the backlog empty: within a run each agent comes to hold a tenth of it, as the roster's load
count then reads. Intakes of an on run left waiting (every agent was being given other work when they tried) are
counted: with no capacity limit, each is a miss."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx

from app.domain.principal import Role
from bench.harness import Harness
from bench.load import Result
from bench.scenarios import bearer_headers
from bench.ticket_requests import INTAKE, create_tickets
from bench.ticket_rows import plain_dsn

PAIRS = 3
TARGET = 0.80
GROUPS = 4
AGENTS_PER_GROUP = 10
PREFIX = "dispatch-bench"
MATCHING = 10  # the rule (0-based) the bench's intake matches
RULES = "/v1/dispatch-rules"
_NO_MATCH: tuple[list[dict[str, Any]], ...] = (
    [{"field": "region", "values": ["CN-11", "CN-12"]}],
    [{"field": "type", "values": ["complaint"]}],
    [{"field": "priority", "values": ["urgent"]}],
    [{"field": "region", "values": ["CN-44"]}, {"field": "type", "values": ["repair"]}],
    [{"field": "type", "values": ["installation"]}, {"field": "region", "values": ["CN-31"]}],
    [{"field": "priority", "values": ["high"]}, {"field": "region", "values": ["CN-31", "CN-32"]}],
    [{"field": "region", "values": ["CN-50", "CN-51"]}],
    [{"field": "type", "values": ["consultation"]}, {"field": "priority", "values": ["normal"]}],
    [{"field": "region", "values": ["CN-33"]}, {"field": "type", "values": ["repair"]}],
    [{"field": "priority", "values": ["low"]}],
)
"""The first ten rules: each names something the bench's intake is not (a region, type or priority)."""
_RELEASE = (
    """UPDATE tickets SET status = 'closed', finished_at = now()
    WHERE (assignee LIKE $1 || '-%' AND status = 'assigned') OR id IN (SELECT ticket_id FROM dispatch_backlog)""",
    "DELETE FROM dispatch_backlog",
)
"""Between runs: what the bench agents hold is closed, and so is what waits in the backlog (nothing serves it here:
no worker runs beside the measured server)."""


def rule_bodies() -> list[tuple[str, dict[str, Any]]]:
    """20 rules by key: ten that the intake fails, the one it matches, nine behind it (region, type, priority)."""
    rules = []
    for i in range(20):
        if i < MATCHING:
            conditions = _NO_MATCH[i]
        elif i == MATCHING:
            conditions = [
                {"field": "region", "values": [INTAKE["region"], "CN-32"]},
                {"field": "type", "values": [INTAKE["type"]]},
            ]
        else:
            conditions = [{"field": "priority", "values": [("low", "normal", "high", "urgent")[i % 4]]}]
        body = {
            "name": f"派单规则 {i}",
            "position": (i + 1) * 10,
            "conditions": conditions,
            "group": _group(i % GROUPS),
            "strategy": "round_robin" if i % 2 == 0 else "least_loaded",
        }
        rules.append((f"{PREFIX}-{i:02d}", body))
    return rules


def _group(g: int) -> str:
    return f"{PREFIX}-g{g}"


@dataclass(frozen=True, slots=True)
class DispatchPair:
    off: Result
    on: Result
    waited: int  # intakes of the on run left waiting in the backlog instead of assigned

    @property
    def ratio(self) -> float:
        return self.on.rate / self.off.rate if self.off.rate > 0 else math.nan


async def measure(h: Harness) -> list[DispatchPair]:
    admin = bearer_headers(h.secret, "dispatch-bench-admin", Role.ADMIN)
    intake = create_tickets("/v1/tickets", bearer_headers(h.secret))
    pairs = []
    async with httpx.AsyncClient(base_url=h.service_url, timeout=60) as client:
        await _seed_people(client, admin)
        for run in range(1, PAIRS + 1):
            await _release(h)
            await _check(client, h.secret, dispatched=False)
            off = await h.measure_traffic(f"intake, dispatch off ({run})", h.service, h.service_url, intake, intake)
            versions = await _put_rules(client, admin)
            await _check(client, h.secret, dispatched=True)
            on = await h.measure_traffic(f"intake, dispatch on ({run})", h.service, h.service_url, intake, intake)
            waited = await _waiting(h)
            await _delete_rules(client, admin, versions)
            pairs.append(DispatchPair(off, on, waited))
    await _release(h)
    return pairs


async def _seed_people(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    for g in range(GROUPS):
        await _ok(await client.put(f"/v1/groups/{_group(g)}", json={"name": f"派单组 {g}"}, headers=admin))
        for i in range(AGENTS_PER_GROUP):
            body = {"name": f"坐席 {g}-{i}", "roles": ["agent"], "groups": [_group(g)], "active": True}
            await _ok(await client.put(f"/v1/agents/{PREFIX}-{g}-{i:02d}", json=body, headers=admin))


async def _put_rules(client: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, str]:
    etags = {}
    for key, body in rule_bodies():
        response = await _ok(await client.put(f"{RULES}/{key}", json=body, headers=admin))
        etags[key] = response.headers["etag"]
    return etags


async def _delete_rules(client: httpx.AsyncClient, admin: dict[str, str], etags: dict[str, str]) -> None:
    for key, etag in etags.items():
        await _ok(await client.delete(f"{RULES}/{key}", headers={**admin, "if-match": etag}))


async def _check(client: httpx.AsyncClient, secret: str, *, dispatched: bool) -> None:
    """One intake on the measured process: assigned to a bench agent with the rules, left in the pool without."""
    created = await _ok(await client.post("/v1/tickets", json=INTAKE, headers=bearer_headers(secret)))
    assignee = created.json()["assignee"]
    if dispatched != (assignee is not None and assignee.startswith(PREFIX)):
        state = "on" if dispatched else "off"
        raise RuntimeError(f"dispatch {state}, yet the check's intake was assigned to {assignee!r}")


async def _release(h: Harness) -> None:
    conn = await asyncpg.connect(plain_dsn(h.database_url))
    try:
        async with conn.transaction():
            await conn.execute(_RELEASE[0], PREFIX)
            await conn.execute(_RELEASE[1])
    finally:
        await conn.close()


async def _waiting(h: Harness) -> int:
    """The backlog is empty before an on run (`_release`): what is in it after was left waiting by that run."""
    conn = await asyncpg.connect(plain_dsn(h.database_url))
    try:
        return int(await conn.fetchval("SELECT count(*) FROM dispatch_backlog"))
    finally:
        await conn.close()


async def _ok(response: httpx.Response) -> httpx.Response:
    if not response.is_success:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text[:300]}"
        )
    return response


def _median(pairs: list[DispatchPair]) -> DispatchPair:
    return sorted(pairs, key=lambda pair: pair.ratio)[len(pairs) // 2]


def _run(result: Result) -> str:
    return (
        f"{result.rate:.0f} req/s, p50 {result.percentile_ms(50):.1f} / p99 {result.percentile_ms(99):.1f} ms, "
        f"{result.cpu_ms_per_request:.2f} ms CPU"
    )


def lines(pairs: list[DispatchPair]) -> list[str]:
    median = _median(pairs)
    out = [
        f"intake with dispatch on / off (20 rules, the 11th matching; {GROUPS} groups of {AGENTS_PER_GROUP} agents), "
        f"{len(pairs)} alternating pairs: req/s "
        + ", ".join(f"{pair.ratio:.2f}" for pair in pairs)
        + f"; median {median.ratio:.2f} (target ≥ {TARGET:.2f})"
    ]
    out += [
        f"  pair {i}: off {_run(p.off)}; on {_run(p.on)}, {p.waited} of its intakes left waiting instead of assigned"
        for i, p in enumerate(pairs, start=1)
    ]
    saturated = [r.scenario for p in pairs for r in (p.off, p.on) if r.sample.generator.saturated]
    if saturated:
        out.append(f"  the load generator was saturated in {', '.join(saturated)}: the ratio says less there")
    return out


def failures(pairs: list[DispatchPair]) -> list[str]:
    median = _median(pairs)
    found = []
    if median.ratio < TARGET:
        found.append(f"FAILED intake with dispatch on ran at {median.ratio:.2f} of off's req/s (target ≥ {TARGET:.2f})")
    waited = sum(p.waited for p in pairs)
    if waited:
        found.append(
            f"FAILED {waited} intakes with dispatch on were left waiting in the backlog with agents free (no capacity "
            "limit): every one should have been assigned"
        )
    return found
