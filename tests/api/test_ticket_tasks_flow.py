"""A ticket and its tasks (seed 000) as callers see them: the buttons every view draws agree with what the action
accepts, a task given out on a new complaint assigns it, the last approved task resolves it, and the customer reads
a plain message in their language while the tasks' results stay internal."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from app.domain.principal import Role
from tests.factories import NOW, act, iso, open_ticket, seed_service_desk

DUE = iso(NOW + timedelta(days=2))
CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")


@pytest.fixture
async def desk(client, auth):
    await seed_service_desk(client, auth)


async def _give_task(client: httpx.AsyncClient, headers: dict[str, str], ticket: dict[str, Any], **body: Any) -> Any:
    body = {"title": "上门检修", "assignee": "agent-2", "due_at": DUE, **body}
    response = await client.post(f"/v1/tickets/{ticket['id']}/tasks", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def _task_act(client: httpx.AsyncClient, headers: dict[str, str], task: dict[str, Any], action: str, **body: Any):
    response = await client.post(f"/v1/tasks/{task['id']}/actions/{action}", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _finish_task(client: httpx.AsyncClient, auth: Any, task: dict[str, Any]) -> None:
    """The handler starts and reports; the manager approves the hours."""
    handler = auth(Role.AGENT, sub="agent-2")
    await _task_act(client, handler, task, "start")
    report = {"result": "更换风机，试机正常", "completed_at": iso(datetime.now(UTC)), "hours_worked": "1.50"}
    await _task_act(client, handler, task, "report", **report)
    await _task_act(client, auth(Role.MANAGER, sub="manager-1"), task, "approve")


def _actions(ticket: dict[str, Any]) -> list[str]:
    return [a["action"] for a in ticket["available_actions"]]


async def _every_view(client: httpx.AsyncClient, headers: dict[str, str], ticket: dict[str, Any]) -> list[list[str]]:
    """The ticket's buttons in its single read, the ticket list and my queue."""
    single = (await client.get(f"/v1/tickets/{ticket['id']}", headers=headers)).json()
    listed = (await client.get("/v1/tickets?limit=100", headers=headers)).json()["items"]
    mine = (await client.get("/v1/queues/mine?limit=100", headers=headers)).json()["items"]
    return [_actions(single), *(_actions(t) for t in (*listed, *mine) if t["id"] == ticket["id"])]


@contextmanager
def _statements(app: FastAPI) -> Iterator[list[str]]:
    """The SQL statements the app sends while the block runs."""
    seen: list[str] = []
    engine = app.state.services.database.engine.sync_engine

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


async def test_a_ticket_with_an_open_task_offers_resolve_in_no_view_until_the_task_is_done(client, auth, desk):
    agent = auth(Role.AGENT)
    ticket = await open_ticket(client, auth)
    for action in ("claim", "start"):
        await act(client, agent, ticket, action)
    task = await _give_task(client, agent, ticket)

    views = await _every_view(client, agent, ticket)
    refused = await act(client, agent, ticket, "resolve", solution="换机")

    assert len(views) == 3 and all(actions == views[0] for actions in views)
    assert "resolve" not in views[0]
    assert (refused.status_code, refused.json()["code"]) == (409, "tasks_unfinished")
    assert refused.json()["unfinished_tasks"] == [task["number"]]
    assert "resolve" not in refused.json()["allowed_actions"]
    await _task_act(client, agent, task, "cancel", reason="客户自行解决")
    assert all("resolve" in actions for actions in await _every_view(client, agent, ticket))


async def test_a_ticket_list_page_reads_its_tickets_tasks_in_one_query(app, client, auth, desk):
    agent = auth(Role.AGENT)
    for _ in range(4):
        ticket = await open_ticket(client, auth)
        await act(client, agent, ticket, "claim")
        await act(client, agent, ticket, "start")
        await _give_task(client, agent, ticket)

    with _statements(app) as seen:
        page = (await client.get("/v1/tickets?limit=10", headers=agent)).json()["items"]

    assert len(page) == 4 and not any("resolve" in _actions(t) for t in page)
    assert len([s for s in seen if re.search(r"\bFROM tasks\b", s)]) == 1


