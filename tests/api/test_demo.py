"""`aftersales demo` loads a usable service desk, and loading it again changes nothing."""

from __future__ import annotations

from app.demo import load_demo
from app.domain.clock import SystemClock
from app.domain.principal import Role


async def test_demo_data_loads_twice_into_one_service_desk(app, client, auth):
    services = app.state.services

    await load_demo(services, SystemClock().now())
    await load_demo(services, SystemClock().now())

    admin = auth(Role.ADMIN)
    tickets = (await client.get("/v1/tickets?customer_no=C-10001", headers=admin)).json()["items"]
    agents = (await client.get("/v1/agents", headers=admin)).json()["items"]
    pool = (await client.get("/v1/queues/pool", headers=auth(Role.AGENT, sub="agent-wang"))).json()
    assert [t["title"] for t in tickets] == ["净化器运行时异响"]
    assert {a["user_id"] for a in agents} == {"agent-wang", "reviewer-chen", "manager-liu"}
    assert all(a["version"] == 1 for a in agents)
    assert pool["total"] == 1
