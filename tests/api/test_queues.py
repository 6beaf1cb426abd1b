"""The claim pool (待领取池) and my queue."""

from __future__ import annotations

import pytest

from app.domain.principal import Role
from tests.factories import act, open_ticket, put, seed_service_desk


@pytest.fixture
async def desk(client, auth):
    await seed_service_desk(client, auth)
    await put(client, auth(Role.ADMIN), "/v1/groups/west", {"name": "华西维修组"})


async def test_the_pool_shows_unassigned_tickets_of_my_groups_oldest_first(client, auth, desk):
    east_old = await open_ticket(client, auth, group_key="east")
    ungrouped = await open_ticket(client, auth)
    await open_ticket(client, auth, group_key="west")
    claimed = await open_ticket(client, auth, group_key="east")
    await act(client, auth(Role.AGENT, sub="agent-2"), claimed, "claim")

    pool = (await client.get("/v1/queues/pool", headers=auth(Role.AGENT))).json()

    assert [t["number"] for t in pool["items"]] == [east_old["number"], ungrouped["number"]]
    assert pool["total"] == 2
    assert pool["oldest_age_seconds"] >= 0
    assert all("claim" in {a["action"] for a in t["available_actions"]} for t in pool["items"])


async def test_a_manager_sees_every_groups_pool(client, auth, desk):
    await open_ticket(client, auth, group_key="east")
    await open_ticket(client, auth, group_key="west")

    pool = (await client.get("/v1/queues/pool", headers=auth(Role.MANAGER, sub="manager-1"))).json()

    assert pool["total"] == 2


async def test_the_pool_pages_with_a_cursor(client, auth, desk):
    opened = [(await open_ticket(client, auth))["number"] for _ in range(3)]

    first = (await client.get("/v1/queues/pool?limit=2", headers=auth(Role.AGENT))).json()
    rest = (await client.get(f"/v1/queues/pool?limit=2&cursor={first['next_cursor']}", headers=auth(Role.AGENT))).json()

    assert [t["number"] for t in first["items"] + rest["items"]] == opened
    assert rest["next_cursor"] is None


async def test_my_queue_holds_my_open_work_latest_activity_first(client, auth, desk):
    agent = auth(Role.AGENT)
    first, second, done = [await open_ticket(client, auth) for _ in range(3)]
    for ticket in (first, second, done):
        await act(client, agent, ticket, "claim")
    await act(client, agent, done, "close", reason="duplicate")
    await act(client, agent, first, "start")

    mine = (await client.get("/v1/queues/mine", headers=agent)).json()
    theirs = (await client.get("/v1/queues/mine", headers=auth(Role.AGENT, sub="agent-2"))).json()

    assert [t["number"] for t in mine["items"]] == [first["number"], second["number"]]
    assert theirs["items"] == []


async def test_customers_and_integrations_have_no_queues(client, auth, desk):
    for role in (Role.CUSTOMER, Role.INTEGRATION, Role.REVIEWER):
        response = await client.get("/v1/queues/pool", headers=auth(role))
        assert (response.status_code, response.json()["code"]) == (403, "role_not_allowed")


async def test_an_unknown_ticket_status_filter_is_named(client, auth):
    response = await client.get("/v1/tickets?status=new&status=lost", headers=auth(Role.AGENT))

    assert (response.status_code, response.json()["errors"][0]["parameter"]) == (422, "status")
