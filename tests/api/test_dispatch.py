"""派单: rules decide who takes new and returned tickets, among eligible agents only, down a fallback ladder, with
every decision stored and explained; agents set their availability, managers rebalance and simulate."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import bindparam, text

from app.domain.dispatch import item_weight
from app.domain.principal import Role
from app.domain.tickets import HELD_STATES
from tests.factories import act, agent_body, open_ticket, put, seed_service_desk

RULES = "/v1/dispatch-rules"
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def not_today() -> dict[str, Any]:
    """A calendar open all day on every day but today (in its zone): whoever works it is off shift now."""
    today = datetime.now(ZoneInfo("Asia/Shanghai")).weekday()
    hours = [{"start": "00:00", "end": "24:00"}]
    weekly = {day: ([] if i == today else hours) for i, day in enumerate(DAYS)}
    return {"name": "错峰班", "time_zone": "Asia/Shanghai", "weekly": weekly}


def rule_body(**overrides: Any) -> dict[str, Any]:
    return {"name": "华东维修", "position": 10, "group": "east", "strategy": "round_robin", **overrides}


@pytest.fixture
async def desk(client, auth):
    """Groups east and backup; agents agent-1 and agent-2 in east (agent-1 holds skill purifier), agent-3 in backup,
    manager-1 in no group; a rule sends every ticket round robin to east."""
    await seed_service_desk(client, auth)
    admin = auth(Role.ADMIN)
    await put(client, admin, "/v1/groups/backup", {"name": "后备组"})
    await put(client, admin, "/v1/agents/agent-1", agent_body(skills=["purifier"], supervisor="manager-1"))
    await put(
        client, admin, "/v1/agents/agent-3", agent_body(name="赵工", groups=["backup"], skills=["purifier", "senior"])
    )
    await put(client, admin, "/v1/agents/manager-1", agent_body(name="刘经理", roles=["manager"], groups=[]))
    await put(client, admin, f"{RULES}/east", rule_body())


async def decisions(client: httpx.AsyncClient, auth: Any, ticket: dict[str, Any]) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/tickets/{ticket['id']}/dispatch-decisions", headers=auth(Role.MANAGER))
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def availability(client: httpx.AsyncClient, auth: Any, user_id: str, state: str, **who: Any) -> httpx.Response:
    headers = auth(Role.AGENT, sub=user_id) if not who else auth(**who)
    return await client.put(f"/v1/agents/{user_id}/availability", json={"availability": state}, headers=headers)


# ---- the rules resource ----------------------------------------------------------------------------------------


async def test_a_rule_is_kept_by_key_with_its_etag_and_listed_in_the_order_tried(client, auth, desk):
    manager = auth(Role.MANAGER)
    created = await client.put(f"{RULES}/vip", json=rule_body(position=1, strategy="least_loaded"), headers=manager)
    again = await client.put(f"{RULES}/vip", json=rule_body(position=1, strategy="least_loaded"), headers=manager)
    listed = (await client.get(RULES, headers=auth(Role.AGENT))).json()["items"]

    assert (created.status_code, again.status_code) == (201, 200)
    assert again.json()["version"] == 1 and again.headers["ETag"] == created.headers["ETag"]
    assert [r["key"] for r in listed] == ["vip", "east"]
    stale = await client.put(f"{RULES}/vip", json=rule_body(position=2), headers={**manager, "If-Match": '"9"'})
    assert stale.status_code == 412
    assert (await client.delete(f"{RULES}/vip", headers=manager)).status_code == 428
    gone = await client.delete(f"{RULES}/vip", headers={**manager, "If-Match": created.headers["ETag"]})
    assert gone.status_code == 204
    assert (await client.get(f"{RULES}/vip", headers=manager)).json()["code"] == "dispatch_rule_not_found"


async def test_only_managers_and_admins_write_rules_and_customers_read_none(client, auth, desk):
    for role in (Role.AGENT, Role.CUSTOMER, Role.INTEGRATION):
        response = await client.put(f"{RULES}/x", json=rule_body(), headers=auth(role))
        assert response.status_code == 403, role
    assert (await client.get(RULES, headers=auth(Role.CUSTOMER))).status_code == 403


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        (rule_body(group="nowhere"), "/group"),
        (rule_body(overflow_group="nowhere"), "/overflow_group"),
        (rule_body(overflow_group="east"), "/overflow_group"),
        (rule_body(required_skills=["welding"]), "/required_skills"),
        (rule_body(strategy="skill_match", optional_skills=["x-ray"], min_optional=1), "/optional_skills"),
        (rule_body(conditions=[{"field": "priority", "values": ["urgent", "asap"]}]), "/conditions/0/values"),
        (rule_body(conditions=[{"field": "high_risk", "values": ["yes"]}]), "/conditions/0/values"),
        (
            rule_body(conditions=[{"field": "region", "values": ["a"]}, {"field": "region", "values": ["b"]}]),
            "/conditions/1/field",
        ),
        (rule_body(optional_skills=["purifier"], min_optional=1), "/min_optional"),
        (rule_body(strategy="skill_match", optional_skills=["purifier"], min_optional=2), "/min_optional"),
        (rule_body(strategy="skill_match", relax_after_minutes=30), "/relax_after_minutes"),
    ],
)
async def test_a_rule_naming_what_does_not_exist_or_cannot_hold_is_refused_at_its_field(
    client, auth, desk, body, pointer
):
    response = await client.put(f"{RULES}/bad", json=body, headers=auth(Role.MANAGER))

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_dispatch_rule"
    assert "#" + pointer in {e["pointer"] for e in response.json()["errors"]}
    assert (await client.get(f"{RULES}/bad", headers=auth(Role.MANAGER))).status_code == 404


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        (rule_body(conditions=[{"field": "mood", "values": ["angry"]}]), "/conditions/0/field"),
        (rule_body(strategy="random"), "/strategy"),
        (rule_body(position=0), "/position"),
        (rule_body(position="1"), "/position"),
        (rule_body(min_optional=99), "/min_optional"),
        (rule_body(conditions=[{"field": "type", "values": []}]), "/conditions/0/values"),
        ({**rule_body(), "colour": "red"}, "/colour"),
    ],
)
async def test_a_malformed_rule_is_refused_before_any_check(client, auth, desk, body, pointer):
    response = await client.put(f"{RULES}/bad", json=body, headers=auth(Role.MANAGER))

    assert response.status_code == 422
    assert "#" + pointer in {e["pointer"] for e in response.json()["errors"]}


async def test_agents_and_groups_name_existing_calendars_and_a_positive_capacity(client, auth, desk):
    admin = auth(Role.ADMIN)
    agent = await client.put("/v1/agents/agent-9", json=agent_body(calendar="nowhere"), headers=admin)
    group = await client.put("/v1/groups/g", json={"name": "G", "calendar": "nowhere"}, headers=admin)
    capacity = await client.put("/v1/agents/agent-9", json=agent_body(max_open_tickets=0), headers=admin)

    assert (agent.status_code, agent.json()["errors"][0]["pointer"]) == (422, "#/calendar")
    assert (group.status_code, group.json()["errors"][0]["pointer"]) == (422, "#/calendar")
    assert (capacity.status_code, capacity.json()["errors"][0]["pointer"]) == (422, "#/max_open_tickets")


# ---- intake ----------------------------------------------------------------------------------------------------


async def test_intake_goes_round_robin_to_the_agent_assigned_least_recently(client, auth, desk):
    opened = [await open_ticket(client, auth) for _ in range(4)]

    assert [t["assignee"] for t in opened] == ["agent-1", "agent-2", "agent-1", "agent-2"]
    assert {(t["status"], t["group_key"]) for t in opened} == {("assigned", "east")}
    [decision] = await decisions(client, auth, opened[1])
    assert (decision["rule"], decision["strategy"], decision["trigger"], decision["winner"]) == (
        "east",
        "round_robin",
        "intake",
        "agent-2",
    )
    assert [(c["user_id"], c["excluded"]) for c in decision["candidates"]] == [("agent-1", None), ("agent-2", None)]
    assert decision["candidates"][0]["score"][0] > decision["candidates"][1]["score"][0] == 0  # agent-2 never assigned
    timeline = (await client.get(f"/v1/tickets/{opened[1]['id']}/timeline", headers=auth(Role.MANAGER))).json()
    [created] = timeline["items"]
    assert (created["action"], created["to_status"], created["visibility"]) == ("create", "assigned", "public")
    assert (created["payload"]["dispatch"]["rule"], created["payload"]["dispatch"]["assignee"]) == ("east", "agent-2")
    inbox = (await client.get("/v1/me/notifications", headers=auth(Role.AGENT, sub="agent-2"))).json()["items"]
    assert [n["kind"] for n in inbox] == ["assignment", "assignment"]


async def test_a_customer_sees_no_decision_and_no_internal_entry(client, auth, desk):
    ticket = await open_ticket(client, auth)
    customer = auth(Role.CUSTOMER)

    own = await client.get(f"/v1/tickets/{ticket['id']}/dispatch-decisions", headers=customer)
    timeline = (await client.get(f"/v1/tickets/{ticket['id']}/timeline", headers=customer)).json()["items"]

    assert own.status_code == 403
    assert [e["action"] for e in timeline] == ["create"]


async def test_the_first_matching_rule_decides_and_no_match_leaves_the_pool(client, auth, desk):
    manager = auth(Role.MANAGER)
    await client.delete(f"{RULES}/east", headers={**manager, "If-Match": '"1"'})
    complaints = rule_body(position=1, group="backup", conditions=[{"field": "type", "values": ["complaint"]}])
    await put(client, manager, f"{RULES}/complaints", complaints)

    complaint = await open_ticket(client, auth, type="complaint")
    repair = await open_ticket(client, auth)

    assert (complaint["assignee"], complaint["group_key"]) == ("agent-3", "backup")
    assert (repair["status"], repair["assignee"]) == ("new", None)
    [decision] = await decisions(client, auth, repair)
    assert (decision["rule"], decision["pool_reason"]) == (None, "no rule matches")


async def test_unavailable_off_shift_inactive_and_full_agents_are_excluded_with_their_reason(client, auth, desk):
    admin = auth(Role.ADMIN)
    await put(client, admin, "/v1/business-calendars/never", not_today())
    await put(client, admin, "/v1/agents/agent-7", agent_body(name="郑工", roles=["reviewer"]))
    await put(client, admin, "/v1/agents/agent-4", agent_body(name="孙工", calendar="never"))
    await put(client, admin, "/v1/agents/agent-5", agent_body(name="周工", active=False))
    await put(client, admin, "/v1/agents/agent-6", agent_body(name="吴工", max_open_tickets=1))
    await availability(client, auth, "agent-1", "away")
    await availability(client, auth, "agent-2", "offline")

    first = await open_ticket(client, auth)
    second = await open_ticket(client, auth)

    assert first["assignee"] == "agent-6"
    reasons = {c["user_id"]: c["excluded"] for c in (await decisions(client, auth, second))[0]["candidates"]}
    assert reasons == {
        "agent-1": "availability away",
        "agent-2": "availability offline",
        "agent-4": "off shift",
        "agent-5": "inactive",
        "agent-6": "at capacity (1 of 1)",
        "agent-7": "lacks the agent role",
    }
    assert (second["status"], second["assignee"], second["group_key"]) == ("new", None, "east")


async def test_nobody_eligible_leaves_it_waiting_with_the_reason_and_the_managers_told(client, auth, desk):
    await availability(client, auth, "agent-1", "away")
    await availability(client, auth, "agent-2", "away")

    ticket = await open_ticket(client, auth)

    [decision] = await decisions(client, auth, ticket)
    assert (decision["winner"], decision["pool_reason"]) == (None, "no eligible agent")
    inbox = (await client.get("/v1/me/notifications", headers=auth(Role.MANAGER, sub="manager-1"))).json()["items"]
    assert [n["kind"] for n in inbox] == ["dispatch_waiting"]


async def test_the_ladder_relaxes_optional_skills_then_overflows(client, auth, desk):
    manager = auth(Role.MANAGER)
    skilled = rule_body(
        position=1,
        strategy="skill_match",
        required_skills=["purifier"],
        optional_skills=["senior"],
        min_optional=1,
        overflow_group="backup",
    )
    await put(client, manager, f"{RULES}/skilled", skilled)

    relaxed = await open_ticket(client, auth)
    await availability(client, auth, "agent-1", "away")
    overflowed = await open_ticket(client, auth)

    assert relaxed["assignee"] == "agent-1"
    [first] = await decisions(client, auth, relaxed)
    assert first["steps"] == ["optional skills relaxed: nobody held enough"]
    assert overflowed["assignee"] == "agent-3" and overflowed["group_key"] == "backup"
    [second] = await decisions(client, auth, overflowed)
    assert second["steps"][-1] == "overflow to backup: nobody in east may take it"
    assert {c["user_id"]: c["excluded"] for c in second["candidates"]}["agent-2"] == "missing skills purifier"


async def test_least_loaded_weighs_open_work_by_priority_and_capacity(client, auth, desk):
    admin = auth(Role.ADMIN)
    await put(client, admin, "/v1/agents/agent-1", agent_body(max_open_tickets=10))
    await put(client, admin, "/v1/agents/agent-2", agent_body(name="李工", max_open_tickets=2))
    await put(client, auth(Role.MANAGER), f"{RULES}/east", rule_body(strategy="least_loaded"))

    urgent = await open_ticket(client, auth, priority="urgent")  # nobody holds work yet: the first by id
    after = [await open_ticket(client, auth) for _ in range(3)]  # normal repairs weigh 2 × 2

    assert urgent["assignee"] == "agent-1"  # 4 × 2 = 8 of 10: 0.8
    assert [t["assignee"] for t in after] == ["agent-2", "agent-1", "agent-1"]  # 0 < 0.8; 0.8 < 4/2; 1.2 < 2


async def test_sticky_gives_the_customer_their_previous_agent(client, auth, desk):
    await put(client, auth(Role.MANAGER), f"{RULES}/east", rule_body(strategy="sticky"))

    first = await open_ticket(client, auth)
    other = await open_ticket(client, auth, customer_no="C-2", order_no="SO-C-2")
    again = await open_ticket(client, auth)

    assert (first["assignee"], other["assignee"], again["assignee"]) == ("agent-1", "agent-2", "agent-1")


async def test_a_pool_rule_leaves_tickets_for_claiming_without_waiting(client, auth, desk):
    await put(client, auth(Role.MANAGER), f"{RULES}/east", rule_body(strategy="pool"))

    ticket = await open_ticket(client, auth)

    assert (ticket["status"], ticket["group_key"]) == ("new", "east")
    [decision] = await decisions(client, auth, ticket)
    assert decision["pool_reason"] == "the rule leaves it in the pool"
    inbox = (await client.get("/v1/me/notifications", headers=auth(Role.MANAGER, sub="manager-1"))).json()["items"]
    assert inbox == []


# ---- when it runs again ----------------------------------------------------------------------------------------


async def test_backlog_first_when_capacity_frees_the_longest_waiting_ticket_goes_before_a_newcomer(client, auth, desk):
    admin = auth(Role.ADMIN)
    await put(client, admin, "/v1/agents/agent-1", agent_body(max_open_tickets=1))
    await put(client, admin, "/v1/agents/agent-2", agent_body(name="李工", active=False))
    held = await open_ticket(client, auth)
    waiting = await open_ticket(client, auth)
    urgent_later = await open_ticket(client, auth, priority="urgent")
    agent = auth(Role.AGENT, sub="agent-1")

    await act(client, agent, held, "start")
    resolved = await act(client, agent, held, "resolve", solution="更换风机")
    newcomer = await open_ticket(client, auth)

    assert resolved.status_code == 200, resolved.text
    served = (await client.get(f"/v1/tickets/{urgent_later['id']}", headers=admin)).json()
    still = (await client.get(f"/v1/tickets/{waiting['id']}", headers=admin)).json()
    assert served["assignee"] == "agent-1"  # the most urgent waiting one first, then the oldest
    assert (still["assignee"], newcomer["assignee"]) == (None, None)
    [decision, *_] = await decisions(client, auth, newcomer)
    assert decision["pool_reason"] == "backlog first: 1 earlier ticket wait for east"
    [latest, *_] = await decisions(client, auth, urgent_later)
    assert latest["trigger"] == "backlog"


async def test_an_agent_coming_back_is_given_the_waiting_tickets_first(client, auth, desk):
    await put(client, auth(Role.ADMIN), "/v1/agents/agent-2", agent_body(name="李工", max_open_tickets=1))
    await availability(client, auth, "agent-1", "away")
    await availability(client, auth, "agent-2", "away")
    older, newer = await open_ticket(client, auth), await open_ticket(client, auth)

    back = await availability(client, auth, "agent-2", "available")

    assert back.status_code == 200
    seen = {
        t["id"]: (await client.get(f"/v1/tickets/{t['id']}", headers=auth(Role.ADMIN))).json() for t in (older, newer)
    }
    assert (seen[older["id"]]["assignee"], seen[newer["id"]]["assignee"]) == ("agent-2", None)  # capacity 1


async def test_an_edit_that_lets_an_agent_take_more_serves_the_backlog_at_once(client, auth, desk):
    admin = auth(Role.ADMIN)
    await put(client, admin, "/v1/agents/agent-1", agent_body(max_open_tickets=1))
    await put(client, admin, "/v1/agents/agent-2", agent_body(name="李工", active=False))
    held, first, second = [await open_ticket(client, auth) for _ in range(3)]

    await put(client, admin, "/v1/agents/agent-1", agent_body(max_open_tickets=2))  # a higher limit
    await put(client, admin, "/v1/agents/agent-2", agent_body(name="李工", max_open_tickets=1))  # active again

    seen = [(await client.get(f"/v1/tickets/{t['id']}", headers=admin)).json()["assignee"] for t in (first, second)]
    assert (held["assignee"], seen) == ("agent-1", ["agent-1", "agent-2"])
    [latest, *_] = await decisions(client, auth, second)
    assert latest["trigger"] == "backlog"


async def test_a_newcomer_finding_the_backlog_waiting_while_an_agent_is_free_serves_it_first(
    client, timed_client, clock, auth, desk
):
    """A shift began and the backlog job has not run yet: the newcomer does not wait behind tickets an agent is free
    for; they go first, then the newcomer is decided again."""
    admin = auth(Role.ADMIN)
    await put(client, admin, "/v1/business-calendars/never", not_today())
    await put(client, admin, "/v1/agents/agent-1", agent_body(max_open_tickets=1, calendar="never"))
    await put(client, admin, "/v1/agents/agent-2", agent_body(name="李工", active=False))
    waiting = await open_ticket(timed_client, auth)
    clock.advance(timedelta(days=1))  # agent-1's shift: every day but the first

    newcomer = await open_ticket(timed_client, auth)

    served = (await client.get(f"/v1/tickets/{waiting['id']}", headers=admin)).json()
    assert (waiting["assignee"], served["assignee"], newcomer["assignee"]) == (None, "agent-1", None)
    assert [d["trigger"] for d in await decisions(client, auth, waiting)] == ["backlog", "intake"]
    [decision] = await decisions(client, auth, newcomer)
    assert decision["pool_reason"] == "no eligible agent"
    assert [c["excluded"] for c in decision["candidates"] if c["user_id"] == "agent-1"] == ["at capacity (1 of 1)"]


async def test_work_given_back_to_its_holder_counts_as_an_assignment(client, auth, desk, app):
    """A follow-up that sends a ticket back to its holder is counted, so that a decision reading them concurrently
    knows its read is stale (and may not take them past a limit)."""
    await put(client, auth(Role.ADMIN), "/v1/agents/agent-2", agent_body(name="李工", active=False))
    ticket = await open_ticket(client, auth)
    agent = auth(Role.AGENT, sub="agent-1")
    await act(client, agent, ticket, "start")
    await act(client, agent, ticket, "resolve", solution="更换风机")
    before = await _assignments(app, "agent-1")

    back = await act(client, agent, ticket, "follow_up", outcome="unsatisfied")

    assert (back.status_code, back.json()["status"]) == (200, "in_progress")
    assert await _assignments(app, "agent-1") == before + 1


async def _assignments(app: Any, user_id: str) -> int:
    async with app.state.services.database.engine.connect() as conn:
        found = await conn.execute(text("SELECT assignments FROM agents WHERE user_id = :u"), {"u": user_id})
        return int(found.scalar_one())


async def test_the_work_counted_on_each_agents_row_is_what_a_recount_finds_after_every_kind_of_change(
    client, auth, desk, app
):
    """Dispatch reads an agent's held tickets and load from their row (kept by triggers on tickets): after intake,
    claim, assign, transfer, a priority edit, start, resolve, follow-up, close and reopen, the counters agree with
    counting the tickets (the weights with the domain's item_weight)."""
    manager = auth(Role.MANAGER, sub="manager-1")
    first, second, third = [await open_ticket(client, auth, priority=p) for p in ("urgent", "low", "high")]
    await put(client, manager, f"{RULES}/east", rule_body(strategy="pool"))
    pooled, assigned = [await open_ticket(client, auth, type=t) for t in ("consultation", "complaint")]
    holder = auth(Role.AGENT, sub=first["assignee"])
    changes = [
        await act(client, auth(Role.AGENT, sub="agent-2"), pooled, "claim"),
        await act(client, manager, assigned, "assign", assignee="agent-1"),
        await act(client, holder, first, "transfer", assignee="agent-3", reason="需要高级工程师"),
        await client.patch(f"/v1/tickets/{second['id']}", json={"priority": "urgent"}, headers=manager),
        await act(client, auth(Role.AGENT, sub=third["assignee"]), third, "start"),
        await act(client, auth(Role.AGENT, sub=third["assignee"]), third, "resolve", solution="更换风机"),
        await act(client, auth(Role.AGENT, sub=third["assignee"]), third, "follow_up", outcome="unsatisfied"),
        await act(client, manager, second, "close", reason="duplicate"),
        await act(client, auth(Role.CUSTOMER), second, "reopen", reason="问题又出现了"),
    ]

    assert [c.status_code for c in changes] == [200] * len(changes), [c.text for c in changes]
    counted, recounted = await _open_work(app)
    assert counted == recounted
    assert counted["agent-1"][0] and counted["agent-2"][0] and counted["agent-3"][0]


async def _open_work(app: Any) -> tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]:
    """Each agent's (open_items, open_load) as counted on their row, and as a recount of their held tickets finds."""
    async with app.state.services.database.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT user_id, open_items, open_load FROM agents"))).all()
        held = await conn.execute(
            text(
                "SELECT assignee, priority, type FROM tickets WHERE assignee IS NOT NULL AND status IN :held"
            ).bindparams(bindparam("held", expanding=True)),
            {"held": list(HELD_STATES)},
        )
    recount = {user_id: (0, 0) for user_id, _items, _load in rows}
    for assignee, priority, type_ in held:
        if assignee in recount:
            items, load = recount[assignee]
            recount[assignee] = (items + 1, load + item_weight(priority, type_))
    return {user_id: (items, load) for user_id, items, load in rows}, recount


