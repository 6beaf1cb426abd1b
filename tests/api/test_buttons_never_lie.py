"""Buttons never lie, for tickets and tasks: in every state the API lets callers reach, each caller's single read and
every list view offer the same actions, and each offered action, sent with a minimal valid body, is accepted."""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.domain.principal import Role
from tests.buttons import Step, walk
from tests.factories import NOW, iso, seed_service_desk, ticket_body

FINISHED = ("completed", "closed", "cancelled")
TASK_DUE = iso(NOW + timedelta(days=2))


@pytest.fixture
async def desk(client, auth):
    await seed_service_desk(client, auth)


@pytest.fixture
def quiet() -> Iterator[None]:
    """A walk sends about two thousand requests: log warnings only while it runs (a sixth of its time otherwise)."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.WARNING)
    yield
    root.setLevel(level)


def _callers(auth: Any) -> dict[str, dict[str, str]]:
    return {
        "customer": auth(Role.CUSTOMER),
        "agent-1": auth(Role.AGENT),
        "agent-2": auth(Role.AGENT, sub="agent-2"),
        "manager-1": auth(Role.MANAGER),
        "reviewer-1": auth(Role.REVIEWER),
        "admin-1": auth(Role.ADMIN),
        "integration-1": auth(Role.INTEGRATION),
    }


async def _found(response: httpx.Response, obj: dict[str, Any]) -> list[dict[str, Any]]:
    if response.status_code != 200:
        return []
    return [item for item in response.json()["items"] if item["id"] == obj["id"]]


@dataclass
class TicketDriver:
    """Tickets of customer C-1, opened by agent-1; setup steps give a task out to agent-2 and see it through (seed
    000). The driver remembers each ticket's latest answer and its unfinished tasks, so states cost no reads."""

    client: httpx.AsyncClient
    headers: dict[str, dict[str, str]]
    actors: tuple[str, ...] = ("customer", "agent-1", "agent-2", "manager-1", "reviewer-1", "admin-1", "integration-1")
    latest: dict[str, dict[str, Any]] = field(default_factory=dict)
    open_tasks: dict[str, list[str]] = field(default_factory=dict)

    async def create(self) -> dict[str, Any]:
        response = await self.client.post("/v1/tickets", json=ticket_body(), headers=self.headers["agent-1"])
        assert response.status_code == 201, response.text
        ticket = response.json()
        self.latest[ticket["id"]], self.open_tasks[ticket["id"]] = ticket, []
        return ticket

    async def perform(self, obj: dict[str, Any], step: Step) -> httpx.Response:
        ticket_id = obj["id"]
        if step.action == "give_task":
            body = {"title": "上门检修", "assignee": "agent-2", "due_at": TASK_DUE}
            answer = await self.client.post(
                f"/v1/tickets/{ticket_id}/tasks", json=body, headers=self.headers[step.actor]
            )
            if answer.is_success:
                self.open_tasks[ticket_id].append(answer.json()["id"])
        elif step.action == "finish_tasks":
            answer = await self._finish_tasks(ticket_id)
        else:
            path = f"/v1/tickets/{ticket_id}/actions/{step.action}"
            answer = await self.client.post(path, json=step.body(), headers=self.headers[step.actor])
            if answer.is_success:
                self.latest[ticket_id] = answer.json()
        if answer.is_success and (step.setup or step.actor == "customer"):  # the customer's view hides the assignee
            self.latest[ticket_id] = await self.read(obj, "manager-1") or {}
        if self.latest[ticket_id]["status"] in FINISHED:
            self.open_tasks[ticket_id] = []  # a finished ticket cancels its tasks
        return answer

    async def _finish_tasks(self, ticket_id: str) -> httpx.Response:
        """The handler starts and reports each task given out, the manager approves its hours."""
        handler, manager = self.headers["agent-2"], self.headers["manager-1"]
        answer = httpx.Response(200)
        for task_id in self.open_tasks[ticket_id]:
            for action in ("start", "report", "approve"):
                body = {"result": "已修复", "hours_worked": "1", "completed_at": iso(datetime.now(UTC))}
                who = manager if action == "approve" else handler
                path = f"/v1/tasks/{task_id}/actions/{action}"
                answer = await self.client.post(path, json=body if action == "report" else {}, headers=who)
                if not answer.is_success:
                    return answer
        self.open_tasks[ticket_id] = []
        return answer

    async def read(self, obj: dict[str, Any], actor: str) -> dict[str, Any] | None:
        response = await self.client.get(f"/v1/tickets/{obj['id']}", headers=self.headers[actor])
        return response.json() if response.status_code == 200 else None

    async def listed(self, obj: dict[str, Any], actor: str, single: dict[str, Any]) -> list[dict[str, Any]]:
        """The ticket list of its state (latest change first: the walked ticket is among the last changed) and my
        queue."""
        headers = self.headers[actor]
        path = f"/v1/tickets?status={single['status']}&sort=updated&limit=30"
        views = await _found(await self.client.get(path, headers=headers), obj)
        assert views, f"{actor} reads ticket {obj['number']} but does not find it in {path}"
        return views + await _found(await self.client.get("/v1/queues/mine?limit=30", headers=headers), obj)

    def known(self, actor: str, action: str) -> Mapping[str, Any]:
        return {"assignee": "agent-2", "group": "east"}

    async def state(self, obj: dict[str, Any]) -> Hashable:
        current = self.latest[obj["id"]]
        return (current["status"], current["assignee"] is not None, bool(self.open_tasks[obj["id"]]))

    async def setup_steps(self, obj: dict[str, Any]) -> list[Step]:
        if self.latest[obj["id"]]["status"] in FINISHED:
            return []
        if self.open_tasks[obj["id"]]:
            return [Step("manager-1", "finish_tasks", setup=True)]
        return [Step("manager-1", "give_task", setup=True)]


