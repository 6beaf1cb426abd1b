"""Review queue routing, who configures a queue, and the review guards, without a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from uuid import uuid4

from app.domain.after_sales import AfterSalesOrder, AfterSalesType
from app.domain.principal import Principal, Role
from app.domain.review_queues import AmountRange, QueueConditions, ReviewQueue, ReviewQueueData, may_configure, route
from app.domain.urging import UrgePolicy
from app.workflows.after_sales import AFTER_SALES_WORKFLOWS, AfterSalesContext

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
ORDER = AfterSalesOrder(
    id=uuid4(),
    number="AS-2026-000001",
    order_no="SO-1",
    customer_no="C-1",
    type=AfterSalesType.REFUND,
    status="under_review",
    currency="CNY",
    amount=10000,
    lines=(),
    reason_code="damaged",
    created_by="C-1",
    created_at=NOW,
    updated_at=NOW,
    business_line="home",
)


def _queue(key: str, position: int, **conditions: object) -> ReviewQueue:
    data = ReviewQueueData(key, position, QueueConditions(**conditions), ("rev-1",))  # type: ignore[arg-type]
    return ReviewQueue(uuid4(), key, data, 1, NOW, NOW)


def _actions(order: AfterSalesOrder, principal: Principal, reviewers: frozenset[str] = frozenset()) -> set[str]:
    ctx = AfterSalesContext(order, NOW, UrgePolicy(), None, reviewers)
    return {a.action for a in AFTER_SALES_WORKFLOWS[order.type].available(ctx, principal)}


def test_the_first_queue_by_position_then_key_whose_conditions_hold_takes_the_order():
    queues = [
        _queue("b", 2),
        _queue("a", 2),
        _queue("office", 1, business_lines=frozenset({"office"})),
        _queue("exchanges", 1, types=frozenset({AfterSalesType.EXCHANGE})),
    ]

    assert route(queues, ORDER).key == "a"  # type: ignore[union-attr]
    assert route(queues[2:], ORDER) is None


def test_amount_ranges_include_their_minimum_exclude_their_maximum_and_need_the_currency():
    at_least = AmountRange("CNY", minimum=10000)
    below = AmountRange("CNY", maximum=10000)

    assert at_least.holds(10000, "CNY") and not at_least.holds(9999, "CNY")
    assert below.holds(9999, "CNY") and not below.holds(10000, "CNY")
    assert not at_least.holds(10000, "USD")


def test_an_order_of_no_business_line_goes_only_to_a_queue_naming_none():
    lined, any_line = _queue("home", 1, business_lines=frozenset({"home"})), _queue("all", 2)

    assert route([lined, any_line], replace(ORDER, business_line=None)) is any_line


def test_a_scoped_manager_configures_only_queues_of_their_lines():
    home = Principal("m", frozenset({Role.MANAGER}), business_lines=frozenset({"home"}))
    unscoped = Principal("m", frozenset({Role.MANAGER}))
    admin = Principal("a", frozenset({Role.ADMIN}), business_lines=frozenset({"home"}))

    assert may_configure(home, {"home"}) and not may_configure(home, {"home", "office"})
    assert not may_configure(home, set())  # a queue of no line serves every line
    assert may_configure(unscoped, set()) and may_configure(admin, {"office"})


def test_a_queued_order_is_claimed_by_its_reviewers_and_decided_by_its_holder():
    member, outsider = Principal("rev-1", frozenset({Role.REVIEWER})), Principal("rev-3", frozenset({Role.REVIEWER}))
    boss = Principal("boss", frozenset({Role.MANAGER}))
    queued = replace(ORDER, review_queue="home")
    held = replace(queued, assignee="rev-1")

    assert _actions(queued, member, frozenset({"rev-1"})) >= {"claim"}
    assert not {"claim", "approve", "reject"} & _actions(queued, outsider, frozenset({"rev-1"}))
    assert not {"approve", "reject"} & _actions(queued, member, frozenset({"rev-1"}))  # claimed first
    assert {"approve", "reject"} <= _actions(held, member) and not {"approve", "transfer"} & _actions(held, outsider)
    assert {"approve", "reject", "transfer"} <= _actions(held, boss) and "transfer" not in _actions(queued, boss)
    assert {"claim", "approve"} <= _actions(ORDER, outsider)  # the general pool, as before queues