async def test_dispatch_on_demand_assigns_a_pooled_ticket(client, auth, desk):
    manager = auth(Role.MANAGER, sub="manager-1")
    await put(client, manager, f"{RULES}/east", rule_body(strategy="pool"))
    ticket = await open_ticket(client, auth)
    pooled = (await client.get(f"/v1/tickets/{ticket['id']}", headers=manager)).json()
    agent_view = (await client.get(f"/v1/tickets/{ticket['id']}", headers=auth(Role.AGENT))).json()
    await put(client, manager, f"{RULES}/east", rule_body())

    dispatched = await act(client, manager, ticket, "dispatch")

    assert "dispatch" in {a["action"] for a in pooled["available_actions"]}
    assert "dispatch" not in {a["action"] for a in agent_view["available_actions"]}
    assert (dispatched.status_code, dispatched.json()["assignee"]) == (200, "agent-1")
    assert [d["trigger"] for d in await decisions(client, auth, ticket)] == ["on_demand", "intake"]
    again = await act(client, manager, dispatched.json(), "dispatch")
    assert (again.status_code, again.json()["code"]) == (409, "action_not_allowed")


async def test_a_transfer_to_a_pool_is_dispatched_by_that_groups_rules(client, auth, desk):
    await put(client, auth(Role.MANAGER), f"{RULES}/backup", rule_body(position=20, group="backup"))
    ticket = await open_ticket(client, auth)
    holder = auth(Role.AGENT, sub=ticket["assignee"])
    await act(client, holder, ticket, "start")

    transferred = await act(client, holder, ticket, "transfer", group="backup", reason="需要高级工程师")

    assert transferred.status_code == 200, transferred.text
    assert (transferred.json()["status"], transferred.json()["assignee"]) == ("assigned", "agent-3")
    assert [(d["trigger"], d["rule"]) for d in await decisions(client, auth, ticket)] == [
        ("transfer", "backup"),
        ("intake", "east"),
    ]
    inbox = (await client.get("/v1/me/notifications", headers=auth(Role.AGENT, sub="agent-3"))).json()["items"]
    assert [n["kind"] for n in inbox] == ["transfer"]


