"""Tasks (任务单) end to end: given out on a ticket, reported with hours, approved (or returned) by the designated
approver, archived on time or overdue; the ticket resolves itself when the last task is approved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import func, select

from app.domain.principal import Role
from app.persistence.tables import approvals, tasks
from tests.factories import NOW, act, iso, open_ticket, put, seed_service_desk

DUE = iso(NOW + timedelta(days=2))


@pytest.fixture
async def desk(client, auth):
    await seed_service_desk(client, auth)


async def started_ticket(client: httpx.AsyncClient, auth: Any, **overrides: Any) -> dict[str, Any]:
    """A ticket agent-1 has claimed and started."""
    ticket = await open_ticket(client, auth, **overrides)
    for action in ("claim", "start"):
        response = await act(client, auth(Role.AGENT), ticket, action)
        assert response.status_code == 200, response.text
    return response.json()


async def give_task(client, auth, ticket, **overrides: Any) -> httpx.Response:
    body = {"title": "上门检修", "assignee": "agent-2", "due_at": DUE, **overrides}
    return await client.post(f"/v1/tickets/{ticket['id']}/tasks", json=body, headers=auth(Role.AGENT))


async def task_act(client, headers, task, action: str, **body: Any) -> httpx.Response:
    return await client.post(f"/v1/tasks/{task['id']}/actions/{action}", json=body, headers=headers)


def report_body(**overrides: Any) -> dict[str, Any]:
    return {
        "result": "更换风机，试机正常",
        "completed_at": iso(datetime.now(UTC)),
        "hours_worked": "3.5",
        **overrides,
    }


async def reported_task(client, auth, ticket, **report: Any) -> dict[str, Any]:
    task = (await give_task(client, auth, ticket)).json()
    handler = auth(Role.AGENT, sub="agent-2")
    assert (await task_act(client, handler, task, "start")).status_code == 200
    response = await task_act(client, handler, task, "report", **report_body(**report))
    assert response.status_code == 200, response.text
    return response.json()


async def count(app, table, *where) -> int:
    async with app.state.services.database.engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(table).where(*where))).scalar_one()


async def test_a_task_is_reported_approved_archived_and_resolves_its_ticket(client, auth, desk):
    ticket = await started_ticket(client, auth)
    created = await give_task(client, auth, ticket, estimated_hours="2.5")
    assert created.status_code == 201, created.text
    task = created.json()
    assert task["number"].startswith("TK-") and task["status"] == "open" and task["estimated_hours"] == "2.50"
    handler = auth(Role.AGENT, sub="agent-2")
    assert [
        a["action"]
        for a in (await client.get(f"/v1/tasks/{task['number']}", headers=handler)).json()["available_actions"]
    ] == ["start"]

    await task_act(client, handler, task, "start")
    reported = (await task_act(client, handler, task, "report", **report_body())).json()
    assert reported["status"] == "reported" and reported["reported_hours"] == "3.50"
    approval = reported["approval"]
    assert approval["status"] == "pending" and approval["pending_approvers"] == ["role:manager"]

    manager = auth(Role.MANAGER)
    waiting = (await client.get("/v1/approvals", headers=manager)).json()["items"]
    assert [a["subject_ref"] for a in waiting] == [task["number"]]
    decided = await client.post(
        f"/v1/approvals/{approval['id']}/decision",
        json={"decision": "approve", "comment": "核实", "approved_hours": "3"},
        headers=manager,
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved"

    archived = (await client.get(f"/v1/tasks/{task['id']}", headers=manager)).json()
    assert archived["status"] == "approved" and archived["outcome"] == "on_time"
    assert (archived["reported_hours"], archived["approved_hours"], archived["approved_by"]) == (
        "3.50",
        "3.00",
        "manager-1",
    )
    resolved = (await client.get(f"/v1/tickets/{ticket['id']}", headers=manager)).json()
    assert resolved["status"] == "pending_follow_up"
    assert resolved["resolution"]["solution"] == "您的问题已处理完成。"
    assert "更换风机" in resolved["resolution"]["internal_note"]
    timeline = (await client.get(f"/v1/tickets/{ticket['id']}/timeline?limit=100", headers=manager)).json()["items"]
    assert [e["action"] for e in timeline if e["kind"] == "task"] == [
        "task_create",
        "task_start",
        "task_report",
        "task_approve",
    ]
    assert timeline[-1]["action"] == "resolve" and timeline[-1]["actor"] == "system"


async def test_a_ticket_cannot_be_resolved_while_a_task_is_unfinished(client, auth, desk):
    ticket = await started_ticket(client, auth)
    task = (await give_task(client, auth, ticket)).json()
    agent = auth(Role.AGENT)
    shown = (await client.get(f"/v1/tickets/{ticket['id']}", headers=agent)).json()
    assert "resolve" not in [a["action"] for a in shown["available_actions"]]

    refused = await act(client, agent, ticket, "resolve", solution="换机")

    assert refused.status_code == 409
    assert refused.json()["code"] == "tasks_unfinished"
    assert refused.json()["unfinished_tasks"] == [task["number"]]
    await task_act(client, agent, task, "cancel", reason="客户自行解决")
    assert (await act(client, agent, ticket, "resolve", solution="换机")).status_code == 200


async def test_returned_hours_go_back_to_the_handler_and_a_new_report_asks_again(app, client, auth, desk):
    ticket = await started_ticket(client, auth)
    task = await reported_task(client, auth, ticket)
    manager = auth(Role.MANAGER)

    returned = await task_act(client, manager, task, "return", reason="工时偏高，请核实")

    assert returned.status_code == 200, returned.text
    assert returned.json()["status"] == "in_progress" and returned.json()["return_count"] == 1
    assert returned.json()["approval"] is None
    again = await task_act(client, auth(Role.AGENT, sub="agent-2"), task, "report", **report_body(hours_worked="2"))
    assert again.json()["approval"]["status"] == "pending"
    assert await count(app, approvals, approvals.c.subject_id == UUID(task["id"])) == 2


async def test_bad_task_and_report_input_is_refused_and_writes_nothing(app, client, auth, desk):
    ticket = await started_ticket(client, auth)
    await put(client, auth(Role.ADMIN), "/v1/agents/agent-9", {"name": "离职", "roles": ["agent"], "active": False})
    before = await count(app, tasks)
    cases = [
        ({"due_at": iso(NOW - timedelta(hours=1))}, "/due_at"),
        ({"assignee": "agent-9"}, "/assignee"),
        ({"assignee": "nobody"}, "/assignee"),
        ({"assignee": None}, "/assignee"),
        ({"group_key": "no-such-group"}, "/group_key"),
        ({"parent_id": ticket["id"]}, "/parent_id"),
    ]
    for overrides, pointer in cases:
        refused = await give_task(client, auth, ticket, **overrides)
        assert refused.status_code == 422, (overrides, refused.text)
        assert f"#{pointer}" in [e["pointer"] for e in refused.json()["errors"]], refused.json()
    assert await count(app, tasks) == before

    task = (await give_task(client, auth, ticket)).json()
    handler = auth(Role.AGENT, sub="agent-2")
    await task_act(client, handler, task, "start")
    bad_reports = [
        (report_body(hours_worked="-1"), "/hours_worked"),
        (report_body(hours_worked="0"), "/hours_worked"),
        (report_body(hours_worked="30"), "/hours_worked"),
        (report_body(hours_worked="1.234"), "/hours_worked"),
        (report_body(hours_worked=3.5), "/hours_worked"),  # hours are a decimal string, never a JSON number
        (report_body(hours_worked="1e1"), "/hours_worked"),
        (report_body(completed_at=iso(NOW - timedelta(days=1))), "/completed_at"),
        (report_body(completed_at=iso(NOW + timedelta(days=1))), "/completed_at"),
        (report_body(result=""), "/result"),
        (report_body(surprise=1), "/surprise"),
    ]
    for body, pointer in bad_reports:
        refused = await task_act(client, handler, task, "report", **body)
        assert refused.status_code == 422, (body, refused.text)
        assert f"#{pointer}" in [e["pointer"] for e in refused.json()["errors"]], refused.json()
    current = (await client.get(f"/v1/tasks/{task['id']}", headers=handler)).json()
    assert current["status"] == "in_progress" and current["version"] == task["version"] + 1
    assert await count(app, approvals) == 0


async def test_only_the_designated_approver_decides_and_only_once(client, auth, desk):
    ticket = await started_ticket(client, auth)
    task = await reported_task(client, auth, ticket)
    approval_id = task["approval"]["id"]
    handler, other_agent, manager = auth(Role.AGENT, sub="agent-2"), auth(Role.AGENT), auth(Role.MANAGER)

    own = await task_act(client, handler, task, "approve")
    assert own.status_code == 403 and own.json()["code"] == "self_approval"
    stranger = await client.post(
        f"/v1/approvals/{approval_id}/decision", json={"decision": "approve"}, headers=other_agent
    )
    assert stranger.status_code == 403 and stranger.json()["code"] == "not_an_approver"
    no_reason = await client.post(f"/v1/approvals/{approval_id}/decision", json={"decision": "reject"}, headers=manager)
    assert no_reason.status_code == 422
    too_many = await task_act(client, manager, task, "approve", approved_hours="50")
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["pointer"] == "#/approved_hours"

    assert (await task_act(client, manager, task, "approve")).status_code == 200
    twice = await client.post(f"/v1/approvals/{approval_id}/decision", json={"decision": "approve"}, headers=manager)
    assert twice.status_code == 409 and twice.json()["code"] == "approval_closed"
    unknown = await client.post(
        "/v1/approvals/00000000-0000-7000-8000-000000000000/decision", json={"decision": "approve"}, headers=manager
    )
    assert unknown.status_code == 404


async def test_an_all_of_level_waits_for_everyone_then_the_next_level_decides(client, auth, desk):
    admin, manager = auth(Role.ADMIN), auth(Role.MANAGER)
    await put(client, admin, "/v1/agents/agent-3", {"name": "赵工", "roles": ["agent"], "active": True})
    chain = {
        "levels": [
            {"name": "会签", "approvers": "user", "ids": ["agent-1", "agent-3"], "mode": "all"},
            {"name": "经理", "approvers": "role", "ids": ["manager"]},
        ]
    }
    saved = await client.put("/v1/settings/approval-chains/task_hours", json=chain, headers=manager)
    assert saved.status_code == 200, saved.text
    ticket = await started_ticket(client, auth)
    task = await reported_task(client, auth, ticket)
    assert task["approval"]["pending_approvers"] == ["agent-1", "agent-3"]
    first, second = auth(Role.AGENT), auth(Role.AGENT, sub="agent-3")

    assert (await task_act(client, first, task, "approve", comment="同意")).json()["status"] == "reported"
    repeat = await task_act(client, first, task, "approve")
    assert repeat.status_code == 409 and repeat.json()["code"] == "already_decided"
    assert (await client.get("/v1/approvals", headers=manager)).json()["items"] == []
    level_two = (await task_act(client, second, task, "approve")).json()
    assert level_two["status"] == "reported" and level_two["approval"]["current_level"] == 1
    assert len((await client.get("/v1/approvals", headers=manager)).json()["items"]) == 1

    final = await task_act(client, manager, task, "approve")
    assert final.json()["status"] == "approved"
    votes = (await client.get(f"/v1/approvals/{task['approval']['id']}", headers=manager)).json()["votes"]
    assert [(v["approver"], v["decision"]) for v in votes] == [
        ("agent-1", "approve"),
        ("agent-3", "approve"),
        ("role:manager", "approve"),
    ]


async def test_rejection_at_the_first_level_ends_the_chain(client, auth, desk):
    chain = {
        "levels": [
            {"name": "主管", "approvers": "supervisor"},
            {"name": "经理", "approvers": "role", "ids": ["manager"]},
        ]
    }
    await client.put("/v1/settings/approval-chains/task_hours", json=chain, headers=auth(Role.ADMIN))
    ticket = await started_ticket(client, auth)
    task = await reported_task(client, auth, ticket)
    manager = auth(Role.MANAGER)

    rejected = await client.post(
        f"/v1/approvals/{task['approval']['id']}/decision",
        json={"decision": "reject", "comment": "请补充照片"},
        headers=manager,
    )

    assert rejected.json()["status"] == "rejected"
    after = (await client.get(f"/v1/tasks/{task['id']}", headers=manager)).json()
    assert after["status"] == "in_progress" and after["approval"] is None


async def test_chain_settings_are_validated_and_guarded(client, auth, desk):
    manager = auth(Role.MANAGER)
    current = await client.get("/v1/settings/approval-chains/after_sales_review", headers=manager)
    assert current.status_code == 200 and current.json()["version"] == 0
    assert current.json()["levels"][1]["above_amount"] == 100000
    bad = [
        {"levels": [{"name": "x", "approvers": "role", "ids": ["manager"], "mode": "all"}]},
        {"levels": [{"name": "x", "approvers": "role", "ids": ["customer"]}]},
        {"levels": [{"name": "x", "approvers": "user"}]},
        {"levels": [{"name": "x", "approvers": "supervisor", "ids": ["a"]}]},
        {"levels": [{"name": "x", "approvers": "boss"}]},
        {"levels": [], "extra": 1},
    ]
    for body in bad:
        response = await client.put("/v1/settings/approval-chains/task_hours", json=body, headers=manager)
        assert response.status_code == 422, (body, response.text)
    ok = {"levels": [{"name": "经理", "approvers": "role", "ids": ["manager"]}]}
    assert (
        await client.put("/v1/settings/approval-chains/task_hours", json=ok, headers=auth(Role.AGENT))
    ).status_code == 403
    first = await client.put("/v1/settings/approval-chains/task_hours", json=ok, headers=manager)
    assert first.status_code == 200 and first.json()["version"] == 1
    stale = await client.put("/v1/settings/approval-chains/task_hours", json=ok, headers={**manager, "If-Match": '"0"'})
    assert stale.status_code == 412
    assert (await client.get("/v1/settings/approval-chains/nope", headers=manager)).status_code == 422


async def test_subtasks_block_their_parent_and_closed_tasks_take_no_report(client, auth, desk):
    ticket = await started_ticket(client, auth)
    parent = (await give_task(client, auth, ticket)).json()
    child = (await give_task(client, auth, ticket, parent_id=parent["id"], title="取备件")).json()
    handler = auth(Role.AGENT, sub="agent-2")
    await task_act(client, handler, parent, "start")

    blocked = await task_act(client, handler, parent, "report", **report_body())
    assert blocked.status_code == 409 and child["number"] in blocked.json()["detail"]
    subtasks = (await client.get(f"/v1/tasks?parent_id={parent['id']}", headers=handler)).json()["items"]
    assert [t["number"] for t in subtasks] == [child["number"]]

    await task_act(client, auth(Role.AGENT), child, "cancel", reason="不需要")
    late = await task_act(client, handler, child, "report", **report_body())
    assert late.status_code == 409 and late.json()["current_state"] == "cancelled"
    assert (await task_act(client, handler, parent, "report", **report_body())).status_code == 200


async def test_group_tasks_are_claimed_by_members_only(client, auth, desk):
    ticket = await started_ticket(client, auth)
    task = (await give_task(client, auth, ticket, assignee=None, group_key="east")).json()
    await put(client, auth(Role.ADMIN), "/v1/agents/agent-7", {"name": "外组", "roles": ["agent"], "groups": []})

    outsider = await task_act(client, auth(Role.AGENT, sub="agent-7"), task, "claim")
    assert outsider.status_code == 403
    assert (await task_act(client, auth(Role.AGENT, sub="agent-2"), task, "start")).status_code == 409
    claimed = await task_act(client, auth(Role.AGENT, sub="agent-2"), task, "claim")
    assert claimed.status_code == 200 and claimed.json()["assignee"] == "agent-2"


async def test_task_lists_filter_and_page(client, auth, desk):
    ticket = await started_ticket(client, auth)
    for n in range(3):
        await give_task(client, auth, ticket, title=f"任务{n}", due_at=iso(NOW + timedelta(hours=n + 1)))
    agent2 = auth(Role.AGENT, sub="agent-2")
    mine = (await client.get("/v1/tasks?assignee=me&limit=2", headers=agent2)).json()
    assert len(mine["items"]) == 2 and mine["next_cursor"]
    rest = (await client.get(f"/v1/tasks?assignee=me&limit=2&cursor={mine['next_cursor']}", headers=agent2)).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    soon = (
        await client.get(
            f"/v1/tasks?due_before={iso(NOW + timedelta(hours=2, minutes=30))}".replace("+", "%2B"), headers=agent2
        )
    ).json()["items"]
    assert [t["title"] for t in soon] == ["任务0", "任务1"]
    assert (await client.get("/v1/tasks?status=bogus", headers=agent2)).status_code == 422
    assert (await client.get("/v1/tasks?cursor=!!", headers=agent2)).status_code == 422
    for foreign in (mine["next_cursor"], "W10"):  # a task cursor, and an empty key: not a cursor of these lists
        answer = await client.get(f"/v1/tickets?sort=updated&cursor={foreign}", headers=agent2)
        assert (answer.status_code, answer.json()["code"]) == (422, "invalid_cursor")
    assert (await client.get(f"/v1/tasks?ticket_id={ticket['id']}&overdue=true", headers=agent2)).json()["items"] == []


async def test_customers_never_see_tasks_and_integrations_only_read_them(client, auth, desk):
    ticket = await started_ticket(client, auth)
    task = (await give_task(client, auth, ticket)).json()
    customer, erp = auth(Role.CUSTOMER), auth(Role.INTEGRATION)
    assert (await client.get("/v1/tasks", headers=customer)).status_code == 403
    assert (await client.get(f"/v1/tasks/{task['id']}", headers=customer)).status_code == 403
    assert (await give_task(client, lambda role, **kw: customer, ticket)).status_code == 403
    assert (await client.get(f"/v1/tasks/{task['id']}", headers=erp)).status_code == 200
    assert (await task_act(client, erp, task, "start")).status_code == 403
    assert (await client.get("/v1/tasks/TK-2026-999999", headers=erp)).status_code == 404
    assert (await client.get("/v1/tasks/not-a-task", headers=erp)).status_code == 404
    customer_view = (await client.get(f"/v1/tickets/{ticket['id']}/timeline", headers=customer)).json()["items"]
    assert all(entry["kind"] != "task" for entry in customer_view)
    reviewer = auth(Role.REVIEWER)
    assert (await give_task(client, lambda role, **kw: reviewer, ticket)).status_code == 403
    assert (await give_task(client, lambda role, **kw: auth(Role.AGENT, sub="agent-2"), ticket)).status_code == 403


async def test_work_hours_report_compares_reported_and_approved_hours(client, auth, desk):
    ticket = await started_ticket(client, auth)
    task = await reported_task(client, auth, ticket)
    manager = auth(Role.MANAGER)
    await task_act(client, manager, task, "approve", approved_hours="3")

    report = (await client.get("/v1/reports/work-hours", headers=manager)).json()

    assert report["items"] == [
        {
            "assignee": "agent-2",
            "tasks": 1,
            "reported_hours": "3.50",
            "approved_hours": "3.00",
            "approved_tasks": 1,
            "on_time": 1,
            "overdue": 0,
            "on_time_rate": 1.0,
        }
    ]
    agent2 = auth(Role.AGENT, sub="agent-2")
    assert len((await client.get("/v1/reports/work-hours", headers=agent2)).json()["items"]) == 1
    assert (await client.get("/v1/reports/work-hours", headers=auth(Role.AGENT))).json()["items"] == []
    assert (await client.get("/v1/reports/work-hours?assignee=agent-2", headers=auth(Role.AGENT))).status_code == 403
    bad = await client.get("/v1/reports/work-hours?from=2026-01-01T00:00:00Z&to=2025-01-01T00:00:00Z", headers=manager)
    assert bad.status_code == 422
    assert (await client.get("/v1/reports/work-hours", headers=auth(Role.CUSTOMER))).status_code == 403


async def test_closing_a_ticket_cancels_its_unfinished_tasks_and_their_approvals(client, auth, desk):
    ticket = await started_ticket(client, auth)
    reported = await reported_task(client, auth, ticket)
    waiting = (await give_task(client, auth, ticket, title="回访")).json()
    manager = auth(Role.MANAGER)

    closed = await act(client, manager, ticket, "close", reason="duplicate")

    assert closed.status_code == 200, closed.text
    for task in (reported, waiting):
        after = (await client.get(f"/v1/tasks/{task['id']}", headers=manager)).json()
        assert (after["status"], after["cancel_reason"]) == ("cancelled", f"ticket {ticket['number']} closed")
    approval = (await client.get(f"/v1/approvals/{reported['approval']['id']}", headers=manager)).json()
    assert approval["status"] == "cancelled"
    assert (await client.get("/v1/approvals", headers=manager)).json()["items"] == []
