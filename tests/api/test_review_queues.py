"""Review queues (审核队列): configured by admins and business-line managers, orders routed to the first queue whose
conditions hold, each queue's claim pool, claims only by the queue's reviewers, decisions only by the holder, transfers
by managers, and none of it visible to customers."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Hashable, Mapping
from datetime import timedelta
from typing import Any

import pytest

from app.domain.pagination import PageRequest
from app.domain.principal import Role
from app.persistence.after_sales import SqlAfterSalesRepository
from tests.api.test_after_sales_buttons import AfterSalesDriver
from tests.buttons import action_names, walk
from tests.factories import agent_body, order_body, product_body, put, seed_shop
from tests.problems import problem_fields
from tests.sql_capture import executed_plans, scanned, sent_statements

BASE = "/v1/review-queues"
_numbers = itertools.count(1)


def queue_body(position: int = 1, reviewers: tuple[str, ...] = ("rev-1", "rev-2"), **conditions: Any) -> dict:
    return {"name": "审核队列", "position": position, "conditions": conditions, "reviewers": list(reviewers)}


@pytest.fixture
async def desk(client, auth):
    """Products SKU-1 (line `home`) and SKU-2 (line `office`), customers C-1 and C-2, reviewers rev-1..rev-3 and
    rev-off (inactive), manager-1 and agent-1."""
    await seed_shop(client, auth)
    admin = auth(Role.ADMIN)
    await put(client, admin, "/v1/products/SKU-2", product_body(name="Desk", model="DK-1", product_line="office"))
    for user_id in ("rev-1", "rev-2", "rev-3"):
        await put(client, admin, f"/v1/agents/{user_id}", agent_body(roles=["reviewer"], groups=[]))
    await put(client, admin, "/v1/agents/rev-off", agent_body(roles=["reviewer"], groups=[], active=False))
    await put(client, admin, "/v1/agents/manager-1", agent_body(roles=["manager"], groups=[]))
    await put(client, admin, "/v1/agents/agent-1", agent_body(groups=[]))


def reviewer(auth, user_id: str) -> dict[str, str]:
    return auth(Role.REVIEWER, sub=user_id)


def manager(auth, *lines: str) -> dict[str, str]:
    return auth(Role.MANAGER, sub="manager-1", business_lines=lines)


async def _queue(client, auth, key: str, body: dict) -> dict:
    response = await client.put(f"{BASE}/{key}", json=body, headers=auth(Role.ADMIN))
    assert response.status_code in (200, 201), response.text
    return response.json()


async def _requested(client, auth, *, sku: str = "SKU-1", customer_no: str = "C-1", **request: Any) -> dict:
    """An after-sales request on a sales order of its own (2 × `sku` at 100.00), as the staff view shows it."""
    order_no = f"SO-Q-{next(_numbers)}"
    lines = [{"sku": sku, "quantity": 2, "unit_price": 10000}]
    await put(client, auth(Role.INTEGRATION), f"/v1/orders/{order_no}", order_body(customer_no, lines=lines))
    body = {"order_no": order_no, "reason_code": "changed_mind", "lines": [{"sku": sku, "quantity": 1}], **request}
    created = await client.post("/v1/after-sales", json=body, headers=auth(Role.CUSTOMER, customer_no=customer_no))
    assert created.status_code == 201, created.text
    return (await client.get(f"/v1/after-sales/{created.json()['id']}", headers=auth(Role.ADMIN))).json()


async def _partial(client, auth, amount: int = 5000, **request: Any) -> dict:
    return await _requested(client, auth, type="partial_refund", amount=amount, **request)


async def _act(client, headers, order, action, **body):
    return await client.post(f"/v1/after-sales/{order['id']}/actions/{action}", json=body, headers=headers)


async def _read(client, headers, order) -> dict:
    return (await client.get(f"/v1/after-sales/{order['id']}", headers=headers)).json()


async def _pool(client, headers, key: str, **params: Any) -> dict:
    response = await client.get(f"{BASE}/{key}/pool", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _ids(page: dict) -> list[str]:
    return [item["id"] for item in page["items"]]


# Configuring queues


async def test_a_queue_is_created_replaced_and_read_with_its_etag(client, auth, desk):
    body = queue_body(2, business_lines=["home"], types=["refund"], amount={"currency": "CNY", "min": 100, "max": 900})

    created = await client.put(f"{BASE}/home", json=body, headers=manager(auth, "home"))
    replaced = await client.put(f"{BASE}/home", json={**body, "name": "家电"}, headers=manager(auth, "home"))
    same = await client.put(f"{BASE}/home", json={**body, "name": "家电"}, headers=manager(auth, "home"))
    read = await client.get(f"{BASE}/home", headers=reviewer(auth, "rev-3"))

    assert (created.status_code, created.headers["etag"]) == (201, '"1"')
    assert (replaced.status_code, replaced.headers["etag"], same.headers["etag"]) == (200, '"2"', '"2"')
    assert (read.status_code, read.headers["etag"]) == (200, '"2"')
    queue = read.json()
    assert (queue["key"], queue["name"], queue["position"], queue["reviewers"]) == (
        "home",
        "家电",
        2,
        ["rev-1", "rev-2"],
    )
    assert queue["conditions"] == {
        "business_lines": ["home"],
        "types": ["refund"],
        "amount": {"currency": "CNY", "min": 100, "max": 900},
    }


async def test_queues_are_listed_in_matching_order_in_keyset_pages(client, auth, desk):
    for key, position in (("c", 1), ("b", 2), ("a", 2), ("d", 3)):
        await _queue(client, auth, key, queue_body(position))

    first = (await client.get(BASE, params={"limit": 3}, headers=auth(Role.AGENT))).json()
    rest = (await client.get(BASE, params={"cursor": first["next_cursor"]}, headers=auth(Role.AGENT))).json()

    assert [q["key"] for q in first["items"]] + [q["key"] for q in rest["items"]] == ["c", "a", "b", "d"]
    assert rest["next_cursor"] is None


async def test_unknown_inactive_and_repeated_reviewers_are_each_named(client, auth, desk):
    body = queue_body(reviewers=("rev-1", "ghost", "rev-off", "rev-1"))

    response = await client.put(f"{BASE}/q", json=body, headers=auth(Role.ADMIN))

    assert problem_fields(response, 422, "invalid_review_queue") == {"#/reviewers/1", "#/reviewers/2", "#/reviewers/3"}
    assert (await client.get(f"{BASE}/q", headers=auth(Role.ADMIN))).status_code == 404


@pytest.mark.parametrize(
    ("conditions", "code", "pointer"),
    [
        ({"amount": {"currency": "CNY", "min": 5000, "max": 5000}}, "invalid_review_queue", "#/conditions/amount/max"),
        ({"amount": {"currency": "CNY", "min": 9000, "max": 5000}}, "invalid_review_queue", "#/conditions/amount/max"),
        ({"amount": {"currency": "ABC", "max": 5000}}, "invalid_review_queue", "#/conditions/amount/currency"),
        ({"amount": {"currency": "CNY", "max": 50.5}}, "validation_failed", "#/conditions/amount/max"),
        ({"amount": {"currency": "CNY", "max": "5000"}}, "validation_failed", "#/conditions/amount/max"),
        ({"types": ["refund", "repair"]}, "validation_failed", "#/conditions/types/1"),
        ({"business_lines": "home"}, "validation_failed", "#/conditions/business_lines"),
        ({"region": ["CN-31"]}, "validation_failed", "#/conditions/region"),
    ],
)
async def test_bad_conditions_are_refused_naming_the_field(client, auth, desk, conditions, code, pointer):
    response = await client.put(f"{BASE}/q", json=queue_body(**conditions), headers=auth(Role.ADMIN))

    assert pointer in problem_fields(response, 422, code)


async def test_unknown_fields_and_missing_reviewers_are_refused(client, auth, desk):
    unknown = await client.put(f"{BASE}/q", json={**queue_body(), "priority": "high"}, headers=auth(Role.ADMIN))
    empty = await client.put(f"{BASE}/q", json=queue_body(reviewers=()), headers=auth(Role.ADMIN))

    assert problem_fields(unknown, 422, "validation_failed") == {"#/priority"}
    assert problem_fields(empty, 422, "validation_failed") == {"#/reviewers"}


async def test_stale_or_missing_if_match_is_refused(client, auth, desk):
    admin = auth(Role.ADMIN)
    await _queue(client, auth, "q", queue_body())
    await client.put(f"{BASE}/q", json=queue_body(2), headers={**admin, "If-Match": '"1"'})

    stale_put = await client.put(f"{BASE}/q", json=queue_body(3), headers={**admin, "If-Match": '"1"'})
    exists = await client.put(f"{BASE}/q", json=queue_body(3), headers={**admin, "If-None-Match": "*"})
    unguarded_delete = await client.delete(f"{BASE}/q", headers=admin)
    stale_delete = await client.delete(f"{BASE}/q", headers={**admin, "If-Match": '"1"'})
    deleted = await client.delete(f"{BASE}/q", headers={**admin, "If-Match": '"2"'})
    gone = await client.get(f"{BASE}/q", headers=admin)

    problem_fields(stale_put, 412, "etag_mismatch")
    assert stale_put.json()["current_etag"] == '"2"'
    problem_fields(exists, 412, "already_exists")
    problem_fields(unguarded_delete, 428, "if_match_required")
    problem_fields(stale_delete, 412, "etag_mismatch")
    assert (deleted.status_code, deleted.content) == (204, b"")
    problem_fields(gone, 404, "review_queue_not_found")


async def test_a_manager_configures_only_queues_of_their_own_business_lines(client, auth, desk):
    await _queue(client, auth, "both", queue_body(business_lines=["home", "office"]))
    office_manager, home_manager = manager(auth, "office"), manager(auth, "home")

    other_line = await client.put(f"{BASE}/home", json=queue_body(business_lines=["home"]), headers=office_manager)
    every_line = await client.put(f"{BASE}/any", json=queue_body(), headers=home_manager)
    own_line = await client.put(f"{BASE}/home", json=queue_body(business_lines=["home"]), headers=home_manager)
    take_over = await client.put(f"{BASE}/both", json=queue_body(business_lines=["home"]), headers=home_manager)
    delete_shared = await client.delete(f"{BASE}/both", headers={**home_manager, "If-Match": '"1"'})
    by_reviewer = await client.put(f"{BASE}/r", json=queue_body(), headers=reviewer(auth, "rev-1"))
    unscoped = await client.put(f"{BASE}/any", json=queue_body(), headers=manager(auth))

    problem_fields(other_line, 403, "forbidden")
    problem_fields(every_line, 403, "forbidden")
    assert own_line.status_code == 201, own_line.text
    problem_fields(take_over, 403, "forbidden")
    problem_fields(delete_shared, 403, "forbidden")
    problem_fields(by_reviewer, 403, "role_not_allowed")
    assert unscoped.status_code == 201
    kept = (await client.get(f"{BASE}/both", headers=office_manager)).json()
    assert (kept["version"], kept["conditions"]["business_lines"]) == (1, ["home", "office"])


async def test_customers_see_no_queue_pool_or_the_queue_of_their_order(client, auth, desk):
    await _queue(client, auth, "home", queue_body(business_lines=["home"]))
    order = await _partial(client, auth)
    customer = auth(Role.CUSTOMER)

    answers = [
        await client.get(BASE, headers=customer),
        await client.get(f"{BASE}/home", headers=customer),
        await client.get(f"{BASE}/home/pool", headers=customer),
        await client.get("/v1/queues/reviews", headers=customer),
        await client.put(f"{BASE}/home", json=queue_body(), headers=customer),
        await client.delete(f"{BASE}/home", headers={**customer, "If-Match": '"1"'}),
    ]

    assert [a.status_code for a in answers] == [403] * 6
    assert {a.json()["code"] for a in answers} == {"role_not_allowed"}
    own = await _read(client, customer, order)
    assert (own["review_queue"], own["assignee"], order["review_queue"]) == (None, None, "home")
    timeline = (await client.get(f"/v1/after-sales/{order['id']}/timeline", headers=customer)).json()["items"]
    assert "review_needed" not in [entry["action"] for entry in timeline]
    other = await client.get(f"/v1/after-sales/{order['id']}", headers=auth(Role.CUSTOMER, customer_no="C-2"))
    problem_fields(other, 404, "after_sales_not_found")


# Routing


async def test_an_order_entering_review_goes_to_the_first_queue_whose_conditions_hold(client, auth, desk):
    cny = {"currency": "CNY"}
    await _queue(client, auth, "usd", queue_body(1, amount={"currency": "USD", "min": 0}))
    await _queue(client, auth, "big-home", queue_body(1, business_lines=["home"], amount={**cny, "min": 20000}))
    await _queue(client, auth, "small-home", queue_body(2, business_lines=["home"], amount={**cny, "max": 10000}))
    await _queue(client, auth, "home-returns", queue_body(3, business_lines=["home"], types=["return_refund"]))
    await _queue(client, auth, "office-money", queue_body(3, business_lines=["office"], types=["partial_refund"]))
    await _queue(client, auth, "a-office", queue_body(3, business_lines=["office"], types=["partial_refund"]))

    routed = {
        "whole return of 200.00": await _requested(
            client, auth, type="return_refund", lines=[{"sku": "SKU-1", "quantity": 2}]
        ),
        "99.99": await _partial(client, auth, 9999),
        "return of 100.00": await _requested(client, auth, type="return_refund"),
        "150.00": await _partial(client, auth, 15000, lines=[{"sku": "SKU-1", "quantity": 2}]),
        "office 50.00": await _partial(client, auth, 5000, sku="SKU-2"),
        "office exchange": await _requested(client, auth, type="exchange", sku="SKU-2"),
    }

    assert {name: order["review_queue"] for name, order in routed.items()} == {
        "whole return of 200.00": "big-home",  # min is inclusive
        "99.99": "small-home",
        "return of 100.00": "home-returns",  # max is exclusive
        "150.00": None,  # no home queue takes it: the general pool
        "office 50.00": "a-office",  # a tie of positions goes by key
        "office exchange": None,
    }
    timeline = await client.get(f"/v1/after-sales/{routed['99.99']['id']}/timeline", headers=auth(Role.AGENT))
    entry = next(e for e in timeline.json()["items"] if e["action"] == "review_needed")
    assert entry["payload"]["review_queue"] == "small-home"
    assert entry["visibility"] == "internal"


async def test_a_queue_applies_to_orders_entering_review_after_it_is_saved(client, auth, desk):
    before = await _partial(client, auth)
    await _queue(client, auth, "home", queue_body(business_lines=["home"]))

    after = await _partial(client, auth)

    assert (before["review_queue"], after["review_queue"]) == (None, "home")
    assert _ids(await _pool(client, auth(Role.ADMIN), "home")) == [after["id"]]


# The pool


async def test_a_queue_pool_lists_unclaimed_orders_oldest_first_with_its_size_and_age(
    client, timed_client, clock, auth, desk
):
    await _queue(client, auth, "home", queue_body(business_lines=["home"]))
    orders = []
    for _ in range(3):
        orders.append(await _partial(timed_client, auth))
        clock.advance(timedelta(minutes=1))
    await _partial(timed_client, auth, sku="SKU-2")  # another line: the general pool
    clock.advance(timedelta(minutes=10))
    staff = reviewer(auth, "rev-1")

    first = await _pool(timed_client, staff, "home", limit=2)
    rest = await _pool(timed_client, staff, "home", cursor=first["next_cursor"])
    await _act(timed_client, staff, orders[0], "claim")
    after_claim = await _pool(timed_client, staff, "home")
    other_line = await _pool(timed_client, auth(Role.REVIEWER, sub="rev-2", business_lines=("office",)), "home")

    assert _ids(first) + _ids(rest) == [o["id"] for o in orders]
    assert (first["total"], first["oldest_age_seconds"]) == (3, 13 * 60)
    assert rest["next_cursor"] is None
    assert (after_claim["total"], after_claim["oldest_age_seconds"], _ids(after_claim)) == (
        2,
        12 * 60,
        [o["id"] for o in orders[1:]],
    )
    assert (other_line["total"], other_line["oldest_age_seconds"], other_line["items"]) == (0, None, [])
    unknown = await timed_client.get(f"{BASE}/nope/pool", headers=staff)
    problem_fields(unknown, 404, "review_queue_not_found")


async def test_a_queue_is_deleted_only_when_no_order_waits_unclaimed_in_it(client, auth, desk):
    await _queue(client, auth, "home", queue_body(business_lines=["home"]))
    order = await _partial(client, auth)
    admin = {**auth(Role.ADMIN), "If-Match": '"1"'}

    refused = await client.delete(f"{BASE}/home", headers=admin)
    await _act(client, reviewer(auth, "rev-1"), order, "claim")
    deleted = await client.delete(f"{BASE}/home", headers=admin)
    approved = await _act(client, reviewer(auth, "rev-1"), order, "approve")

    problem_fields(refused, 409, "review_queue_in_use")
    assert deleted.status_code == 204
    assert (approved.status_code, approved.json()["status"], approved.json()["review_queue"]) == (
        200,
        "refunding",
        "home",
    )


# Claiming, deciding, transferring


@pytest.fixture
async def queued(client, auth, desk) -> dict:
    """An order under review in queue `home`, served by rev-1 and rev-2."""
    await _queue(client, auth, "home", queue_body(business_lines=["home"]))
    return await _partial(client, auth)


async def test_only_a_reviewer_of_the_queue_or_a_manager_claims_from_it(client, auth, queued):
    outsider, member = reviewer(auth, "rev-3"), reviewer(auth, "rev-1")
    offered_to_outsider = action_names(await _read(client, outsider, queued))
    offered_to_member = action_names(await _read(client, member, queued))
    pooled_for_member = action_names((await _pool(client, member, "home"))["items"][0])
    other = await _partial(client, auth)

    refused = await _act(client, outsider, queued, "claim")
    claimed = await _act(client, member, queued, "claim")
    by_manager = await _act(client, manager(auth), other, "claim")

    assert "claim" not in offered_to_outsider and "approve" not in offered_to_outsider
    assert "claim" in offered_to_member and offered_to_member == pooled_for_member
    problem_fields(refused, 409, "action_not_allowed")
    assert "home" in refused.json()["detail"]
    assert (claimed.status_code, claimed.json()["assignee"]) == (200, "rev-1")
    assert (by_manager.status_code, by_manager.json()["assignee"]) == (200, "manager-1")
    assert (await _pool(client, member, "home"))["total"] == 0


async def test_a_queued_order_is_claimed_before_it_is_decided_and_then_only_by_its_holder(client, auth, queued):
    holder, other = reviewer(auth, "rev-1"), reviewer(auth, "rev-2")
    before_claim = await _act(client, holder, queued, "approve")
    await _act(client, holder, queued, "claim")
    other_view = await _read(client, other, queued)
    holder_view = await _read(client, holder, queued)

    by_other = await _act(client, other, queued, "reject", reason="照片不清")
    through_approvals = await client.post(
        f"/v1/approvals/{other_view['approval']['id']}/decision", json={"decision": "approve"}, headers=other
    )
    by_holder = await _act(client, holder, queued, "approve")

    problem_fields(before_claim, 409, "action_not_allowed")
    assert not {"approve", "reject", "claim"} & set(action_names(other_view))
    assert other_view["approval"]["you_may_decide"] is False
    assert {"approve", "reject"} <= set(action_names(holder_view)) and holder_view["approval"]["you_may_decide"]
    problem_fields(by_other, 409, "action_not_allowed")
    assert "rev-1" in by_other.json()["detail"]
    assert through_approvals.status_code == 409, through_approvals.text
    assert (by_holder.status_code, by_holder.json()["status"], by_holder.json()["reviewed_by"]) == (
        200,
        "refunding",
        "rev-1",
    )


async def test_the_approvals_inbox_follows_the_holder_rule(client, auth, queued):
    """待我审批 and an approval's own read offer a claimed review to its holder only (the order's buttons agree)."""
    holder, other = reviewer(auth, "rev-1"), reviewer(auth, "rev-2")
    queued_inbox = (await client.get("/v1/approvals", headers=other)).json()["items"]
    await _act(client, holder, queued, "claim")
    approval_id = (await _read(client, holder, queued))["approval"]["id"]

    other_inbox = (await client.get("/v1/approvals", headers=other)).json()["items"]
    holder_inbox = (await client.get("/v1/approvals", headers=holder)).json()["items"]
    every = (await client.get("/v1/approvals?mine=false", headers=other)).json()["items"]
    other_read = (await client.get(f"/v1/approvals/{approval_id}", headers=other)).json()
    holder_read = (await client.get(f"/v1/approvals/{approval_id}", headers=holder)).json()

    assert queued_inbox == []  # queued and unclaimed: claimed before it is decided
    assert other_inbox == [] and [a["id"] for a in holder_inbox] == [approval_id]
    assert [(a["id"], a["you_may_decide"]) for a in every] == [(approval_id, False)]
    assert (other_read["you_may_decide"], holder_read["you_may_decide"]) == (False, True)


async def test_a_manager_decides_an_order_another_reviewer_holds(client, auth, queued):
    await _act(client, reviewer(auth, "rev-1"), queued, "claim")

    rejected = await _act(client, manager(auth), queued, "reject", reason="重复申请")

    assert (rejected.status_code, rejected.json()["status"]) == (200, "rejected")


async def test_an_order_of_the_general_pool_is_decided_by_the_chains_reviewers_as_before(client, auth, desk):
    order = await _partial(client, auth)

    approved = await _act(client, reviewer(auth, "rev-3"), order, "approve")

    assert (order["review_queue"], approved.status_code, approved.json()["status"]) == (None, 200, "refunding")


async def test_a_manager_transfers_a_claim_to_another_reviewer_of_the_queue(client, auth, queued):
    first, second = reviewer(auth, "rev-1"), reviewer(auth, "rev-2")
    unclaimed_offer = action_names(await _read(client, manager(auth), queued))
    await _act(client, first, queued, "claim")
    claimed_offer = action_names(await _read(client, manager(auth), queued))
    bad = {
        "not in the queue": await _act(client, manager(auth), queued, "transfer", assignee="rev-3"),
        "inactive": await _act(client, manager(auth), queued, "transfer", assignee="rev-off"),
        "unknown": await _act(client, manager(auth), queued, "transfer", assignee="ghost"),
        "the holder": await _act(client, manager(auth), queued, "transfer", assignee="rev-1"),
    }
    missing = await _act(client, manager(auth), queued, "transfer")
    by_reviewer = await _act(client, first, queued, "transfer", assignee="rev-2")

    moved = await _act(client, manager(auth), queued, "transfer", assignee="rev-2", remark="rev-1 休假")
    old_holder = await _act(client, first, queued, "approve")
    mine = {
        who: _ids((await client.get("/v1/queues/reviews", headers=headers)).json())
        for who, headers in (("rev-1", first), ("rev-2", second))
    }

    assert "transfer" not in unclaimed_offer and "transfer" in claimed_offer
    assert "transfer" not in action_names(await _read(client, first, queued))
    for why, answer in bad.items():
        assert problem_fields(answer, 422, "invalid_assignee") == {"#/assignee"}, why
    assert problem_fields(missing, 422, "validation_failed") == {"#/assignee"}
    problem_fields(by_reviewer, 403, "action_forbidden")
    assert (moved.status_code, moved.json()["assignee"], moved.json()["status"]) == (200, "rev-2", "under_review")
    problem_fields(old_holder, 409, "action_not_allowed")
    assert mine == {"rev-1": [], "rev-2": [queued["id"]]}
    timeline = (await client.get(f"/v1/after-sales/{queued['id']}/timeline", headers=auth(Role.AGENT))).json()
    transfer = next(e for e in timeline["items"] if e["action"] == "transfer")
    assert (transfer["payload"], transfer["remark"], transfer["visibility"]) == (
        {"assignee": "rev-2"},
        "rev-1 休假",
        "internal",
    )


async def test_my_reviews_are_the_orders_i_hold_latest_activity_first(client, timed_client, clock, auth, queued):
    holder = reviewer(auth, "rev-1")
    older, newer, decided = queued, await _partial(timed_client, auth), await _partial(timed_client, auth)
    for order in (older, newer, decided):
        clock.advance(timedelta(seconds=5))
        await _act(timed_client, holder, order, "claim")
    clock.advance(timedelta(seconds=5))
    await _act(timed_client, holder, decided, "approve")

    by_claim = (await timed_client.get("/v1/queues/reviews", headers=holder)).json()
    clock.advance(timedelta(seconds=5))
    await _act(timed_client, auth(Role.CUSTOMER), older, "urge")
    first = (await timed_client.get("/v1/queues/reviews", params={"limit": 1}, headers=holder)).json()
    second = (
        await timed_client.get("/v1/queues/reviews", params={"cursor": first["next_cursor"]}, headers=holder)
    ).json()

    assert _ids(by_claim) == [newer["id"], older["id"]]
    assert _ids(first) + _ids(second) == [older["id"], newer["id"]]
    assert {"approve", "reject"} <= set(action_names(first["items"][0]))


@pytest.mark.postgres_only
async def test_concurrent_claims_of_one_order_give_exactly_one_winner(client, auth, desk, monkeypatch):
    members = [f"rev-{n}" for n in range(1, 9)]
    for user_id in members[3:]:
        await put(client, auth(Role.ADMIN), f"/v1/agents/{user_id}", agent_body(roles=["reviewer"], groups=[]))
    await _queue(client, auth, "home", queue_body(business_lines=["home"], reviewers=tuple(members)))
    order = await _partial(client, auth)
    inside, most = 0, 0
    lock_ledger = SqlAfterSalesRepository.lock_ledger

    async def counted(self: SqlAfterSalesRepository, ref: Any) -> Any:
        nonlocal inside, most
        inside += 1
        most = max(most, inside)
        try:
            return await lock_ledger(self, ref)
        finally:
            inside -= 1

    monkeypatch.setattr(SqlAfterSalesRepository, "lock_ledger", counted)

    answers = await asyncio.gather(*(_act(client, reviewer(auth, m), order, "claim") for m in members))

    assert most >= 2, "the claims did not overlap"
    assert sorted(a.status_code for a in answers) == [200] + [409] * 7, [a.text for a in answers]
    winner = next(a.json()["assignee"] for a in answers if a.status_code == 200)
    final = await _read(client, auth(Role.ADMIN), order)
    assert (final["assignee"], final["version"]) == (winner, order["version"] + 1)
    timeline = (await client.get(f"/v1/after-sales/{order['id']}/timeline", headers=auth(Role.ADMIN))).json()
    assert [e["action"] for e in timeline["items"]].count("claim") == 1


# Buttons never lie, through a queued order's review


QUEUE_ACTORS = {
    "customer": (Role.CUSTOMER, None),
    "member": (Role.REVIEWER, "rev-1"),
    "outsider": (Role.REVIEWER, "rev-3"),
    "agent": (Role.AGENT, "agent-1"),
    "manager": (Role.MANAGER, "manager-1"),
    "integration": (Role.INTEGRATION, None),
}


class QueuedOrderDriver(AfterSalesDriver):
    """A partial refund routed to queue `home`; besides the after-sales lists, its queue's pool and the caller's own
    reviews show it while it is there."""

    def _headers(self, actor: str) -> dict[str, str]:
        role, sub = QUEUE_ACTORS[actor]
        return self.auth(role, customer_no=self.customer_no) if role is Role.CUSTOMER else self.auth(role, sub=sub)

    async def listed(self, obj: dict[str, Any], actor: str, single: dict[str, Any]) -> list[dict[str, Any]]:
        views = await super().listed(obj, actor, single)
        if QUEUE_ACTORS[actor][0] in (Role.CUSTOMER, Role.INTEGRATION):
            return views
        for path in (f"{BASE}/home/pool", "/v1/queues/reviews"):
            response = await self.client.get(path, params={"limit": 100}, headers=self._headers(actor))
            views += [item for item in response.json()["items"] if item["id"] == obj["id"]]
        return views

    def known(self, actor: str, action: str) -> Mapping[str, Any]:
        return {"assignee": "rev-2"} if action == "transfer" else super().known(actor, action)

    async def state(self, obj: dict[str, Any]) -> Hashable:
        now = await _read(self.client, self.auth(Role.ADMIN), obj)
        level = now["approval"]["current_level"] if now["approval"] else None
        return (now["status"], level, now["assignee"] is not None)  # a transfer keeps the state


async def test_every_offered_action_on_a_queued_order_is_accepted_and_views_agree(client, auth, desk):
    await _queue(client, auth, "home", queue_body(business_lines=["home"]))
    driver = QueuedOrderDriver(
        client,
        auth,
        {"type": "partial_refund", "amount": 5000, "lines": [{"sku": "SKU-1", "quantity": 1}]},
        actors=tuple(QUEUE_ACTORS),
    )

    result = await walk(driver)

    assert result.lies == []
    assert ("under_review", 0, True) in result.states and len(result.states) >= 5, result.states


async def test_a_pool_page_reads_its_queues_reviewers_once_whatever_its_length(app, client, auth, desk):
    await _queue(client, auth, "home", queue_body(business_lines=["home"]))
    for _ in range(6):
        await _partial(client, auth)
    engine = app.state.services.database.engine.sync_engine

    with sent_statements(engine) as short:
        await _pool(client, reviewer(auth, "rev-1"), "home", limit=2)
    with sent_statements(engine) as long:
        await _pool(client, reviewer(auth, "rev-1"), "home", limit=6)

    assert len(long) == len(short), [statement[:100] for statement, _ in long]


# Index-backed reads at scale

_SPREAD = (
    """INSERT INTO customers (id, customer_no, name, level, contact_channels, version, created_at, updated_at)
    VALUES (gen_random_uuid(), 'C-1', 'customer', 'normal', '[]', 1, now(), now())""",
    """INSERT INTO sales_orders (id, order_no, customer_no, currency, shipping_fee, discount_amount, paid_amount,
        payment_status, fulfilment_status, placed_at, version, created_at, updated_at)
    VALUES (gen_random_uuid(), 'SO-1', 'C-1', 'CNY', 0, 0, 100, 'paid', 'signed', now(), 1, now(), now())""",
    # 20,000 orders: a tenth under review, half of those unclaimed; a third each in `home`, `office` and no queue.
    """INSERT INTO after_sales_orders (id, number, order_no, customer_no, type, status, currency, amount,
        reason_code, attachments, lightning, return_shipment, replacement_shipment, payment_attempts, urge_count,
        escalation_level, review_queue, assignee, created_by, version, created_at, updated_at)
    SELECT gen_random_uuid(), 'AS-' || g, 'SO-1', 'C-1', 'refund',
        CASE WHEN g % 10 = 0 THEN 'under_review' ELSE 'refunded' END, 'CNY', 100, 'r', '[]', false, '{}', '{}', 0, 0,
        0, (ARRAY['home', 'office', NULL])[1 + g % 3], CASE WHEN g % 20 = 0 THEN NULL ELSE 'rev-' || g % 7 END, 't', 1,
        timestamptz '2025-01-01Z' + g * interval '1 minute', timestamptz '2025-01-01Z' + g * interval '1 minute'
    FROM generate_series(1, 20000) AS g""",
)


@pytest.mark.postgres_only
async def test_a_pool_page_and_my_reviews_read_about_a_page_through_their_indexes(app):
    async with app.state.services.database.engine.connect() as conn:
        for statement in _SPREAD:
            await conn.exec_driver_sql(statement)
        await conn.exec_driver_sql("ANALYZE")
        for planner_method in ("seqscan", "bitmapscan", "sort"):
            await conn.exec_driver_sql(f"SET LOCAL enable_{planner_method} = off")
        repository = SqlAfterSalesRepository(conn)
        page = PageRequest(20)

        pool = await executed_plans(conn, lambda: repository.review_pool("home", None, page))
        stats = await executed_plans(conn, lambda: repository.review_pool_stats("home", None))
        mine = await executed_plans(conn, lambda: repository.held_reviews("rev-1", None, page))

    pool_read, stats_read, mine_read = (scanned(plans[0], "after_sales_orders") for plans in (pool, stats, mine))
    assert (pool_read.indexes, pool_read.rows <= 21) == ({"ix_after_sales_orders_review_pool"}, True), pool_read
    # the count reads the queue's pool (333 orders) through its partial index, not the 2,000 orders under review
    assert (stats_read.indexes, stats_read.rows) == ({"ix_after_sales_orders_review_pool"}, 333), stats_read
    assert (mine_read.indexes, mine_read.rows <= 21) == ({"ix_after_sales_orders_held_reviews"}, True), mine_read