async def test_a_reopen_into_the_pool_is_dispatched_again(client, auth, desk):
    await availability(client, auth, "agent-1", "away")
    await availability(client, auth, "agent-2", "away")
    ticket = await open_ticket(client, auth)
    await act(client, auth(Role.MANAGER, sub="manager-1"), ticket, "close", reason="duplicate")
    await availability(client, auth, "agent-2", "available")  # the closed ticket is no longer waiting

    reopened = await act(client, auth(Role.CUSTOMER), ticket, "reopen", reason="问题又出现了")

    assert reopened.status_code == 200, reopened.text
    seen = (await client.get(f"/v1/tickets/{ticket['id']}", headers=auth(Role.ADMIN))).json()
    assert (seen["status"], seen["assignee"]) == ("assigned", "agent-2")  # the customer's view names nobody
    assert [d["trigger"] for d in await decisions(client, auth, ticket)] == ["reopen", "intake"]


async def test_going_offline_returns_not_started_tickets_and_rebalance_moves_the_rest(client, auth, desk):
    started, waiting_start = await open_ticket(client, auth), await open_ticket(client, auth)
    mine = [t for t in (started, waiting_start) if t["assignee"] == "agent-1"]
    more = [await open_ticket(client, auth) for _ in range(2)]
    ones = [t for t in (*mine, *more) if t["assignee"] == "agent-1"]
    agent = auth(Role.AGENT, sub="agent-1")
    await act(client, agent, ones[0], "start")
    manager = auth(Role.MANAGER, sub="manager-1")

    refused = await client.post("/v1/agents/agent-1/actions/rebalance", headers=manager)
    offline = await availability(client, auth, "agent-1", "offline")
    kept = (await client.get(f"/v1/tickets/{ones[0]['id']}", headers=manager)).json()
    moved = (await client.get(f"/v1/tickets/{ones[1]['id']}", headers=manager)).json()
    rebalanced = await client.post("/v1/agents/agent-1/actions/rebalance", headers=manager)

    assert (refused.status_code, refused.json()["code"]) == (409, "agent_available")
    assert (offline.status_code, offline.json()["availability"]) == (200, "offline")
    assert kept["assignee"] == "agent-1" and moved["assignee"] == "agent-2"
    assert rebalanced.json() == {"moved": 1, "assigned": 1, "skipped": 0}
    after = (await client.get(f"/v1/tickets/{ones[0]['id']}", headers=manager)).json()
    assert (after["assignee"], after["status"]) == ("agent-2", "assigned")
    assert (await decisions(client, auth, after))[0]["trigger"] == "rebalance"


