"""Order rules, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from app.domain.errors import Conflict, InvalidInput
from app.domain.orders import (
    Fulfilment,
    FulfilmentStatus,
    OrderData,
    OrderLine,
    PaymentStatus,
    SalesOrder,
    check_order_change,
    validate_order,
)

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)


def order(**overrides) -> OrderData:
    values = {
        "customer_no": "C-1",
        "lines": (OrderLine("A", 2, 500), OrderLine("B", 1, 1000)),
        "currency": "CNY",
        "shipping_fee": 200,
        "discount_amount": 100,
        "paid_amount": 2100,
        "payment_status": PaymentStatus.PAID,
        "fulfilment": Fulfilment(
            FulfilmentStatus.SHIPPED,
            paid_at=NOW - 5 * HOUR,
            picking_at=NOW - 4 * HOUR,
            picked_at=NOW - 3 * HOUR,
            shipped_at=NOW - 2 * HOUR,
        ),
        "shipping_region": None,
        "placed_at": NOW - 6 * HOUR,
    }
    return OrderData(**{**values, **overrides})


def pointers(data: OrderData) -> set[str]:
    with pytest.raises(InvalidInput) as caught:
        validate_order(data, NOW)
    return {error.pointer for error in caught.value.errors}


def test_total_is_lines_plus_shipping_minus_discount():
    assert order().total_amount == 2 * 500 + 1000 + 200 - 100


def test_a_consistent_order_passes():
    validate_order(order(), NOW)


def test_unpaid_order_with_money_or_fulfilment_is_refused():
    unpaid = order(payment_status=PaymentStatus.UNPAID, fulfilment=Fulfilment(FulfilmentStatus.PICKING, picking_at=NOW))
    assert pointers(unpaid) >= {"/paid_amount", "/fulfilment_status"}


def test_timestamp_of_a_stage_not_reached_is_refused():
    early = order(fulfilment=Fulfilment(FulfilmentStatus.PAID, paid_at=NOW - HOUR, signed_at=NOW))
    assert pointers(early) == {"/signed_at"}


def test_stage_times_must_not_go_backwards_or_into_the_future():
    backwards = order(
        fulfilment=Fulfilment(
            FulfilmentStatus.PICKED, paid_at=NOW - HOUR, picking_at=NOW - 2 * HOUR, picked_at=NOW - HOUR
        )
    )
    future = order(placed_at=NOW + timedelta(hours=2))
    assert pointers(backwards) == {"/picking_at"}
    assert "/placed_at" in pointers(future)


def test_clock_skew_of_a_few_minutes_is_tolerated():
    validate_order(
        order(
            placed_at=NOW - HOUR * 6, fulfilment=Fulfilment(FulfilmentStatus.PAID, paid_at=NOW + timedelta(minutes=4))
        ),
        NOW,
    )


def test_currency_must_be_iso_4217():
    assert pointers(order(currency="RMB")) == {"/currency"}


def test_fulfilment_regression_and_customer_change_are_conflicts():
    stored = SalesOrder(uuid4(), "SO-1", order(), 1, NOW, NOW)
    back = order(fulfilment=Fulfilment(FulfilmentStatus.PAID, paid_at=NOW - 5 * HOUR))

    with pytest.raises(Conflict) as regressed:
        check_order_change(stored, back)
    with pytest.raises(Conflict) as moved:
        check_order_change(stored, order(customer_no="C-2"))
    with pytest.raises(Conflict) as recurrenced:
        check_order_change(stored, order(currency="USD"))

    assert (regressed.value.code, moved.value.code, recurrenced.value.code) == (
        "fulfilment_regressed",
        "order_customer_changed",
        "order_currency_changed",
    )
