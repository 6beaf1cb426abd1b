"""SLA policies over HTTP: each subject's policies as one order (puts at a taken position push the others later,
reorders name every key once, deletions close the gap), ETags, staff reads, the default every subject ends with, and
every bad policy a 422 naming its field that leaves nothing written; changes announced for the SLA clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from standardwebhooks import Webhook

from app.domain.principal import Role
from app.domain.sla_policies import RESOLUTION, Escalation, Subject, Target, WarningRule, match
from app.persistence.sla_policies import SqlSlaPolicyRepository
from app.persistence.unit_of_work import SqlUnitOfWorkFactory
from app.schemas.sla_policies import SlaConditionsIn, SlaConditionsOut
from app.services.sla_policies import CONDITION_NAMES
from bench.receiver import Receiver
from tests.api.test_business_calendars import calendar_body
from tests.conftest import client_for
from tests.problems import problem_fields

BASE = "/v1/sla-policies"
HOUR = 3600
CN = "cn-office"


def business(hours: int) -> dict[str, Any]:
    return {"seconds": hours * HOUR, "business": True, "calendar": CN}


def around_the_clock(hours: int) -> dict[str, Any]:
    return {"seconds": hours * HOUR, "business": False}


def policy_body(position: int = 1, **overrides: Any) -> dict[str, Any]:
    """Seeds 002/003: 48 h to a first answer and 72 h to a solution in business time; urgent 4 h / 24 h."""
    return {
        "name": "标准服务",
        "subject": "ticket",
        "position": position,
        "targets": {
            "first_reply": {"normal": business(48), "urgent": around_the_clock(4)},
            "resolution": {"normal": business(72), "urgent": around_the_clock(24)},
        },
        **overrides,
    }


def vip_body(position: int = 1, **overrides: Any) -> dict[str, Any]:
    return policy_body(position, **{"name": "VIP", "conditions": {"vip": True}, **overrides})


def refund_body(position: int = 1, **overrides: Any) -> dict[str, Any]:
    return {
        "name": "退款时效",
        "subject": "after_sales",
        "position": position,
        "targets": {"review": {"normal": business(24)}, "refund_completion": {"normal": around_the_clock(72)}},
        **overrides,
    }


@pytest.fixture
async def staff(client: httpx.AsyncClient, auth) -> dict[str, dict[str, str]]:
    """Headers per role, with the business calendar and the group the policies name."""
    headers = {role: auth(role) for role in Role}
    calendar = await client.put(f"/v1/business-calendars/{CN}", json=calendar_body(), headers=headers[Role.MANAGER])
    group = await client.put("/v1/groups/repairs-east", json={"name": "华东维修组"}, headers=headers[Role.ADMIN])
    assert (calendar.status_code, group.status_code) == (201, 201), (calendar.text, group.text)
    return {role.value: h for role, h in headers.items()}


async def _put(client: httpx.AsyncClient, headers: dict[str, str], key: str, body: dict[str, Any]) -> httpx.Response:
    response = await client.put(f"{BASE}/{key}", json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    return response


async def _order(client: httpx.AsyncClient, headers: dict[str, str], subject: str = "ticket") -> list[tuple]:
    response = await client.get(BASE, params={"subject": subject}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["subject"] == subject
    return [(p["key"], p["position"], p["version"]) for p in response.json()["items"]]


async def _absent(client: httpx.AsyncClient, headers: dict[str, str], key: str) -> None:
    response = await client.get(f"{BASE}/{key}", headers=headers)
    assert (response.status_code, response.json()["code"]) == (404, "sla_policy_not_found")


# Create, replace, read, list


async def test_a_manager_creates_then_replaces_a_policy_and_staff_read_it(client, staff):
    manager = staff["manager"]
    created = await client.put(
        f"{BASE}/standard",
        json=policy_body(
            pauses={"resolution": ["waiting_on_customer", "pending_follow_up"]},
            warning={"minutes": 30},
            escalation={"on_breach": ["supervisor", "managers"], "raise_priority": True, "reassign_to": "pool"},
        ),
        headers=manager,
    )
    replaced = await client.put(f"{BASE}/standard", json=policy_body(name="标准"), headers=manager)
    read = await client.get(f"{BASE}/standard", headers=staff["agent"])

    assert (created.status_code, created.headers["etag"]) == (201, '"1"'), created.text
    policy = created.json()
    assert (policy["key"], policy["subject"], policy["position"], policy["version"]) == ("standard", "ticket", 1, 1)
    assert policy["conditions"] == dict.fromkeys(CONDITION_NAMES)  # the default: accepts anything
    assert policy["targets"] == {
        "first_reply": {
            "low": None,
            "normal": business(48),
            "high": None,
            "urgent": {**around_the_clock(4), "calendar": None},
        },
        "resolution": {
            "low": None,
            "normal": business(72),
            "high": None,
            "urgent": {**around_the_clock(24), "calendar": None},
        },
    }
    assert policy["pauses"] == {"resolution": ["pending_follow_up", "waiting_on_customer"]}
    assert policy["warning"] == {"share": None, "minutes": 30}
    assert policy["escalation"] == {
        "on_warning": ["assignee"],
        "on_breach": ["managers", "supervisor"],
        "raise_level": True,
        "raise_priority": True,
        "reassign_to": "pool",
    }
    assert (replaced.status_code, replaced.headers["etag"], replaced.json()["version"]) == (200, '"2"', 2)
    assert replaced.json()["pauses"] == {} and replaced.json()["warning"] == {"share": 0.8, "minutes": None}
    assert replaced.json()["escalation"]["reassign_to"] is None
    assert (read.status_code, read.headers["etag"]) == (200, '"2"')
    assert read.json() == replaced.json()


async def test_an_identical_put_keeps_the_version(client, staff):
    manager = staff["manager"]
    await _put(client, manager, "standard", policy_body())
    body = policy_body(conditions={"priority": ["urgent", "high"]}, position=1)
    await _put(client, manager, "vip", {**body, "name": "VIP"})

    again = await client.put(f"{BASE}/vip", json={**body, "name": "VIP"}, headers=manager)

    assert (again.status_code, again.headers["etag"], again.json()["version"]) == (200, '"1"', 1)
    assert again.json()["conditions"]["priority"] == ["high", "urgent"]
    assert await _order(client, manager) == [("vip", 1, 1), ("standard", 2, 2)]


async def test_a_subjects_policies_are_listed_in_the_order_they_are_tried(client, staff):
    manager = staff["manager"]
    await _put(client, manager, "standard", policy_body())
    await _put(client, manager, "vip", vip_body(1))
    await _put(client, manager, "urgent", policy_body(1, name="Urgent", conditions={"priority": ["urgent"]}))
    await _put(client, manager, "refunds", refund_body())

    assert await _order(client, staff["reviewer"]) == [("urgent", 1, 1), ("vip", 2, 2), ("standard", 3, 3)]
    assert await _order(client, staff["agent"], "after_sales") == [("refunds", 1, 1)]
    problem_fields(await client.get(BASE, headers=manager), 422, "validation_failed")
    assert problem_fields(
        await client.get(BASE, params={"subject": "order"}, headers=manager), 422, "validation_failed"
    ) == {"subject"}


async def test_the_clock_reads_a_subjects_policies_in_order_as_they_were_sent(app, client, staff):
    manager = staff["manager"]
    await _put(client, manager, "standard", policy_body(pauses={"resolution": []}))
    await _put(
        client,
        manager,
        "vip",
        vip_body(
            1,
            conditions={"vip": True, "group_key": ["repairs-east"]},
            warning=None,
            escalation={"on_warning": [], "reassign_to": "repairs-east", "raise_level": False},
        ),
    )

    async with SqlUnitOfWorkFactory(app.state.services.database).read() as uow:
        policies = await uow.sla_policies.policies(Subject.TICKET)

    assert [(p.key, p.position) for p in policies] == [("vip", 1), ("standard", 2)]
    vip, standard = policies
    assert match(policies, Subject.TICKET, {"vip": True, "group_key": "repairs-east"}) == vip
    assert match(policies, Subject.TICKET, {"vip": True, "group_key": "repairs-west"}) == standard
    assert vip.target("first_reply", "urgent") == Target(4 * HOUR, business=False)
    assert vip.target("resolution", "normal") == Target(72 * HOUR, business=True, calendar=CN)
    assert vip.warning is None and standard.warning == WarningRule(share=0.8)
    assert vip.escalation == Escalation(on_warning=frozenset(), reassign_to="repairs-east", raise_level=False)
    assert standard.pause_states(RESOLUTION) == frozenset()


# Positions and reordering


async def test_a_taken_position_pushes_that_policy_and_those_after_it_one_place_later(client, staff):
    manager = staff["manager"]
    await _put(client, manager, "standard", policy_body())
    await _put(client, manager, "a", vip_body(1, name="A"))
    await _put(client, manager, "b", vip_body(2, name="B"))  # between a and standard

    assert await _order(client, manager) == [("a", 1, 1), ("b", 2, 1), ("standard", 3, 3)]

    moved = await client.put(f"{BASE}/standard", json=policy_body(2), headers=manager)  # up: b moves later
    assert problem_fields(moved, 422, "invalid_sla_policy") == {"#"}  # b, now last, has conditions
    await _put(client, manager, "b", vip_body(1, name="B"))  # b to the front: a moves later, standard stays

    assert await _order(client, manager) == [("b", 1, 2), ("a", 2, 2), ("standard", 3, 3)]


async def test_a_position_past_the_end_is_refused_and_changes_nothing(client, staff):
    manager = staff["manager"]
    await _put(client, manager, "standard", policy_body())
    await _put(client, manager, "vip", vip_body(1))

    new_beyond = await client.put(f"{BASE}/urgent", json=policy_body(4, name="U"), headers=manager)
    moved_beyond = await client.put(f"{BASE}/standard", json=policy_body(3), headers=manager)
    first_beyond = await client.put(f"{BASE}/refunds", json=refund_body(2), headers=manager)

    for response in (new_beyond, moved_beyond, first_beyond):
        assert problem_fields(response, 422, "invalid_sla_policy") == {"#/position"}
        assert "reordering to a position that does not exist" in response.json()["errors"][0]["detail"]
    assert "1–3" in new_beyond.json()["errors"][0]["detail"] and "1–2" in moved_beyond.json()["errors"][0]["detail"]
    assert await _order(client, manager) == [("vip", 1, 1), ("standard", 2, 2)]
    assert await _order(client, manager, "after_sales") == []
    await _absent(client, manager, "urgent")


async def test_a_reorder_sets_positions_one_to_n_and_versions_only_the_policies_that_moved(client, staff):
    manager = staff["manager"]
    await _put(client, manager, "standard", policy_body())
    await _put(client, manager, "a", vip_body(1, name="A"))
    await _put(client, manager, "b", vip_body(1, name="B"))
    await _put(client, manager, "c", vip_body(1, name="C"))
    before = await _order(client, manager)

    reordered = await client.post(
        f"{BASE}/order", json={"subject": "ticket", "keys": ["a", "b", "c", "standard"]}, headers=manager
    )

    assert before == [("c", 1, 1), ("b", 2, 2), ("a", 3, 3), ("standard", 4, 4)]
    assert reordered.status_code == 200, reordered.text
    answered = [(p["key"], p["position"], p["version"]) for p in reordered.json()["items"]]
    assert answered == [("a", 1, 4), ("b", 2, 2), ("c", 3, 2), ("standard", 4, 4)]
    assert await _order(client, staff["agent"]) == answered
    assert (await client.get(f"{BASE}/c", headers=manager)).headers["etag"] == '"2"'


BAD_ORDERS = {
    "unknown key": (["vip", "nope", "standard"], {"#/keys/1"}),
    "key of the other subject": (["vip", "refunds", "standard"], {"#/keys/1"}),
    "duplicate key": (["vip", "standard", "vip"], {"#/keys/2"}),
    "duplicate instead of one": (["vip", "vip"], {"#/keys/1", "#/keys"}),
    "missing key": (["standard"], {"#/keys"}),
    "no default last": (["standard", "vip"], {"#/keys/1"}),
    "bad key": (["vip", "Standard!"], {"#/keys/1"}),
}


@pytest.mark.parametrize(("keys", "pointers"), BAD_ORDERS.values(), ids=BAD_ORDERS.keys())
async def test_a_bad_reorder_is_a_422_naming_the_keys_and_changes_nothing(client, staff, keys, pointers):
    manager = staff["manager"]
    await _put(client, manager, "standard", policy_body())
    await _put(client, manager, "vip", vip_body(1))
    await _put(client, manager, "refunds", refund_body())

    response = await client.post(f"{BASE}/order", json={"subject": "ticket", "keys": keys}, headers=manager)

    code = "validation_failed" if "Standard!" in keys else "invalid_sla_policy"
    assert problem_fields(response, 422, code) == pointers
    assert await _order(client, manager) == [("vip", 1, 1), ("standard", 2, 2)]


async def test_a_policy_may_move_to_the_other_subject_and_its_old_order_closes_up(client, staff):
    manager = staff["manager"]
    await _put(client, manager, "standard", policy_body())
    await _put(client, manager, "vip", vip_body(1))
    await _put(client, manager, "refunds", refund_body())

    moved = await client.put(
        f"{BASE}/vip", json=refund_body(1, name="VIP refunds", conditions={"vip": True}), headers=manager
    )

    assert (moved.status_code, moved.json()["subject"], moved.json()["version"]) == (200, "after_sales", 2)
    assert await _order(client, manager) == [("standard", 1, 3)]
    assert await _order(client, manager, "after_sales") == [("vip", 1, 2), ("refunds", 2, 2)]

    last_away = await client.put(f"{BASE}/standard", json=refund_body(1), headers=manager)

    assert last_away.status_code == 200, last_away.text  # the last ticket policy leaves: no subject lacks a default
    assert await _order(client, manager) == []
    assert await _order(client, manager, "after_sales") == [("standard", 1, 4), ("vip", 2, 3), ("refunds", 3, 3)]


async def test_moving_a_subjects_default_to_the_other_subject_is_refused_while_others_remain(client, staff):
    manager = staff["manager"]
    await _put(client, manager, "standard", policy_body())
    await _put(client, manager, "vip", vip_body(1))

    refused = await client.put(f"{BASE}/standard", json=refund_body(1), headers=manager)

    problem_fields(refused, 409, "sla_default_required")
    assert await _order(client, manager) == [("vip", 1, 1), ("standard", 2, 2)]
    assert await _order(client, manager, "after_sales") == []


@pytest.mark.postgres_only
async def test_concurrent_puts_into_one_subject_queue_and_keep_the_order_total(client, staff, monkeypatch):
    """Eight defaults put at position 1 of an empty subject at once: each must see the ones before it, or two
    would share a position (no row exists yet that a row lock could hold)."""
    inside, most = 0, 0
    lock = SqlSlaPolicyRepository.lock

    async def counted(self: SqlSlaPolicyRepository) -> None:
        nonlocal inside, most
        inside += 1
        most = max(most, inside)
        try:
            await lock(self)
        finally:
            inside -= 1

    monkeypatch.setattr(SqlSlaPolicyRepository, "lock", counted)
    manager = staff["manager"]

    answers = await asyncio.gather(
        *(client.put(f"{BASE}/p-{n}", json=policy_body(1, name=f"P {n}"), headers=manager) for n in range(8))
    )

    assert [a.status_code for a in answers] == [201] * 8, [a.text for a in answers]
    assert most >= 2, "the requests did not overlap"
    order = await _order(client, manager)
    assert sorted(position for _, position, _ in order) == list(range(1, 9))
    assert sorted(key for key, _, _ in order) == [f"p-{n}" for n in range(8)]


# Deleting


async def test_a_deletion_needs_the_current_etag_and_closes_the_gap(client, staff):
    manager = staff["manager"]
    await _put(client, manager, "standard", policy_body())
    await _put(client, manager, "a", vip_body(1, name="A"))
    await _put(client, manager, "b", vip_body(1, name="B"))

    without = await client.delete(f"{BASE}/b", headers=manager)
    stale = await client.delete(f"{BASE}/b", headers={**manager, "If-Match": '"2"'})
    deleted = await client.delete(f"{BASE}/b", headers={**manager, "If-Match": '"1"'})
    again = await client.delete(f"{BASE}/b", headers={**manager, "If-Match": '"1"'})

    problem_fields(without, 428, "if_match_required")
    problem_fields(stale, 412, "etag_mismatch")
    assert (deleted.status_code, deleted.content) == (204, b"")
    problem_fields(again, 404, "sla_policy_not_found")
    await _absent(client, manager, "b")
    assert await _order(client, manager) == [("a", 1, 3), ("standard", 2, 4)]


async def test_the_last_default_of_a_subject_with_other_policies_cannot_be_deleted(client, staff):
    manager = staff["manager"]
    await _put(client, manager, "standard", policy_body())
    await _put(client, manager, "vip", vip_body(1))

    refused = await client.delete(f"{BASE}/standard", headers={**manager, "If-Match": '"2"'})
    vip_gone = await client.delete(f"{BASE}/vip", headers={**manager, "If-Match": '"1"'})
    last_gone = await client.delete(f"{BASE}/standard", headers={**manager, "If-Match": '"3"'})  # moved up: v3

    problem_fields(refused, 409, "sla_default_required")
    assert "vip" in refused.json()["detail"]
    assert (vip_gone.status_code, last_gone.status_code) == (204, 204)
    assert await _order(client, manager) == []


# ETags and If-Match


async def test_a_stale_if_match_is_refused_and_changes_nothing(client, staff):
    manager = staff["manager"]
    await _put(client, manager, "standard", policy_body())
    current = await client.put(f"{BASE}/standard", json=policy_body(name="B"), headers={**manager, "If-Match": '"1"'})

    stale = await client.put(f"{BASE}/standard", json=policy_body(name="C"), headers={**manager, "If-Match": '"1"'})
    exists = await client.put(f"{BASE}/standard", json=policy_body(name="D"), headers={**manager, "If-None-Match": "*"})
    missing = await client.put(f"{BASE}/nope", json=vip_body(1), headers={**manager, "If-Match": '"1"'})

    assert (current.status_code, current.headers["etag"]) == (200, '"2"')
    problem_fields(stale, 412, "etag_mismatch")
    assert stale.json()["current_etag"] == '"2"'
    problem_fields(exists, 412, "already_exists")
    problem_fields(missing, 412, "etag_mismatch")
    read = await client.get(f"{BASE}/standard", headers=manager)
    assert (read.json()["name"], read.json()["version"]) == ("B", 2)
    await _absent(client, manager, "nope")


async def test_changes_need_if_match_where_the_service_requires_it(app_with, staff):
    async with client_for(app_with(require_if_match=True)) as client:
        manager = staff["manager"]
        created = await client.put(f"{BASE}/standard", json=policy_body(), headers=manager)
        refused = await client.put(f"{BASE}/standard", json=policy_body(name="B"), headers=manager)
        replaced = await client.put(
            f"{BASE}/standard", json=policy_body(name="B"), headers={**manager, "If-Match": '"1"'}
        )

    assert created.status_code == 201
    problem_fields(refused, 428, "if_match_required")
    assert (replaced.status_code, replaced.headers["etag"]) == (200, '"2"')


# Permissions


async def test_staff_read_policies_customers_do_not_and_only_managers_and_admins_change_them(client, staff):
    await _put(client, staff["admin"], "standard", policy_body())
    paths = (f"{BASE}/standard", f"{BASE}?subject=ticket")

    for role in ("agent", "reviewer", "manager", "admin"):
        for path in paths:
            assert (await client.get(path, headers=staff[role])).status_code == 200, (role, path)
    for role in ("customer", "integration"):
        for path in paths:
            problem_fields(await client.get(path, headers=staff[role]), 403, "role_not_allowed")
    for role in ("agent", "reviewer", "integration", "customer"):
        headers = staff[role]
        put = await client.put(f"{BASE}/standard", json=policy_body(name="X"), headers=headers)
        created = await client.put(f"{BASE}/vip", json=vip_body(1), headers=headers)
        order = await client.post(f"{BASE}/order", json={"subject": "ticket", "keys": ["standard"]}, headers=headers)
        deleted = await client.delete(f"{BASE}/standard", headers={**headers, "If-Match": '"1"'})
        for response in (put, created, order, deleted):
            problem_fields(response, 403, "role_not_allowed")
    read = await client.get(f"{BASE}/standard", headers=staff["agent"])
    assert (read.json()["name"], read.json()["version"]) == ("标准服务", 1)
    await _absent(client, staff["agent"], "vip")


# A default is required


async def test_every_subject_ends_with_a_policy_without_conditions(client, staff):
    manager = staff["manager"]

    first_with_conditions = await client.put(f"{BASE}/vip", json=vip_body(1), headers=manager)
    await _put(client, manager, "standard", policy_body())
    after_the_default = await client.put(f"{BASE}/vip", json=vip_body(2), headers=manager)
    default_given_conditions = await client.put(
        f"{BASE}/standard", json=policy_body(conditions={"region": ["east"]}), headers=manager
    )

    for response in (first_with_conditions, after_the_default, default_given_conditions):
        assert problem_fields(response, 422, "invalid_sla_policy") == {"#/conditions"}
        assert "default" in response.json()["errors"][0]["detail"]
    await _absent(client, manager, "vip")
    assert await _order(client, manager) == [("standard", 1, 1)]
    assert (await client.get(f"{BASE}/standard", headers=manager)).json()["conditions"]["region"] is None


async def test_a_subject_holds_at_most_two_hundred_policies(client, staff):
    manager = staff["manager"]
    await _put(client, manager, "standard", policy_body())
    for n in range(1, 200):
        await _put(client, manager, f"p-{n:03}", vip_body(n, name=f"P {n}"))

    refused = await client.put(f"{BASE}/one-too-many", json=vip_body(1), headers=manager)

    assert problem_fields(refused, 422, "invalid_sla_policy") == {"#/subject"}
    order = await _order(client, manager)
    assert len(order) == 200 and order[0] == ("p-001", 1, 1) and order[-1][:2] == ("standard", 200)
    await _absent(client, manager, "one-too-many")


# Bad policies: each a 422 naming the field, and nothing written


def _target(**fields: Any) -> dict[str, Any]:
    return {"targets": {"first_reply": {"normal": {**business(8), **fields}}}}


BAD_POLICIES = {
    "unknown calendar": (
        {"targets": {"first_reply": {"high": {**business(8), "calendar": "us-office"}}}},
        "invalid_sla_policy",
        "#/targets/first_reply/high/calendar",
    ),
    "business time without a calendar": (
        _target(calendar=None),
        "invalid_sla_policy",
        "#/targets/first_reply/normal/calendar",
    ),
    "calendar time with a calendar": (
        _target(business=False),
        "invalid_sla_policy",
        "#/targets/first_reply/normal/calendar",
    ),
    "unknown group to reassign to": (
        {"escalation": {"reassign_to": "repairs-west"}},
        "invalid_sla_policy",
        "#/escalation/reassign_to",
    ),
    "unknown group in the conditions": (
        {"conditions": {"group_key": ["repairs-west"]}, "position": 1},
        "invalid_sla_policy",
        "#/conditions/group_key",
    ),
    "unknown metric": (
        {"targets": {"first_response": {"normal": business(8)}}},
        "invalid_sla_policy",
        "#/targets/first_response",
    ),
    "metric of the other subject": (
        {"targets": {"review": {"normal": business(8)}}},
        "invalid_sla_policy",
        "#/targets/review",
    ),
    "unknown state limited": (
        {"targets": {"state:on_hold": {"normal": business(8)}}},
        "invalid_sla_policy",
        "#/targets/state:on_hold",
    ),
    "final state limited": (
        {"targets": {"state:closed": {"normal": business(8)}}},
        "invalid_sla_policy",
        "#/targets/state:closed",
    ),
    "unknown state paused in": (
        {"pauses": {"resolution": ["on_hold"]}},
        "invalid_sla_policy",
        "#/pauses/resolution",
    ),
    "metric with no priority": ({"targets": {"first_reply": {}}}, "invalid_sla_policy", "#/targets/first_reply"),
    "unknown condition field": ({"conditions": {"colour": ["red"]}}, "validation_failed", "#/conditions/colour"),
    "unknown condition value": (
        {"conditions": {"priority": ["critical"]}, "position": 1},
        "invalid_sla_policy",
        "#/conditions/priority",
    ),
    "condition accepting nothing": ({"conditions": {"region": []}}, "validation_failed", "#/conditions/region"),
    "text for a list of values": (
        {"conditions": {"region": "east"}},
        "validation_failed",
        "#/conditions/region",
    ),
    "list for vip": ({"conditions": {"vip": [True]}}, "validation_failed", "#/conditions/vip"),
    "text for vip": ({"conditions": {"vip": "yes"}}, "validation_failed", "#/conditions/vip"),
    "unknown priority": (
        {"targets": {"first_reply": {"critical": business(8)}}},
        "validation_failed",
        "#/targets/first_reply/critical",
    ),
    "zero seconds": (_target(seconds=0), "validation_failed", "#/targets/first_reply/normal/seconds"),
    "negative seconds": (_target(seconds=-60), "validation_failed", "#/targets/first_reply/normal/seconds"),
    "10**20 seconds": (_target(seconds=10**20), "validation_failed", "#/targets/first_reply/normal/seconds"),
    "more than a year": (
        _target(seconds=367 * 86_400),
        "validation_failed",
        "#/targets/first_reply/normal/seconds",
    ),
    "text for seconds": (_target(seconds="3600"), "validation_failed", "#/targets/first_reply/normal/seconds"),
    "fraction for seconds": (_target(seconds=3600.5), "validation_failed", "#/targets/first_reply/normal/seconds"),
    "boolean for seconds": (_target(seconds=True), "validation_failed", "#/targets/first_reply/normal/seconds"),
    "text for business": (_target(business="yes"), "validation_failed", "#/targets/first_reply/normal/business"),
    "number for a calendar": (_target(calendar=5), "validation_failed", "#/targets/first_reply/normal/calendar"),
    "unknown target field": (_target(hours=8), "validation_failed", "#/targets/first_reply/normal/hours"),
    "list for targets": ({"targets": [business(8)]}, "validation_failed", "#/targets"),
    "text for pauses": ({"pauses": {"resolution": "new"}}, "validation_failed", "#/pauses/resolution"),
    "warning share 0": ({"warning": {"share": 0}}, "validation_failed", "#/warning/share"),
    "warning share 1": ({"warning": {"share": 1}}, "validation_failed", "#/warning/share"),
    "warning share as text": ({"warning": {"share": "0.8"}}, "validation_failed", "#/warning/share"),
    "warning by share and minutes": (
        {"warning": {"share": 0.5, "minutes": 10}},
        "invalid_sla_policy",
        "#/warning",
    ),
    "empty warning": ({"warning": {}}, "invalid_sla_policy", "#/warning"),
    "warning 0 minutes": ({"warning": {"minutes": 0}}, "validation_failed", "#/warning/minutes"),
    "unknown recipient": ({"escalation": {"on_breach": ["ceo"]}}, "invalid_sla_policy", "#/escalation/on_breach"),
    "text for raise_priority": (
        {"escalation": {"raise_priority": "yes"}},
        "validation_failed",
        "#/escalation/raise_priority",
    ),
    "unknown escalation field": ({"escalation": {"notify": ["ceo"]}}, "validation_failed", "#/escalation/notify"),
    "unknown field": ({"colour": "blue"}, "validation_failed", "#/colour"),
    "unknown subject": ({"subject": "order"}, "validation_failed", "#/subject"),
    "blank name": ({"name": "  "}, "validation_failed", "#/name"),
    "position 0": ({"position": 0}, "validation_failed", "#/position"),
    "position 10**20": ({"position": 10**20}, "validation_failed", "#/position"),
    "text for a position": ({"position": "1"}, "validation_failed", "#/position"),
}


@pytest.mark.parametrize(("fields", "code", "pointer"), BAD_POLICIES.values(), ids=BAD_POLICIES.keys())
async def test_a_bad_policy_is_a_422_naming_the_field_and_nothing_is_written(client, staff, fields, code, pointer):
    manager = staff["manager"]
    await _put(client, manager, "standard", policy_body())
    body = {**policy_body(2), **fields}

    response = await client.put(f"{BASE}/bad", json=body, headers=manager)

    assert pointer in problem_fields(response, 422, code)
    await _absent(client, manager, "bad")
    assert await _order(client, manager) == [("standard", 1, 1)]


BAD_AFTER_SALES = {
    "target under a priority": (
        {"targets": {"review": {"urgent": business(8)}}},
        "#/targets/review/urgent",
    ),
    "a ticket's condition": ({"conditions": {"priority": ["high"]}}, "#/conditions/priority"),
    "a ticket's metric": ({"targets": {"first_reply": {"normal": business(8)}}}, "#/targets/first_reply"),
    "a ticket state": ({"pauses": {"refund_completion": ["waiting_on_customer"]}}, "#/pauses/refund_completion"),
    "raising a priority": ({"escalation": {"raise_priority": True}}, "#/escalation/raise_priority"),
    "reassigning to a group": ({"escalation": {"reassign_to": "repairs-east"}}, "#/escalation/reassign_to"),
}


@pytest.mark.parametrize(("fields", "pointer"), BAD_AFTER_SALES.values(), ids=BAD_AFTER_SALES.keys())
async def test_an_after_sales_policy_names_only_what_orders_have(client, staff, fields, pointer):
    manager = staff["manager"]

    response = await client.put(f"{BASE}/bad", json={**refund_body(), **fields}, headers=manager)

    assert pointer in problem_fields(response, 422, "invalid_sla_policy")
    await _absent(client, manager, "bad")


async def test_a_bad_key_in_the_path_is_a_422_naming_it(client, staff):
    manager = staff["manager"]

    for key in ("Standard", "-standard", "a" * 65):
        assert problem_fields(
            await client.put(f"{BASE}/{key}", json=policy_body(), headers=manager), 422, "validation_failed"
        ) == {"key"}
    assert await _order(client, manager) == []


async def test_a_refused_replacement_keeps_the_policy_as_it_was(client, staff):
    manager = staff["manager"]
    created = (await _put(client, manager, "standard", policy_body())).json()

    refused = await client.put(
        f"{BASE}/standard", json=policy_body(pauses={"resolution": ["on_hold"]}), headers=manager
    )

    assert problem_fields(refused, 422, "invalid_sla_policy") == {"#/pauses/resolution"}
    assert (await client.get(f"{BASE}/standard", headers=manager)).json() == created


def test_the_conditions_contract_names_every_fact_a_policy_matches_on():
    assert tuple(SlaConditionsIn.model_fields) == CONDITION_NAMES
    assert tuple(SlaConditionsOut.model_fields) == CONDITION_NAMES


# Events


@pytest.fixture
async def hooks(app_with) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An app whose webhooks may reach 127.0.0.1, on the test's database."""
    app = app_with(webhook_allowed_hosts="127.0.0.1")
    async with client_for(app) as http:
        yield app, http