async def test_a_deactivated_agents_open_work_goes_to_others_at_once(client, auth, desk):
    tickets = [await open_ticket(client, auth) for _ in range(2)]
    theirs = next(t for t in tickets if t["assignee"] == "agent-1")
    await act(client, auth(Role.AGENT, sub="agent-1"), theirs, "start")

    await put(client, auth(Role.ADMIN), "/v1/agents/agent-1", agent_body(skills=["purifier"], active=False))

    moved = (await client.get(f"/v1/tickets/{theirs['id']}", headers=auth(Role.ADMIN))).json()
    assert (moved["assignee"], moved["status"]) == ("agent-2", "assigned")
    assert (await decisions(client, auth, moved))[0]["trigger"] == "rebalance"


async def test_only_the_agent_or_a_manager_sets_availability(client, auth, desk):
    other = await availability(client, auth, "agent-1", "away", role=Role.AGENT, sub="agent-2")
    unknown = await availability(client, auth, "agent-9", "away", role=Role.MANAGER)
    bad = await availability(client, auth, "agent-1", "sleeping")
    customer = await availability(client, auth, "agent-1", "away", role=Role.CUSTOMER)

    assert (other.status_code, unknown.status_code, bad.status_code, customer.status_code) == (403, 404, 422, 403)
    record = (await client.get("/v1/agents/agent-1", headers=auth(Role.ADMIN))).json()
    assert (record["availability"], record["version"]) == ("available", 2)  # the state is not a revision


