"""Tickets under concurrent requests on PostgreSQL: one claim wins, numbers never collide."""

from __future__ import annotations

import asyncio

import pytest

from app.domain.principal import Role
from tests.factories import act, agent_body, open_ticket, put, seed_service_desk, ticket_body

pytestmark = pytest.mark.postgres_only


async def test_two_agents_claiming_one_ticket_at_once_exactly_one_wins(client, auth):
    await seed_service_desk(client, auth)
    for n in range(3, 9):
        await put(client, auth(Role.ADMIN), f"/v1/agents/agent-{n}", agent_body())
    ticket = await open_ticket(client, auth)
    claimers = [auth(Role.AGENT, sub=f"agent-{n}") for n in (1, 2, *range(3, 9))]

    answers = await asyncio.gather(*(act(client, headers, ticket, "claim") for headers in claimers))

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [409] * (len(claimers) - 1)
    winner = next(a.json()["assignee"] for a in answers if a.status_code == 200)
    assert all(a.json()["current_state"] == "assigned" for a in answers if a.status_code == 409)
    final = (await client.get(f"/v1/tickets/{ticket['id']}", headers=auth(Role.ADMIN))).json()
    assert (final["assignee"], final["version"]) == (winner, 2)
    history = (await client.get(f"/v1/tickets/{ticket['id']}/timeline", headers=auth(Role.ADMIN))).json()["items"]
    assert [e["action"] for e in history] == ["create", "claim"]


async def test_concurrent_intake_gives_unique_increasing_numbers(client, auth):
    await seed_service_desk(client, auth)
    headers = auth(Role.INTEGRATION)

    answers = await asyncio.gather(
        *(client.post("/v1/tickets", json=ticket_body(), headers=headers) for _ in range(40))
    )

    assert {a.status_code for a in answers} == {201}
    numbers = [a.json()["number"] for a in answers]
    assert len(set(numbers)) == 40
    by_creation = [t["number"] for t in sorted((a.json() for a in answers), key=lambda t: t["id"])]
    assert sorted(numbers) == sorted(by_creation)
