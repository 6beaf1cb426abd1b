"""Workflows described as data: states with both label sets, transitions, and a Mermaid diagram."""

from __future__ import annotations

from app.domain.principal import Role


async def test_the_ticket_workflow_is_listed_and_described(client, auth):
    headers = {**auth(Role.CUSTOMER), "Accept-Language": "en"}

    listed = (await client.get("/v1/workflows", headers=headers)).json()
    ticket = (await client.get("/v1/workflows/ticket", headers=headers)).json()

    assert {"name": "ticket", "title": "Service ticket"} in listed
    assert {"refund", "partial_refund", "return_refund", "replenish", "exchange", "compensation"} <= {
        w["name"] for w in listed
    }
    states = {s["name"]: s for s in ticket["states"]}
    assert states["new"]["agent_label"] == {"zh_cn": "待受理", "en": "New"}
    assert states["pending_follow_up"]["customer_label"]["zh_cn"] == "已解决"
    claim = next(t for t in ticket["transitions"] if t["action"] == "claim")
    assert (claim["sources"], claim["dest"]) == (["new"], "assigned")
    resolve = next(t for t in ticket["transitions"] if t["action"] == "resolve")
    assert "solution" in resolve["payload_schema"]["required"]


async def test_mermaid_renders_a_state_diagram(client, auth):
    response = await client.get("/v1/workflows/ticket?format=mermaid", headers=auth(Role.AGENT))

    assert response.headers["content-type"].startswith("text/vnd.mermaid")
    assert response.text.startswith("stateDiagram-v2\n    [*] --> new\n")
    assert "    in_progress --> pending_follow_up: resolve" in response.text.splitlines()


async def test_an_unknown_workflow_is_404(client, auth):
    response = await client.get("/v1/workflows/nope", headers=auth(Role.AGENT))

    assert (response.status_code, response.json()["code"]) == (404, "workflow_not_found")