@dataclass
class TaskDriver:
    """Tasks of group `east` (not yet anyone's) on one ticket agent-1 works; agent-2 is a member of the group."""

    client: httpx.AsyncClient
    headers: dict[str, dict[str, str]]
    actors: tuple[str, ...] = ("agent-1", "agent-2", "manager-1", "reviewer-1", "admin-1", "integration-1")
    ticket: dict[str, Any] = field(default_factory=dict)
    latest: dict[str, dict[str, Any]] = field(default_factory=dict)

    async def create(self) -> dict[str, Any]:
        agent = self.headers["agent-1"]
        if not self.ticket:
            created = await self.client.post("/v1/tickets", json=ticket_body(), headers=agent)
            self.ticket = created.json()
            for action in ("claim", "start"):
                path = f"/v1/tickets/{self.ticket['id']}/actions/{action}"
                started = await self.client.post(path, json={}, headers=agent)
                assert started.status_code == 200, started.text
        body = {"title": "上门检修", "group_key": "east", "due_at": TASK_DUE}
        response = await self.client.post(f"/v1/tickets/{self.ticket['id']}/tasks", json=body, headers=agent)
        assert response.status_code == 201, response.text
        return response.json()

    async def perform(self, obj: dict[str, Any], step: Step) -> httpx.Response:
        path = f"/v1/tasks/{obj['id']}/actions/{step.action}"
        answer = await self.client.post(path, json=step.body(), headers=self.headers[step.actor])
        if answer.is_success:
            self.latest[obj["id"]] = answer.json()
        return answer

    async def read(self, obj: dict[str, Any], actor: str) -> dict[str, Any] | None:
        response = await self.client.get(f"/v1/tasks/{obj['id']}", headers=self.headers[actor])
        return response.json() if response.status_code == 200 else None

    async def listed(self, obj: dict[str, Any], actor: str, single: dict[str, Any]) -> list[dict[str, Any]]:
        """The ticket's tasks and my tasks (one page holds every task of the walk)."""
        headers = self.headers[actor]
        path = f"/v1/tasks?ticket_id={obj['ticket_id']}&limit=100"
        views = await _found(await self.client.get(path, headers=headers), obj)
        assert views, f"{actor} reads task {obj['number']} but does not find it in {path}"
        return views + await _found(await self.client.get("/v1/tasks?assignee=me&limit=100", headers=headers), obj)

    def known(self, actor: str, action: str) -> Mapping[str, Any]:
        return {"assignee": "agent-2"}

    async def state(self, obj: dict[str, Any]) -> Hashable:
        current = self.latest.get(obj["id"], obj)
        return (current["status"], current["assignee"] is not None, current["return_count"] > 0)

    async def setup_steps(self, obj: dict[str, Any]) -> list[Step]:
        return []


async def test_every_ticket_action_offered_in_any_reachable_state_is_accepted(client, auth, desk, quiet):
    result = await walk(TicketDriver(client, _callers(auth)))

    assert not result.lies, "\n".join(map(str, result.lies))
    statuses = {key[0] for key in result.states}
    assert {"new", "assigned", "in_progress", "waiting_on_customer", "pending_follow_up"} <= statuses
    assert {"completed", "closed", "cancelled"} <= statuses
    assert ("in_progress", True, True) in result.states  # with an open task: resolve must not be offered
    assert result.checked >= 50


async def test_every_task_action_offered_in_any_reachable_state_is_accepted(client, auth, desk, quiet):
    result = await walk(TaskDriver(client, _callers(auth)))

    assert not result.lies, "\n".join(map(str, result.lies))
    assert {key[0] for key in result.states} == {"open", "in_progress", "reported", "approved", "cancelled"}
    assert ("in_progress", True, True) in result.states  # returned once, reported again
    assert result.checked >= 15
