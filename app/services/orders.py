"""Sales order use cases: ERP upserts (known customer, known products, forward-only fulfilment) and scoped reads."""

from __future__ import annotations

from app.domain.clock import Clock
from app.domain.errors import NotFound
from app.domain.ids import new_id
from app.domain.orders import OrderData, SalesOrder, check_order_change, validate_order
from app.domain.pagination import Page, PageRequest
from app.domain.preconditions import Precondition
from app.domain.principal import Principal
from app.domain.unit_of_work import UnitOfWorkFactory
from app.services.reference_events import ORDER, announce
from app.services.references import check_references
from app.services.revisions import Saved, save_revision


def order_not_found(order_no: str) -> NotFound:
    return NotFound(f"No order '{order_no}'", code="order_not_found")


class OrderService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, compensation_percent: int) -> None:
        self._uow = uow
        self._clock = clock
        self._compensation_percent = compensation_percent  # the cap compensation was granted under

    async def upsert(self, order_no: str, data: OrderData, precondition: Precondition) -> Saved[SalesOrder]:
        now = self._clock.now()
        validate_order(data, now)
        async with self._uow.write() as uow:
            existing = await uow.orders.get(order_no, for_update=True)
            precondition.check(existing.version if existing else None)
            await check_references(
                uow, data.customer_no, ((f"/lines/{i}/sku", line.sku) for i, line in enumerate(data.lines))
            )
            if existing is not None:
                check_order_change(existing, data)
                ledger = await uow.after_sales.ledger(existing)
                ledger.check_fits(data, self._compensation_percent)
            saved = await save_revision(
                uow.orders, existing, data, now, lambda: SalesOrder(new_id(), order_no, data, 1, now, now)
            )
            await announce(uow, ORDER, saved, now)
            await uow.commit()
        return saved

    async def get(self, principal: Principal, order_no: str) -> SalesOrder:
        async with self._uow.read() as uow:
            order = await uow.orders.get(order_no)
        if order is None or not principal.can_see_customer(order.data.customer_no):
            raise order_not_found(order_no)
        return order

    async def list(self, principal: Principal, page: PageRequest, *, customer_no: str | None) -> Page[SalesOrder]:
        """A customer lists only their own orders, whatever filter they send."""
        if principal.is_customer:
            customer_no = principal.customer_no
        async with self._uow.read() as uow:
            return await uow.orders.list(page, customer_no=customer_no)
