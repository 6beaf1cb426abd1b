"""Agents and groups: upserted by HR/admin systems, read by staff."""

from __future__ import annotations

from app.domain.principal import Role
from tests.factories import agent_body, put


async def test_an_agent_is_created_then_replaced_and_unchanged_data_keeps_the_version(client, auth):
    admin = auth(Role.ADMIN)
    await put(client, admin, "/v1/groups/east", {"name": "华东维修组", "business_line": "home"})

    created = await client.put("/v1/agents/agent-1", json=agent_body(max_open_tickets=5), headers=admin)
    same = await client.put("/v1/agents/agent-1", json=agent_body(max_open_tickets=5), headers=admin)
    changed = await client.put("/v1/agents/agent-1", json=agent_body(active=False), headers=admin)

    assert (created.status_code, created.json()["version"], created.json()["groups"]) == (201, 1, ["east"])
    assert (same.status_code, same.json()["version"]) == (200, 1)
    assert (changed.status_code, changed.json()["version"], changed.json()["active"]) == (200, 2, False)
    assert (await client.get("/v1/agents/agent-1", headers=auth(Role.AGENT))).headers["etag"] == '"2"'


async def test_an_agent_in_an_unknown_group_is_refused_and_not_stored(client, auth):
    admin = auth(Role.ADMIN)

    response = await client.put("/v1/agents/agent-1", json=agent_body(groups=["ghost"]), headers=admin)

    assert (response.status_code, response.json()["errors"]) == (
        422,
        [{"detail": "unknown group 'ghost'", "pointer": "#/groups/0"}],
    )
    assert (await client.get("/v1/agents/agent-1", headers=admin)).status_code == 404


async def test_agents_can_be_listed_by_activity(client, auth):
    admin = auth(Role.ADMIN)
    await put(client, admin, "/v1/groups/east", {"name": "华东维修组"})
    await put(client, admin, "/v1/agents/a-1", agent_body())
    await put(client, admin, "/v1/agents/a-2", agent_body(active=False))

    active = (await client.get("/v1/agents?active=true", headers=auth(Role.MANAGER))).json()["items"]
    everyone = (await client.get("/v1/agents", headers=auth(Role.MANAGER))).json()["items"]

    assert [a["user_id"] for a in active] == ["a-1"]
    assert [a["user_id"] for a in everyone] == ["a-2", "a-1"]


async def test_bad_agent_fields_are_named(client, auth):
    response = await client.put(
        "/v1/agents/agent-1", json={"name": "", "roles": ["wizard"], "max_open_tickets": 0}, headers=auth(Role.ADMIN)
    )

    assert {e["pointer"] for e in response.json()["errors"]} == {"#/name", "#/roles/0", "#/max_open_tickets"}


async def test_groups_are_upserted_and_listed(client, auth):
    admin = auth(Role.ADMIN)
    await put(client, admin, "/v1/groups/east", {"name": "华东维修组"})
    await put(client, admin, "/v1/groups/west", {"name": "华西维修组", "description": "成都、重庆"})

    listed = (await client.get("/v1/groups", headers=auth(Role.AGENT))).json()["items"]
    create_only = await client.put("/v1/groups/east", json={"name": "x"}, headers={**admin, "If-None-Match": "*"})

    assert [g["key"] for g in listed] == ["west", "east"]
    assert (create_only.status_code, create_only.json()["code"]) == (412, "already_exists")
