"""The ticket workflow through its actions: the happy path, refusals that write nothing, and who sees what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.domain.principal import Role
from app.persistence.tables import outbox
from tests.factories import act, open_ticket, seed_service_desk


@pytest.fixture
async def desk(client, auth):
    await seed_service_desk(client, auth)


async def _get(client, headers, ticket):
    return (await client.get(f"/v1/tickets/{ticket['id']}", headers=headers)).json()


async def _timeline(client, headers, ticket):
    return (await client.get(f"/v1/tickets/{ticket['id']}/timeline?limit=100", headers=headers)).json()["items"]


async def _outbox_types(app) -> list[str]:
    """Event types in the order written, leaving out the reference data the desk was seeded with."""
    async with app.state.services.database.engine.connect() as conn:
        types = (await conn.execute(select(outbox.c.type).order_by(outbox.c.id))).scalars()
        return [t for t in types if not t.endswith(".upserted")]


async def test_a_ticket_is_worked_from_intake_to_completion(app, client, auth, desk):
    agent, customer = auth(Role.AGENT), auth(Role.CUSTOMER)
    ticket = await open_ticket(client, auth)

    steps = [
        (agent, "claim", {}),
        (agent, "start", {}),
        (agent, "request_info", {"question": "请提供噪音视频"}),
        (customer, "customer_reply", {"message": "视频已上传"}),
        (
            agent,
            "resolve",
            {
                "solution": "更换风机",
                "spare_parts": [{"name": "风机", "quantity": 1}],
                "labour_cost": 5000,
                "material_cost": 12000,
            },
        ),
        (agent, "follow_up", {"outcome": "satisfied", "rating": 5, "remark": "客户满意"}),
    ]
    statuses = []
    for headers, action, body in steps:
        response = await act(client, headers, ticket, action, **body)
        assert response.status_code == 200, (action, response.text)
        statuses.append(response.json()["status"])

    assert statuses == [
        "assigned",
        "in_progress",
        "waiting_on_customer",
        "in_progress",
        "pending_follow_up",
        "completed",
    ]
    final = await _get(client, agent, ticket)
    assert (final["assignee"], final["version"], final["resolution"]["labour_cost"]) == ("agent-1", 7, 5000)
    assert final["finished_at"] is not None
    history = await _timeline(client, agent, ticket)
    assert [(e["action"], e["from_status"], e["to_status"]) for e in history][:3] == [
        ("create", None, "new"),
        ("claim", "new", "assigned"),
        ("start", "assigned", "in_progress"),
    ]
    assert history[-1]["remark"] == "客户满意"
    assert await _outbox_types(app) == [
        "ticket.created",
        "ticket.claim",
        "ticket.start",
        "ticket.request_info",
        "ticket.customer_reply",
        "notification.created",  # the assignee hears of the customer's reply
        "ticket.resolve",
        "ticket.follow_up",
    ]


async def test_an_action_not_possible_now_is_a_409_naming_the_state_and_what_is_allowed(client, auth, desk):
    ticket = await open_ticket(client, auth)

    response = await act(client, auth(Role.MANAGER, sub="manager-1"), ticket, "resolve", solution="x")

    problem = response.json()
    assert (response.status_code, problem["code"], problem["current_state"]) == (409, "action_not_allowed", "new")
    assert {"claim", "assign", "close", "cancel", "escalate"} <= set(problem["allowed_actions"])
    assert (await _get(client, auth(Role.AGENT), ticket))["version"] == 1


async def test_an_unknown_action_is_a_409_too(client, auth, desk):
    ticket = await open_ticket(client, auth)

    response = await act(client, auth(Role.AGENT), ticket, "teleport")

    assert (response.status_code, response.json()["code"]) == (409, "action_not_allowed")
    assert "not an action" in response.json()["detail"]


async def test_a_customer_may_not_run_staff_actions(client, auth, desk):
    ticket = await open_ticket(client, auth)

    response = await act(client, auth(Role.CUSTOMER), ticket, "claim")

    assert (response.status_code, response.json()["code"]) == (403, "action_forbidden")


async def test_only_the_assignee_or_a_manager_works_a_ticket(client, auth, desk):
    ticket = await open_ticket(client, auth)
    await act(client, auth(Role.AGENT), ticket, "claim")

    by_colleague = await act(client, auth(Role.AGENT, sub="agent-2"), ticket, "start")
    by_manager = await act(client, auth(Role.MANAGER, sub="manager-1"), ticket, "start")

    assert (by_colleague.status_code, by_colleague.json()["code"]) == (409, "action_not_allowed")
    assert "only the assignee (agent-1)" in by_colleague.json()["detail"]
    assert by_manager.status_code == 200


async def test_missing_action_fields_are_named_and_nothing_is_written(client, auth, desk):
    ticket = await open_ticket(client, auth)
    agent = auth(Role.AGENT)
    await act(client, agent, ticket, "claim")
    await act(client, agent, ticket, "start")

    response = await act(client, agent, ticket, "resolve", labour_cost=-1, surprise=True)

    problem = response.json()
    assert (response.status_code, problem["code"]) == (422, "validation_failed")
    assert {e["pointer"] for e in problem["errors"]} == {"#/solution", "#/labour_cost", "#/surprise"}
    assert (await _get(client, agent, ticket))["status"] == "in_progress"


async def test_a_stale_if_match_is_refused_and_a_current_one_accepted(client, auth, desk):
    ticket = await open_ticket(client, auth)
    agent = auth(Role.AGENT)

    stale = await client.post(
        f"/v1/tickets/{ticket['id']}/actions/claim", json={}, headers={**agent, "If-Match": '"7"'}
    )
    fresh = await client.post(
        f"/v1/tickets/{ticket['id']}/actions/claim", json={}, headers={**agent, "If-Match": '"1"'}
    )

    assert (stale.status_code, stale.json()["code"]) == (412, "etag_mismatch")
    assert (fresh.status_code, fresh.headers["etag"]) == (200, '"2"')


async def test_assigning_to_an_inactive_or_unknown_agent_is_refused(client, auth, desk):
    admin = auth(Role.ADMIN)
    await client.put("/v1/agents/agent-2", json={"name": "李工", "roles": ["agent"], "active": False}, headers=admin)
    ticket = await open_ticket(client, auth)
    manager = auth(Role.MANAGER, sub="manager-1")

    inactive = await act(client, manager, ticket, "assign", assignee="agent-2")
    unknown = await act(client, manager, ticket, "assign", assignee="ghost")

    assert (inactive.status_code, inactive.json()["errors"]) == (422, [{"detail": "inactive", "pointer": "#/assignee"}])
    assert unknown.json()["errors"][0]["detail"] == "not a registered agent"
    assert (await _get(client, manager, ticket))["assignee"] is None


async def test_an_agent_at_capacity_gets_no_more_tickets(client, auth, desk):
    admin = auth(Role.ADMIN)
    await client.put(
        "/v1/agents/agent-2", json={"name": "李工", "roles": ["agent"], "max_open_tickets": 1}, headers=admin
    )
    manager = auth(Role.MANAGER, sub="manager-1")
    first, second = await open_ticket(client, auth), await open_ticket(client, auth)
    await act(client, manager, first, "assign", assignee="agent-2")

    response = await act(client, manager, second, "assign", assignee="agent-2")

    assert (response.status_code, response.json()["code"]) == (409, "agent_at_capacity")


async def test_an_unregistered_user_cannot_claim(client, auth, desk):
    ticket = await open_ticket(client, auth)

    response = await act(client, auth(Role.AGENT, sub="stranger"), ticket, "claim")

    assert (response.status_code, response.json()["code"]) == (403, "not_an_active_agent")


async def test_transfer_to_an_agent_or_back_to_a_groups_pool(client, auth, desk):
    agent = auth(Role.AGENT)
    to_agent, to_pool = await open_ticket(client, auth), await open_ticket(client, auth)
    for ticket in (to_agent, to_pool):
        await act(client, agent, ticket, "claim")

    handed = await act(client, agent, to_agent, "transfer", assignee="agent-2", reason="需要专业技能")
    pooled = await act(client, agent, to_pool, "transfer", group="east", reason="下班")
    nobody = await act(client, agent, to_pool, "transfer", reason="?")

    assert (handed.json()["status"], handed.json()["assignee"]) == ("assigned", "agent-2")
    assert (pooled.json()["status"], pooled.json()["assignee"], pooled.json()["group_key"]) == ("new", None, "east")
    assert nobody.status_code in (409, 422)


async def test_customers_see_public_history_only_without_costs_or_internal_notes(client, auth, desk):
    agent, customer = auth(Role.AGENT), auth(Role.CUSTOMER)
    ticket = await open_ticket(client, auth)
    await act(client, agent, ticket, "claim")
    await act(client, agent, ticket, "start")
    internal = await client.post(
        f"/v1/tickets/{ticket['id']}/comments", json={"body": "客户情绪激动", "visibility": "internal"}, headers=agent
    )
    public = await client.post(f"/v1/tickets/{ticket['id']}/comments", json={"body": "已安排上门"}, headers=agent)
    await act(client, agent, ticket, "resolve", solution="更换风机", labour_cost=5000, material_cost=100)
    assert (internal.status_code, public.status_code) == (201, 201)

    seen = await _get(client, customer, ticket)
    history = await _timeline(client, customer, ticket)

    assert seen["view"] == "customer"
    assert (seen["resolution"]["labour_cost"], seen["resolution"]["material_cost"]) == (None, None)
    assert (seen["assignee"], seen["escalation_level"], seen["created_by"]) == (None, None, None)
    assert "客户情绪激动" not in str(history)
    assert "已安排上门" in [e["remark"] for e in history]
    assert all(e["visibility"] == "public" and e["payload"] is None for e in history)
    assert {e["actor"] for e in history} == {"service"}
    assert len(await _timeline(client, agent, ticket)) == len(history) + 1


async def test_nul_characters_in_comments_and_remarks_are_refused(client, auth, desk):
    ticket = await open_ticket(client, auth)
    agent = auth(Role.AGENT)

    comment = await client.post(f"/v1/tickets/{ticket['id']}/comments", json={"body": "a\u0000"}, headers=agent)
    remark = await act(client, agent, ticket, "claim", remark="\u0000")

    assert (comment.status_code, comment.json()["errors"][0]["pointer"]) == (422, "#/body")
    assert (remark.status_code, remark.json()["errors"][0]["pointer"]) == (422, "#/remark")
    assert len(await _timeline(client, agent, ticket)) == 1


async def test_a_reference_that_is_neither_uuid_nor_number_is_404(client, auth, desk):
    response = await client.get("/v1/tickets/not-a-ticket", headers=auth(Role.AGENT))

    assert (response.status_code, response.json()["code"]) == (404, "ticket_not_found")


async def test_a_customer_cannot_post_an_internal_note(client, auth, desk):
    ticket = await open_ticket(client, auth)

    response = await client.post(
        f"/v1/tickets/{ticket['id']}/comments",
        json={"body": "hi", "visibility": "internal"},
        headers=auth(Role.CUSTOMER),
    )

    assert (response.status_code, response.json()["errors"][0]["pointer"]) == (422, "#/visibility")


async def test_another_customers_ticket_answers_404_everywhere(client, auth, desk):
    ticket = await open_ticket(client, auth, customer_no="C-2")
    stranger = auth(Role.CUSTOMER)  # C-1

    answers = [
        await client.get(f"/v1/tickets/{ticket['id']}", headers=stranger),
        await client.get(f"/v1/tickets/{ticket['number']}/timeline", headers=stranger),
        await client.post(f"/v1/tickets/{ticket['id']}/comments", json={"body": "x"}, headers=stranger),
        await act(client, stranger, ticket, "urge"),
    ]

    assert [(a.status_code, a.json()["code"]) for a in answers] == [(404, "ticket_not_found")] * 4
    assert (await client.get("/v1/tickets", headers=stranger)).json()["items"] == []


async def test_a_customer_cancels_before_work_starts_but_not_after(client, auth, desk):
    customer = auth(Role.CUSTOMER)
    early, late = await open_ticket(client, auth), await open_ticket(client, auth)
    await act(client, auth(Role.AGENT), late, "claim")
    await act(client, auth(Role.AGENT), late, "start")

    cancelled = await act(client, customer, early, "cancel", reason="已自行解决")
    refused = await act(client, customer, late, "cancel")

    assert (cancelled.json()["status"], cancelled.json()["status_label"]) == ("cancelled", "已取消")
    assert (refused.status_code, refused.json()["current_state"]) == (409, "in_progress")


async def test_close_needs_a_known_reason(client, auth, desk):
    ticket = await open_ticket(client, auth)
    agent = auth(Role.AGENT)

    bad = await act(client, agent, ticket, "close", reason="bored")
    good = await act(client, agent, ticket, "close", reason="duplicate", duplicate_of="T-2026-000001")

    assert (bad.status_code, bad.json()["errors"][0]["pointer"]) == (422, "#/reason")
    assert (good.json()["status"], good.json()["close_reason"]) == ("closed", "duplicate")


async def test_an_unsatisfied_follow_up_returns_the_ticket_to_work(client, auth, desk):
    agent = auth(Role.AGENT)
    ticket = await open_ticket(client, auth)
    for action, body in (("claim", {}), ("start", {}), ("resolve", {"solution": "重启"})):
        await act(client, agent, ticket, action, **body)

    response = await act(client, agent, ticket, "follow_up", outcome="unsatisfied")

    assert response.json()["status"] == "in_progress"


async def test_escalation_raises_the_level_up_to_the_highest(client, auth, desk):
    agent = auth(Role.AGENT)
    ticket = await open_ticket(client, auth)

    levels = [(await act(client, agent, ticket, "escalate", reason="客户投诉升级")).json() for _ in range(4)]

    assert [level.get("escalation_level") for level in levels[:3]] == [1, 2, 3]
    assert levels[3]["code"] == "action_not_allowed"


async def test_urging_is_rate_limited_per_ticket(client, auth, desk):
    ticket = await open_ticket(client, auth)
    customer = auth(Role.CUSTOMER)

    first = await act(client, customer, ticket, "urge")
    second = await act(client, customer, ticket, "urge")

    assert (first.status_code, first.json()["urge_count"]) == (200, 1)
    assert (second.status_code, second.json()["code"]) == (429, "rate_limited")
    assert 0 < int(second.headers["retry-after"]) <= 600
    assert (await _get(client, customer, ticket))["urge_count"] == 1


async def test_every_third_urge_escalates(app_with, auth, client):
    from tests.conftest import client_for

    async with client_for(app_with(urge_min_interval_seconds=0)) as eager:
        await seed_service_desk(eager, auth)
        ticket = await open_ticket(eager, auth)

        answers = [(await act(eager, auth(Role.CUSTOMER), ticket, "urge")).json() for _ in range(3)]

    agent_view = await _get(client, auth(Role.AGENT), ticket)
    assert [a["urge_count"] for a in answers] == [1, 2, 3]
    assert agent_view["escalation_level"] == 1


async def test_patch_changes_editable_fields_under_if_match(client, auth, desk):
    ticket = await open_ticket(client, auth)
    agent = auth(Role.AGENT)

    changed = await client.patch(
        f"/v1/tickets/{ticket['id']}",
        json={"priority": "urgent", "tags": ["vip", "noise", "vip"]},
        headers={**agent, "If-Match": '"1"'},
    )
    stale = await client.patch(
        f"/v1/tickets/{ticket['id']}", json={"priority": "low"}, headers={**agent, "If-Match": '"1"'}
    )
    state = await client.patch(f"/v1/tickets/{ticket['id']}", json={"status": "completed"}, headers=agent)

    assert (changed.status_code, changed.json()["priority"], changed.json()["tags"]) == (
        200,
        "urgent",
        ["vip", "noise"],
    )
    assert stale.status_code == 412
    assert (state.status_code, state.json()["errors"][0]["pointer"]) == (422, "#/status")
    history = await _timeline(client, agent, ticket)
    assert history[-1]["payload"]["priority"] == {"from": "normal", "to": "urgent"}
    assert history[-1]["visibility"] == "internal"


async def test_a_finished_ticket_cannot_be_edited(client, auth, desk):
    ticket = await open_ticket(client, auth)
    await act(client, auth(Role.AGENT), ticket, "close", reason="invalid")

    response = await client.patch(f"/v1/tickets/{ticket['id']}", json={"priority": "low"}, headers=auth(Role.AGENT))

    assert (response.status_code, response.json()["code"]) == (409, "ticket_finished")


async def test_customers_cannot_patch(client, auth, desk):
    ticket = await open_ticket(client, auth)

    response = await client.patch(
        f"/v1/tickets/{ticket['id']}", json={"priority": "urgent"}, headers=auth(Role.CUSTOMER)
    )

    assert (response.status_code, response.json()["code"]) == (403, "role_not_allowed")


async def test_staff_scoped_to_a_business_line_do_not_see_other_lines(client, auth, desk):
    ticket = await open_ticket(client, auth)  # SKU-1 is product line "home"
    home, office = auth(Role.AGENT, business_lines=("home",)), auth(Role.AGENT, business_lines=("office",))

    assert (await client.get(f"/v1/tickets/{ticket['id']}", headers=home)).status_code == 200
    assert (await client.get(f"/v1/tickets/{ticket['id']}", headers=office)).status_code == 404
    assert (await client.get("/v1/tickets", headers=office)).json()["items"] == []


async def _finished(client, auth) -> dict:
    ticket = await open_ticket(client, auth)
    response = await act(client, auth(Role.AGENT), ticket, "close", reason="resolved_elsewhere")
    assert response.status_code == 200
    return ticket


async def test_a_customer_reopens_within_the_window_to_the_same_agent(timed_client, auth, clock, desk):
    ticket = await open_ticket(timed_client, auth)
    agent = auth(Role.AGENT)
    for action, body in (("claim", {}), ("start", {}), ("resolve", {"solution": "重启"}), ("complete", {})):
        assert (await act(timed_client, agent, ticket, action, **body)).status_code == 200
    clock.advance(timedelta(days=6))

    response = await act(timed_client, auth(Role.CUSTOMER), ticket, "reopen", reason="又响了")

    body = response.json()
    assert (response.status_code, body["status"], body["finished_at"]) == (200, "assigned", None)


async def test_reopening_after_the_window_is_refused(timed_client, auth, clock, desk):
    ticket = await _finished(timed_client, auth)
    clock.advance(timedelta(days=7, seconds=1))

    response = await act(timed_client, auth(Role.CUSTOMER), ticket, "reopen", reason="又响了")

    assert (response.status_code, response.json()["current_state"]) == (409, "closed")
    assert "within 7 days" in response.json()["detail"]


async def test_an_unassigned_ticket_reopens_into_the_pool(timed_client, auth, desk):
    ticket = await _finished(timed_client, auth)

    response = await act(timed_client, auth(Role.CUSTOMER), ticket, "reopen", reason="again")

    assert response.json()["status"] == "new"