async def test_an_agent_at_capacity_is_offered_no_claim_and_claiming_says_why(client, auth, desk):
    admin = auth(Role.ADMIN)
    await client.put(
        "/v1/agents/agent-2", json={"name": "李工", "roles": ["agent"], "max_open_tickets": 1}, headers=admin
    )
    agent2 = auth(Role.AGENT, sub="agent-2")
    first, second = await open_ticket(client, auth), await open_ticket(client, auth)
    assert "claim" in _actions((await client.get(f"/v1/tickets/{second['id']}", headers=agent2)).json())
    await act(client, agent2, first, "claim")

    pool = (await client.get("/v1/queues/pool", headers=agent2)).json()["items"]
    single = (await client.get(f"/v1/tickets/{second['id']}", headers=agent2)).json()
    refused = await act(client, agent2, second, "claim")

    assert "claim" not in _actions(single) and all("claim" not in _actions(t) for t in pool)
    assert (refused.status_code, refused.json()["code"]) == (409, "agent_at_capacity")


async def test_a_task_given_out_on_a_new_complaint_assigns_it_and_the_last_approval_resolves_it(client, auth, desk):
    manager = auth(Role.MANAGER, sub="manager-1")
    ticket = await open_ticket(client, auth, type="complaint")

    task = await _give_task(client, manager, ticket)

    assigned = (await client.get(f"/v1/tickets/{ticket['id']}", headers=manager)).json()
    assert (assigned["status"], assigned["assignee"]) == ("assigned", "agent-2")
    timeline = (await client.get(f"/v1/tickets/{ticket['id']}/timeline?limit=100", headers=manager)).json()["items"]
    moves = [(e["action"], e["actor"], e["from_status"], e["to_status"]) for e in timeline if e["kind"] == "action"]
    assert moves == [("assign", "manager-1", "new", "assigned")]

    await _finish_task(client, auth, task)

    resolved = (await client.get(f"/v1/tickets/{ticket['id']}", headers=manager)).json()
    assert resolved["status"] == "pending_follow_up"
    timeline = (await client.get(f"/v1/tickets/{ticket['id']}/timeline?limit=100", headers=manager)).json()["items"]
    moves = [(e["action"], e["actor"], e["to_status"]) for e in timeline if e["kind"] == "action"]
    assert moves[1:] == [("start", "system", "in_progress"), ("resolve", "system", "pending_follow_up")]


async def test_a_task_given_out_to_a_group_leaves_an_unassigned_ticket_in_the_pool(client, auth, desk):
    manager = auth(Role.MANAGER, sub="manager-1")
    ticket = await open_ticket(client, auth)

    await _give_task(client, manager, ticket, assignee=None, group_key="east")

    assert (await client.get(f"/v1/tickets/{ticket['id']}", headers=manager)).json()["status"] == "new"


async def test_the_customer_reads_a_ticket_its_tasks_resolved_in_their_language_without_the_tasks_results(
    client, auth, desk
):
    manager = auth(Role.MANAGER, sub="manager-1")
    ticket = await open_ticket(client, auth, type="complaint")
    task = await _give_task(client, manager, ticket)
    await _finish_task(client, auth, task)
    customer = auth(Role.CUSTOMER)

    answers = {}
    for language in ("zh-CN", "en"):
        headers = {**customer, "Accept-Language": language}
        read = (await client.get(f"/v1/tickets/{ticket['id']}", headers=headers)).json()
        entries = (await client.get(f"/v1/tickets/{ticket['id']}/timeline?limit=100", headers=headers)).json()
        answers[language] = (read, entries["items"])

    zh, _ = answers["zh-CN"]
    en, en_timeline = answers["en"]
    assert zh["resolution"]["solution"] == "您的问题已处理完成。"
    assert en["resolution"]["solution"] == "Your issue has been resolved."
    assert zh["resolution"]["internal_note"] is None and en["resolution"]["internal_note"] is None
    for read, timeline in answers.values():
        shown = [read["resolution"], read["customer_status"], read["status_label"], timeline]
        assert task["number"] not in str(shown) and "更换风机" not in str(shown)
        assert all(e["visibility"] == "public" and e["payload"] is None for e in timeline)
    english = [en["resolution"]["solution"], en["status_label"], en["customer_status"]["label"]]
    english += [en["customer_status"]["message"], *(e["to_status_label"] for e in en_timeline)]
    english += [e["remark"] for e in en_timeline]
    assert not [text for text in english if text and CJK.search(text)]
    staff = (await client.get(f"/v1/tickets/{ticket['id']}", headers=manager)).json()
    assert task["number"] in staff["resolution"]["internal_note"] and "更换风机" in staff["resolution"]["internal_note"]


