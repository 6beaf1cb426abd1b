"""Inbound events: the payment centre, the WMS/logistics system, the ERP and the CRM report what happened. Each event
is stored once per (source, webhook-id) in its own transaction, then carried out by the use case an API caller would
run — an after-sales workflow action as an integration, or a reference-data upsert — in that use case's transaction,
and its outcome is recorded on the stored row. A replay of a processed event does nothing; a failed one is retried."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol
from uuid import UUID

from app.domain.clock import Clock
from app.domain.customers import CustomerData
from app.domain.errors import DomainError, FieldError, InvalidInput, NotFound
from app.domain.ids import new_id
from app.domain.inbound import SETTLED, InboundEvent, InboundFilter, InboundSource, InboundStatus
from app.domain.invariants import present
from app.domain.orders import OrderData
from app.domain.pagination import Page, PageRequest
from app.domain.preconditions import Precondition
from app.domain.principal import Principal, Role
from app.domain.unit_of_work import UnitOfWorkFactory
from app.services.after_sales import AfterSalesService
from app.services.customers import CustomerService
from app.services.orders import OrderService

DATA = "/data"
"""Where an event's data sits in its body: field errors point below it."""
MAX_DETAIL = 2000


@dataclass(frozen=True, slots=True)
class Step:
    """An after-sales workflow action an event reports, and the fields of the event's data the action takes."""

    action: str
    takes: tuple[str, ...] = ("remark",)


PAYMENT_FIELDS = frozenset({"after_sales", "reference", "reason", "remark"})
LOGISTICS_FIELDS = frozenset({"after_sales", "carrier", "tracking_no", "remark"})

PAYMENT_STEPS = {
    "payment.accepted": Step("payment_accepted", ("reference", "remark")),
    "payment.succeeded": Step("payment_succeeded", ("reference", "remark")),
    "payment.failed": Step("payment_failed", ("reason", "remark")),
}
LOGISTICS_STEPS = {
    "return.picked_up": Step("picked_up", ("carrier", "tracking_no", "remark")),
    "return.shipped": Step("ship_return", ("carrier", "tracking_no", "remark")),
    "return.received": Step("return_received"),
    "shipment.picking": Step("picking_started"),
    "shipment.shipped": Step("shipped", ("carrier", "tracking_no", "remark")),
    "shipment.signed": Step("signed"),
}
ORDER_UPSERTED = "order.upserted"
CUSTOMER_UPSERTED = "customer.upserted"
REFERENCE_TYPES = frozenset({ORDER_UPSERTED, CUSTOMER_UPSERTED})

EVENT_TYPES: dict[InboundSource, frozenset[str]] = {
    InboundSource.PAYMENT_CENTRE: frozenset(PAYMENT_STEPS),
    InboundSource.WMS: frozenset(LOGISTICS_STEPS),
    InboundSource.ERP: REFERENCE_TYPES,
    InboundSource.CRM: REFERENCE_TYPES,
}
"""The types each source sends; any other type from it is stored as `unknown` and not processed."""


class ReferenceData(Protocol):
    """Reads an event's data as the PUT routes read their bodies: the same schema gives the same field errors
    (pointers relative to the data)."""

    def order(self, data: Mapping[str, Any]) -> tuple[str, OrderData]: ...
    def customer(self, data: Mapping[str, Any]) -> tuple[str, CustomerData]: ...


@dataclass(frozen=True, slots=True)
class Receipt:
    """The stored event after this delivery; `duplicate` when it had been processed (or kept as unknown) before and
    nothing was done now."""

    event: InboundEvent
    duplicate: bool = False


def inbound_event_not_found(event_id: UUID) -> NotFound:
    return NotFound(f"No inbound event '{event_id}'", code="inbound_event_not_found")


def integration_principal(source: str) -> Principal:
    """Events act as the integration role, named for their source on the timeline (e.g. inbound:payment_centre)."""
    return Principal(f"inbound:{source}", frozenset({Role.INTEGRATION}))


