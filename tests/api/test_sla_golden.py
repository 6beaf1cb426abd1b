"""The whole service against tests/golden/sla_service_cases.json, on SQLite and PostgreSQL: each case's ticket is
opened, worked and read over HTTP, and its `sla` block must be the one a naive minute-stepping oracle (and, for the
cases with `why`, hand arithmetic) worked out (tests/golden/make_sla_cases.py).

All cases share one app and one database: every case's plan gets policies of its own, matched on the ticket's
category, and the steps of all cases are played in time order, so the clock the app reads only moves forward."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from app.domain.principal import Role
from app.main import create_app
from tests.conftest import TokenFor, client_for, make_settings
from tests.factories import act, agent_body, customer_body, put, ticket_body

GOLDEN = json.loads((Path(__file__).parents[1] / "golden" / "sla_service_cases.json").read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = GOLDEN["cases"]
FIELDS = (
    "target_seconds",
    "business",
    "calendar",
    "due_at",
    "remaining_seconds",
    "paused",
    "breached",
    "breached_at",
    "failed_by",
    "fulfilled_at",
    "warn_at",
)
INSTANTS = frozenset({"due_at", "breached_at", "fulfilled_at", "warn_at"})
ACTION_BODIES: dict[str, dict[str, Any]] = {
    "assign": {"assignee": "agent-1"},
    "transfer": {"assignee": "agent-2", "reason": "转派"},
    "request_info": {"question": "请提供购买凭证照片"},
    "customer_reply": {"message": "已上传照片"},
    "resolve": {"solution": "更换风机后异响消失"},
    "close": {"reason": "customer_request"},
    "reopen": {"reason": "问题复现"},
    "escalate": {"reason": "客户要求加急"},
}
"""What each action sends besides the fields a step names itself (a follow-up's outcome, a closing reason)."""
COMMENTS = {"reply": "public", "customer_comment": "public", "note": "internal"}
STEP_KEYS = frozenset({"at", "do", "by"})


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def written(at: str | None) -> str | None:
    """An instant the service answered, in the file's form (UTC, `Z`; a fraction of a second stays visible)."""
    return None if at is None else instant(at).isoformat().replace("+00:00", "Z")


class TimelineClock:
    """The app's clock, set to each event's instant as the cases are played in time order."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def instance_of(case: dict[str, Any]) -> str:
    """Whose policies the case's ticket is matched against: the case's own when it edits them, else its plan's."""
    return case["id"] if case["own_plan"] else case["plan"]


def policy_body(instance: str, name: str, position: int, targets_of: str | None = None) -> dict[str, Any]:
    """The plan instance's policy `name`, matched on the ticket's category and its own conditions, with the targets,
    pauses and warning of `targets_of` (an edit) or of its own template."""
    own, source = GOLDEN["policies"][name], GOLDEN["policies"][targets_of or name]
    return {
        "name": name,
        "subject": "ticket",
        "position": position,
        "conditions": {**own.get("conditions", {}), "category": [instance]},
        "targets": source["targets"],
        "pauses": source.get("pauses", {}),
        "warning": source.get("warning"),
    }


async def open_desk(http: httpx.AsyncClient, auth: TokenFor) -> None:
    """The customer C-1, agents agent-1 and agent-2, manager-1, the file's calendars, a default policy no case
    reaches, and every plan instance's policies before it in their matching order."""
    admin, manager = auth(Role.ADMIN), auth(Role.MANAGER, sub="manager-1")
    await put(http, auth(Role.INTEGRATION), "/v1/customers/C-1", customer_body())
    for user in ("agent-1", "agent-2"):
        await put(http, admin, f"/v1/agents/{user}", agent_body(groups=[]))
    await put(http, admin, "/v1/agents/manager-1", agent_body(name="刘经理", roles=["manager"], groups=[]))
    for key, calendar in GOLDEN["calendars"].items():
        await put(http, manager, f"/v1/business-calendars/{key}", calendar)
    default = {"name": "不计时", "subject": "ticket", "position": 1, "targets": {}, "warning": None}
    await put(http, manager, "/v1/sla-policies/unmeasured", default)
    position = 1
    for instance, plan in sorted({(instance_of(case), case["plan"]) for case in CASES}):
        for name in GOLDEN["plans"][plan]:
            await put(http, manager, f"/v1/sla-policies/{instance}.{name}", policy_body(instance, name, position))
            position += 1  # placed ahead of the default, after the policy before it


@dataclass
class Played:
    """One case on its way through the service, and what differed from the file."""

    case: dict[str, Any]
    ticket_id: str | None = None
    differences: list[str] = field(default_factory=list)
    broken: bool = False  # a request was refused: the rest of the case cannot follow

    @property
    def instance(self) -> str:
        return instance_of(self.case)

    def differ(self, text: str) -> None:
        self.differences.append(f"{self.case['id']}: {text}")

    def refused(self, what: str, response: httpx.Response) -> None:
        self.differ(f"{what} answered {response.status_code}: {response.text[:300]}")
        self.broken = True


class Desk:
    """Plays steps of the cases over HTTP with the headers of whoever takes them."""

    def __init__(self, http: httpx.AsyncClient, auth: TokenFor) -> None:
        self.http = http
        self.headers = {
            "agent-1": auth(Role.AGENT, sub="agent-1"),
            "agent-2": auth(Role.AGENT, sub="agent-2"),
            "manager-1": auth(Role.MANAGER, sub="manager-1"),
            "customer": auth(Role.CUSTOMER, customer_no="C-1"),
            "bot": auth(Role.INTEGRATION, sub="im-bot"),
        }

    async def create(self, played: Played) -> None:
        body = ticket_body(order_no=None, sku=None, category=played.instance, priority=played.case["priority"])
        response = await self.http.post("/v1/tickets", json=body, headers=self.headers["agent-1"])
        if response.status_code != 201:
            played.refused("opening the ticket", response)
            return
        played.ticket_id = response.json()["id"]

    async def step(self, played: Played, number: int, step: dict[str, Any]) -> None:
        response = await self._send(played, step)
        if response.status_code not in (200, 201):
            played.refused(f"step {number} ({step['do']} by {step['by']} at {step['at']})", response)

    async def _send(self, played: Played, step: dict[str, Any]) -> httpx.Response:
        do, who = step["do"], self.headers[step["by"]]
        path = f"/v1/tickets/{played.ticket_id}"
        if do in COMMENTS:
            comment = {"body": f"{do}：{played.case['id']}", "visibility": COMMENTS[do]}
            return await self.http.post(f"{path}/comments", json=comment, headers=who)
        if do == "patch":
            edit = {key: step[key] for key in ("priority", "title") if key in step}
            return await self.http.patch(path, json=edit, headers=who)
        if do == "edit_policy":
            key = f"{played.instance}.{step['policy']}"
            current = await self.http.get(f"/v1/sla-policies/{key}", headers=who)
            if current.status_code != 200:
                return current
            body = policy_body(played.instance, step["policy"], current.json()["position"], step["to"])
            return await self.http.put(f"/v1/sla-policies/{key}", json=body, headers=who)
        fields = ACTION_BODIES.get(do, {}) | {k: v for k, v in step.items() if k not in STEP_KEYS}
        return await act(self.http, who, {"id": played.ticket_id}, do, **fields)

    async def read(self, played: Played) -> None:
        response = await self.http.get(f"/v1/tickets/{played.ticket_id}", headers=self.headers["manager-1"])
        if response.status_code != 200:
            played.refused("the read", response)
            return
        compare(played, played.case["expect"], response.json()["sla"])


def compare(played: Played, expected: dict[str, Any], sla: dict[str, Any]) -> None:
    """Every difference between the file's `sla` block and the service's, one line each."""
    at = expected["at"]
    policy = sla["policy"]
    prefix = f"{played.instance}."
    name = policy[len(prefix) :] if policy and policy.startswith(prefix) else policy
    tops = {"policy": name, "none_reason": sla["none_reason"], "promise": sla["promise"]}
    for key, value in tops.items():
        if key in expected and expected[key] != value:
            played.differ(f"at {at} {key}: file {expected[key]!r}, service {value!r}")
    metrics = {m["metric"]: m for m in sla["metrics"]}
    for metric in sorted(set(expected["metrics"]) | set(metrics)):
        want, got = expected["metrics"].get(metric), metrics.get(metric)
        if want is None or got is None:
            shown = "the file shows it, the service does not" if want else "the service shows it, the file does not"
            played.differ(f"at {at} {metric}: {shown}")
            continue
        for key in FIELDS:
            value = written(got[key]) if key in INSTANTS else got[key]
            if want[key] != value:
                played.differ(f"at {at} {metric}.{key}: file {want[key]!r}, service {value!r}")


def timeline(played: list[Played]) -> list[tuple[datetime, int, int, dict[str, Any] | None]]:
    """Every case's creation (-1), steps (0…) and read (None) in time order; one case's events keep their order."""
    events: list[tuple[datetime, int, int, dict[str, Any] | None]] = []
    for index, run in enumerate(played):
        case = run.case
        events.append((instant(case["created_at"]), index, -1, None))
        events += [(instant(step["at"]), index, n, step) for n, step in enumerate(case["steps"])]
        events.append((instant(case["expect"]["at"]), index, len(case["steps"]), None))
    return sorted(events, key=lambda event: event[:3])


async def test_every_golden_case_gets_the_sla_the_oracle_worked_out(database_url: str, auth: TokenFor) -> None:
    assert len(CASES) >= 200
    played = [Played(case) for case in CASES]
    events = timeline(played)
    clock = TimelineClock(events[0][0] - timedelta(days=1))
    app = create_app(make_settings(database_url), clock=clock)
    async with client_for(app) as http:
        await open_desk(http, auth)
        desk = Desk(http, auth)
        for at, index, number, step in events:
            run = played[index]
            if run.broken:
                continue
            clock.at = at
            if number == -1:
                await desk.create(run)
            elif step is None:
                await desk.read(run)
            else:
                await desk.step(run, number, step)

    differences = [line for run in played for line in run.differences]
    failed = sum(1 for run in played if run.differences)
    assert not differences, f"{failed} of {len(played)} cases differ from the file:\n" + "\n".join(differences)