async def test_task_buttons_agree_between_the_list_and_the_single_read(client, auth, desk):
    agent = auth(Role.AGENT)
    ticket = await open_ticket(client, auth)
    for action in ("claim", "start"):
        await act(client, agent, ticket, action)
    parent = await _give_task(client, agent, ticket)
    await _give_task(client, agent, ticket, title="备件", parent_id=parent["id"])
    group_task = await _give_task(client, agent, ticket, assignee=None, group_key="east", title="组任务")
    handler = auth(Role.AGENT, sub="agent-2")
    await _task_act(client, handler, parent, "start")
    outsider = auth(Role.MANAGER, sub="manager-9")  # not a registered agent: takes no tasks
    reviewer = auth(Role.REVIEWER)

    for headers in (agent, handler, outsider, reviewer):
        listed = (await client.get(f"/v1/tasks?ticket_id={ticket['id']}", headers=headers)).json()["items"]
        for item in listed:
            single = (await client.get(f"/v1/tasks/{item['id']}", headers=headers)).json()
            assert _actions(item) == _actions(single), (item["title"], headers)
    parent_buttons = _actions((await client.get(f"/v1/tasks/{parent['id']}", headers=handler)).json())
    assert "report" not in parent_buttons  # its subtask is still open
    group_buttons = _actions((await client.get(f"/v1/tasks/{group_task['id']}", headers=outsider)).json())
    assert "claim" not in group_buttons


async def test_the_task_workflow_is_listed_described_and_drawn(client, auth):
    headers = {**auth(Role.AGENT), "Accept-Language": "en"}

    listed = (await client.get("/v1/workflows", headers=headers)).json()
    described = await client.get("/v1/workflows/task", headers=headers)
    drawn = await client.get("/v1/workflows/task?format=mermaid", headers=headers)

    assert {"name": "task", "title": "Task"} in listed
    assert described.status_code == 200
    assert {s["name"] for s in described.json()["states"]} == {
        "open",
        "in_progress",
        "reported",
        "approved",
        "cancelled",
    }
    report = next(t for t in described.json()["transitions"] if t["action"] == "report")
    assert {"result", "completed_at", "hours_worked"} <= set(report["payload_schema"]["required"])
    assert drawn.text.startswith("stateDiagram-v2\n    [*] --> open\n")
    assert "    in_progress --> reported: report" in drawn.text.splitlines()


async def test_a_ticket_just_urged_offers_no_urge_and_urging_again_says_when(client, auth, desk):
    customer = auth(Role.CUSTOMER)
    ticket = await open_ticket(client, auth)
    assert "urge" in _actions((await client.get(f"/v1/tickets/{ticket['id']}", headers=customer)).json())
    await act(client, customer, ticket, "urge")

    single = (await client.get(f"/v1/tickets/{ticket['id']}", headers=customer)).json()
    listed = (await client.get("/v1/tickets", headers=customer)).json()["items"]
    again = await act(client, customer, ticket, "urge")

    assert "urge" not in _actions(single) and "urge" not in _actions(listed[0])
    assert (again.status_code, again.json()["code"]) == (429, "rate_limited")
    assert int(again.headers["Retry-After"]) > 0