class InboundService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        *,
        after_sales: AfterSalesService,
        orders: OrderService,
        customers: CustomerService,
        reference_data: ReferenceData,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._after_sales = after_sales
        self._orders = orders
        self._customers = customers
        self._reference_data = reference_data

    async def receive(
        self, source: str, webhook_id: str, type_: str, data: dict[str, Any], payload: dict[str, Any]
    ) -> Receipt:
        """Store, process and record one verified delivery (`payload` is its whole body). A domain error while
        processing is recorded on the event (status failed) and raised, with field pointers into the body."""
        handled = type_ in EVENT_TYPES.get(InboundSource(source), frozenset())
        now = self._clock.now()
        async with self._uow.write() as uow:
            existing = await uow.inbound_events.find(source, webhook_id, for_update=True)
            if existing is not None and existing.status in SETTLED:
                return Receipt(existing, duplicate=True)
            status = InboundStatus.RECEIVED if handled else InboundStatus.UNKNOWN
            detail = None if handled else f"'{type_}' is not an event type the {source} source sends"
            processed_at = None if handled else now
            if existing is None:
                event = InboundEvent(new_id(), source, webhook_id, type_, payload, status, now, detail, processed_at)
                await uow.inbound_events.add(event)
            else:  # a retry of a failed (or interrupted) event: this delivery is the one processed
                event = replace(
                    existing, type=type_, payload=payload, status=status, detail=detail, processed_at=processed_at
                )
                await uow.inbound_events.update(event)
            await uow.commit()
        if not handled:
            return Receipt(event)
        try:
            outcome = await self._process(source, type_, data)
        except DomainError as error:
            under_data(error)
            error.extra = {**error.extra, "inbound_event_id": str(event.id)}
            await self._record(event, InboundStatus.FAILED, describe(error))
            raise
        return Receipt(await self._record(event, InboundStatus.PROCESSED, outcome))

    async def _record(self, event: InboundEvent, status: InboundStatus, detail: str) -> InboundEvent:
        async with self._uow.write() as uow:
            recorded = await uow.inbound_events.record_outcome(event.id, status, detail[:MAX_DETAIL], self._clock.now())
            if recorded is None:  # a concurrent delivery of the same event processed it first
                recorded = present(await uow.inbound_events.get(event.id), "the inbound event")  # never deleted
            await uow.commit()
        return recorded

    async def _process(self, source: str, type_: str, data: dict[str, Any]) -> str:
        """Carry the event out; what it changed, in words, for the stored row."""
        if type_ == ORDER_UPSERTED:
            return await self._upsert_order(data)
        if type_ == CUSTOMER_UPSERTED:
            return await self._upsert_customer(data)
        if type_ in PAYMENT_STEPS:
            return await self._step(source, PAYMENT_STEPS[type_], PAYMENT_FIELDS, data)
        return await self._step(source, LOGISTICS_STEPS[type_], LOGISTICS_FIELDS, data)

    async def _step(self, source: str, step: Step, known: frozenset[str], data: dict[str, Any]) -> str:
        ref = data.get("after_sales")
        errors = [FieldError(f"/{name}", "unknown field") for name in data if name not in known]
        if not isinstance(ref, str) or not ref:
            errors.insert(0, FieldError("/after_sales", "the after-sales order's number (AS-…) or UUID"))
        if errors or not isinstance(ref, str):
            raise InvalidInput(
                f"The event's data has {len(errors)} invalid field(s)", code="validation_failed", errors=errors
            )
        body = {name: data[name] for name in step.takes if name in data}
        view = await self._after_sales.act(integration_principal(source), _ref(ref), step.action, body, Precondition())
        if view.already_passed:
            return f"{step.action}: {view.order.number} had already passed this step; still {view.order.status}"
        return f"{step.action}: {view.order.number} is {view.order.status}"

    async def _upsert_order(self, data: dict[str, Any]) -> str:
        order_no, order = self._reference_data.order(data)
        saved = await self._orders.upsert(order_no, order, Precondition())
        return f"order {order_no} {_saved(saved.created, saved.entity.version)}"

    async def _upsert_customer(self, data: dict[str, Any]) -> str:
        customer_no, customer = self._reference_data.customer(data)
        saved = await self._customers.upsert(customer_no, customer, Precondition())
        return f"customer {customer_no} {_saved(saved.created, saved.entity.version)}"

    async def get(self, event_id: UUID) -> InboundEvent:
        async with self._uow.read() as uow:
            event = await uow.inbound_events.get(event_id)
        if event is None:
            raise inbound_event_not_found(event_id)
        return event

    async def list(self, where: InboundFilter, page: PageRequest) -> Page[InboundEvent]:
        async with self._uow.read() as uow:
            return await uow.inbound_events.list(where, page)


def under_data(error: DomainError) -> None:
    """Point the error's body fields into the event's `data`, where the sender put them."""
    error.errors = [replace(e, pointer=DATA + e.pointer) if e.location == "body" else e for e in error.errors]


def describe(error: DomainError) -> str:
    """The failure as recorded on the event: its code, its detail and each field."""
    fields = "; ".join(f"{e.pointer}: {e.detail}" for e in error.errors)
    return f"{error.code}: {error.detail}" + (f" ({fields})" if fields else "")


def _ref(text: str) -> UUID | str:
    try:
        return UUID(text)
    except ValueError:
        return text


def _saved(created: bool, version: int) -> str:
    return "created" if created else f"saved at version {version}"
