"""The ledger's own money moves, per order and per line, without a database."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from app.domain.after_sales import AfterSalesLine, AfterSalesOrder, AfterSalesType
from app.domain.errors import Conflict
from app.domain.ledger import Ledger, LineHold, allocate
from app.domain.money import format_money
from app.domain.orders import Fulfilment, FulfilmentStatus, OrderData, OrderLine, PaymentStatus

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
LINES = (OrderLine("FLT-X3", 2, 19900), OrderLine("CUP", 1, 5000))
PAID = 2 * 19900 + 5000


def _after_sales(kind: AfterSalesType, amount: int, *lines: AfterSalesLine) -> AfterSalesOrder:
    return AfterSalesOrder(
        id=uuid4(),
        number="AS-2026-000001",
        order_no="SO-1",
        customer_no="C-1",
        type=kind,
        status="under_review",
        currency="CNY",
        amount=amount,
        lines=lines,
        reason_code="damaged",
        created_by="c",
        created_at=NOW,
        updated_at=NOW,
    )


def _order_data(paid: int, *lines: OrderLine) -> OrderData:
    return OrderData(
        "C-1", lines, "CNY", 0, 0, paid, PaymentStatus.PAID, Fulfilment(FulfilmentStatus.PAID, paid_at=NOW), None, NOW
    )


def test_a_line_cannot_be_refunded_twice_over():
    ledger = Ledger("SO-1", "CNY", PAID)
    first = _after_sales(AfterSalesType.PARTIAL_REFUND, 19900, AfterSalesLine("FLT-X3", 1, 19900))
    ledger = ledger.reserve(first, LINES, 30)
    ledger = ledger.reserve(first, LINES, 30)  # a second refund of the same value still fits the 2-unit line

    with pytest.raises(Conflict) as refused:
        ledger.reserve(first, LINES, 30)

    assert refused.value.code == "refund_exceeds_refundable"
    assert ledger.held("FLT-X3") == LineHold(39800, 0)
    assert ledger.line_refundable(LINES[0]) == 0
    assert ledger.refundable == 5000


def test_release_frees_the_line_and_settle_keeps_it_held():
    order = _after_sales(AfterSalesType.RETURN_REFUND, 19900, AfterSalesLine("FLT-X3", 1, 19900))
    held = Ledger("SO-1", "CNY", PAID).reserve(order, LINES, 30)

    released = held.release(order)
    settled = held.settle(order)

    assert (released.reserved, released.held("FLT-X3")) == (0, LineHold(0, 0))
    assert (settled.reserved, settled.refunded, settled.held("FLT-X3")) == (0, 19900, LineHold(19900, 1))


def test_goods_claims_count_quantity_not_money():
    exchange = _after_sales(AfterSalesType.EXCHANGE, 0, AfterSalesLine("CUP", 1, 0))
    ledger = Ledger("SO-1", "CNY", PAID).reserve(exchange, LINES, 30)

    with pytest.raises(Conflict):
        ledger.reserve(exchange, LINES, 30)
    assert (ledger.reserved, ledger.held("CUP")) == (0, LineHold(0, 1))


def test_compensation_has_its_own_cap():
    ledger = Ledger("SO-1", "CNY", 10000)
    ledger = ledger.reserve(_after_sales(AfterSalesType.COMPENSATION, 3000), LINES, 30)

    with pytest.raises(Conflict):
        ledger.reserve(_after_sales(AfterSalesType.COMPENSATION, 1), LINES, 30)
    assert (ledger.compensated, ledger.refundable) == (3000, 10000)


def test_an_order_may_not_shrink_below_what_is_held():
    ledger = Ledger(
        "SO-1",
        "CNY",
        20000,
        reserved=15000,
        compensated=6000,
        lines={"MUG": LineHold(15000, 3), "GONE": LineHold(0, 1)},
    )

    with pytest.raises(Conflict) as refused:
        ledger.check_fits(_order_data(5000, OrderLine("MUG", 1, 5000)), 30)

    pointers = {e.pointer for e in refused.value.errors}
    assert refused.value.code == "order_below_held"
    assert pointers == {"/paid_amount", "/lines", "/lines/0/quantity", "/lines/0/unit_price"}
    assert any("150.00 CNY" in e.detail for e in refused.value.errors)


def test_an_order_that_still_covers_its_holds_may_change():
    ledger = Ledger("SO-1", "CNY", 20000, reserved=5000, lines={"MUG": LineHold(5000, 1)})

    ledger.check_fits(_order_data(20000, OrderLine("MUG", 4, 5000)), 30)


def test_allocation_fills_lines_in_order_up_to_their_caps():
    lines = allocate(25000, [("A", 1, 19900), ("B", 2, 10000)])

    assert [(line.sku, line.amount) for line in lines] == [("A", 19900), ("B", 5100)]


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [(51210, "CNY", "512.10 CNY"), (5, "CNY", "0.05 CNY"), (500, "JPY", "500 JPY"), (-1234, "KWD", "-1.234 KWD")],
)
def test_money_reads_in_major_units(amount, currency, text):
    assert format_money(amount, currency) == text