async def test_policy_changes_are_announced_for_the_clock_to_derive_deadlines_again(hooks, staff):
    app, http = hooks
    admin, manager = staff["admin"], staff["manager"]
    async with Receiver() as receiver:
        subscribed = await http.post(
            "/v1/webhook-endpoints",
            json={"url": receiver.url, "event_types": ["sla_policy.*", "sla_policies.*"]},
            headers=admin,
        )
        assert subscribed.status_code == 201, subscribed.text
        endpoint = subscribed.json()
        await _put(http, manager, "standard", policy_body())
        created = (await http.get(f"{BASE}/standard", headers=manager)).json()
        await _put(http, manager, "standard", policy_body())  # the same again: nothing to announce
        refused = await http.put(f"{BASE}/standard", json=policy_body(conditions={"vip": True}), headers=manager)
        await _put(http, manager, "vip", vip_body(1))  # pushes standard to 2
        vip = (await http.get(f"{BASE}/vip", headers=manager)).json()
        await http.post(f"{BASE}/order", json={"subject": "ticket", "keys": ["vip", "standard"]}, headers=manager)
        deleted = await http.delete(f"{BASE}/vip", headers={**manager, "If-Match": '"1"'})

        await app.state.services.webhooks.dispatch()
        bodies = sorted(
            (Webhook(endpoint["secret"]).verify(r.body.decode(), r.headers) for r in receiver.received),
            key=lambda body: body["sequence"],
        )

    assert refused.status_code == 422 and deleted.status_code == 204
    assert [b["type"] for b in bodies] == [
        "sla_policy.created",
        "sla_policy.created",
        "sla_policies.reordered",
        "sla_policy.deleted",
        "sla_policies.reordered",
    ]
    assert bodies[0]["data"] == {"key": "standard", "version": 1, "change": "created", "sla_policy": created}
    assert bodies[1]["data"] == {"key": "vip", "version": 1, "change": "created", "sla_policy": vip}
    assert bodies[2]["data"] == {
        "subject": "ticket",
        "order": [
            {"key": "vip", "position": 1, "version": 1},
            {"key": "standard", "position": 2, "version": 2},
        ],
    }
    assert bodies[3]["data"] == {"key": "vip", "version": 1, "change": "deleted", "sla_policy": vip}
    assert bodies[4]["data"] == {"subject": "ticket", "order": [{"key": "standard", "position": 1, "version": 3}]}
