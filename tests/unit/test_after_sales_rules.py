"""Eligibility and auto-review rules, without a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from app.domain.after_sales import AfterSalesType, AutoReviewRules, auto_review
from app.domain.eligibility import EligibilityPolicy, assess
from app.domain.ledger import Ledger, LineHold
from app.domain.orders import Fulfilment, FulfilmentStatus, OrderData, OrderLine, PaymentStatus, SalesOrder

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
POLICY = EligibilityPolicy()


def _order(status: FulfilmentStatus = FulfilmentStatus.SIGNED, signed_days_ago: int = 1) -> SalesOrder:
    paid = NOW - timedelta(days=signed_days_ago + 2)
    stages = {
        "paid_at": paid,
        "picking_at": paid + timedelta(hours=1),
        "picked_at": paid + timedelta(hours=2),
        "shipped_at": paid + timedelta(days=1),
        "signed_at": NOW - timedelta(days=signed_days_ago),
    }
    reached = {k: v for k, v in stages.items() if list(stages).index(k) <= status.rank - 1}
    data = OrderData(
        "C-1",
        (OrderLine("A", 2, 5000), OrderLine("B", 1, 3000)),
        "CNY",
        0,
        0,
        13000,
        PaymentStatus.PAID,
        Fulfilment(status, **reached),
        None,
        paid - timedelta(minutes=1),
    )
    return SalesOrder(uuid4(), "SO-1", data, 1, NOW, NOW)


def _allowed(eligibility, sku: str) -> set[AfterSalesType]:
    line = next(line for line in eligibility.lines if line.sku == sku)
    return {rule.type for rule in line.rules if rule.allowed}


def test_before_picking_only_a_refund_is_possible():
    found = assess(_order(FulfilmentStatus.PICKING), Ledger("SO-1", "CNY", 13000), POLICY, NOW)

    assert found.rule(AfterSalesType.REFUND).allowed
    assert _allowed(found, "A") == set()


def test_after_signing_goods_types_are_open_within_their_windows():
    signed_ten_days_ago = assess(_order(signed_days_ago=10), Ledger("SO-1", "CNY", 13000), POLICY, NOW)

    assert _allowed(signed_ten_days_ago, "A") == {
        AfterSalesType.PARTIAL_REFUND,
        AfterSalesType.EXCHANGE,
        AfterSalesType.REPLENISH,
    }
    assert "7" in signed_ten_days_ago.lines[0].rule(AfterSalesType.RETURN_REFUND).text_zh
    assert not signed_ten_days_ago.rule(AfterSalesType.REFUND).allowed


def test_claimed_quantities_and_reserved_money_shrink_what_is_left():
    ledger = Ledger("SO-1", "CNY", 13000, reserved=4000, refunded=6000, lines={"A": LineHold(0, 2)})

    found = assess(_order(), ledger, POLICY, NOW)

    a, b = found.lines
    assert (found.refundable, a.remaining_quantity, b.remaining_quantity) == (3000, 0, 1)
    assert AfterSalesType.RETURN_REFUND not in _allowed(found, "A")
    assert (a.max_refundable, b.max_refundable) == (3000, 3000)


def test_nothing_left_to_refund_closes_the_money_types():
    found = assess(_order(), Ledger("SO-1", "CNY", 13000, refunded=13000), POLICY, NOW)

    assert _allowed(found, "B") == {AfterSalesType.EXCHANGE, AfterSalesType.REPLENISH}


def test_compensation_is_capped_at_a_share_of_the_paid_amount():
    found = assess(_order(), Ledger("SO-1", "CNY", 13000, compensated=1000), POLICY, NOW)

    assert found.compensable == 13000 * 30 // 100 - 1000


def test_auto_review_names_every_condition_that_failed():
    rules = AutoReviewRules(enabled=True, max_amount=1000, customer_levels=("vip",), max_recent_after_sales=2)

    rule, misses = auto_review(rules, AfterSalesType.RETURN_REFUND, 5000, _order(), "regular", 2)
    approved, none = auto_review(rules, AfterSalesType.REFUND, 800, _order(), "vip", 0)

    assert rule is None and len(misses) == 4
    assert "amount 50.00 CNY is above 10.00 CNY" in misses
    assert none == [] and approved is not None
    assert approved.rule == "auto_review/v0"
    assert "amount 8.00 CNY ≤ 10.00 CNY" in approved.conditions
    assert "customer level vip is trusted" in approved.conditions


def test_auto_review_off_approves_nothing():
    rule, misses = auto_review(replace(AutoReviewRules(), enabled=False), AfterSalesType.REFUND, 1, _order(), "vip", 0)

    assert (rule, misses) == (None, ["auto-review is off"])


def test_a_lines_refundable_value_counts_what_is_refunded_or_reserved_on_it():
    ledger = Ledger("SO-1", "CNY", 13000, reserved=5000, lines={"A": LineHold(5000, 0)})

    found = assess(_order(), ledger, POLICY, NOW)

    a, b = found.lines
    assert (a.max_refundable, b.max_refundable) == (5000, 3000)


def test_a_fully_refunded_line_offers_no_money_type_though_the_order_still_has_money():
    ledger = Ledger("SO-1", "CNY", 13000, refunded=10000, lines={"A": LineHold(10000, 0)})

    found = assess(_order(), ledger, POLICY, NOW)

    assert found.refundable == 3000
    assert _allowed(found, "A") == {AfterSalesType.EXCHANGE, AfterSalesType.REPLENISH}
    assert found.lines[0].rule(AfterSalesType.PARTIAL_REFUND).text_en == "Nothing is left to refund on this line"


def test_english_rule_texts_name_types_in_words_not_codes():
    found = assess(_order(FulfilmentStatus.SHIPPED), Ledger("SO-1", "CNY", 13000), POLICY, NOW)

    texts = [rule.text_en for line in found.lines for rule in line.rules]
    assert texts and all("_" not in text for text in texts)
    assert "You can ask for a return and refund once the order is signed for" in texts