# ---- simulation ------------------------------------------------------------------------------------------------


async def test_a_simulation_answers_the_decision_and_assigns_nobody(client, auth, desk):
    manager = auth(Role.MANAGER)
    ticket = await open_ticket(client, auth)
    body = {"ticket": {"customer_no": "C-1", "channel": "app", "type": "repair", "title": "t", "description": "d"}}

    by_body = await client.post(f"{RULES}/simulate", json=body, headers=manager)
    by_id = await client.post(f"{RULES}/simulate", json={"ticket_id": ticket["id"]}, headers=manager)

    assert by_body.status_code == 200, by_body.text
    assert (by_body.json()["winner"], by_body.json()["id"], by_body.json()["trigger"]) == (
        "agent-2",
        None,
        "simulation",
    )
    assert by_id.json()["rule"] == "east"
    assert len(await decisions(client, auth, ticket)) == 1
    agent = (await client.get("/v1/agents/agent-2", headers=manager)).json()
    assert agent["last_assigned_at"] is None


@pytest.mark.parametrize(
    ("body", "status", "pointer"),
    [
        (
            {"ticket": {"customer_no": "C-404", "channel": "app", "type": "repair", "title": "t", "description": "d"}},
            422,
            "/ticket/customer_no",
        ),
        (
            {"ticket": {"customer_no": "C-1", "channel": "fax", "type": "repair", "title": "t", "description": "d"}},
            422,
            "/ticket/channel",
        ),
        ({"ticket": {"customer_no": "C-1", "type": "repair"}}, 422, "/ticket/channel"),
        ({}, 422, None),
        ({"ticket_id": "00000000-0000-0000-0000-000000000000", "ticket": {}}, 422, None),
        ({"ticket_id": "00000000-0000-0000-0000-000000000000"}, 404, None),
        ({"ticket_id": 7}, 422, "/ticket_id"),
    ],
)
async def test_a_simulation_of_what_is_not_a_valid_ticket_is_refused_at_the_field(
    client, auth, desk, body, status, pointer
):
    response = await client.post(f"{RULES}/simulate", json=body, headers=auth(Role.MANAGER))

    assert response.status_code == status, response.text
    if pointer is not None:
        assert "#" + pointer in {e["pointer"] for e in response.json()["errors"]}
