"""Customer use cases: ERP/CRM upserts, reads scoped to the caller, the unified customer overview."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.after_sales import AfterSalesFilter, AfterSalesOrder
from app.domain.churn import ChurnFilter, ChurnStanding
from app.domain.clock import Clock
from app.domain.contracts import ServiceContract
from app.domain.customers import Customer, CustomerData, CustomerRepository
from app.domain.errors import NotFound
from app.domain.ids import new_id
from app.domain.orders import SalesOrder
from app.domain.pagination import Page, PageRequest
from app.domain.preconditions import Precondition
from app.domain.principal import Principal
from app.domain.tickets import Ticket, TicketFilter, TicketSort
from app.domain.unit_of_work import UnitOfWork, UnitOfWorkFactory
from app.services.reference_events import CUSTOMER, announce
from app.services.revisions import Saved, save_revision

OVERVIEW_ITEMS = 20


@dataclass(frozen=True, slots=True)
class CustomerChurn:
    """A customer's stored churn score (None: never scored) against the warning threshold in force."""

    standing: ChurnStanding | None
    threshold: int


@dataclass(frozen=True, slots=True)
class CustomerOverview:
    """客户统一视图: the customer with their latest orders, tickets, after-sales orders and service contracts, and
    for staff and integrations their churn score (None for the customer: it is internal)."""

    customer: Customer
    recent_orders: Page[SalesOrder]
    recent_tickets: Page[Ticket]
    recent_after_sales: Page[AfterSalesOrder]
    contracts: Page[ServiceContract]
    churn: CustomerChurn | None


@dataclass(frozen=True, slots=True)
class CustomerList:
    """A page of customers and the churn threshold in force, which each one's score is read against."""

    page: Page[Customer]
    churn_threshold: int


async def _threshold(uow: UnitOfWork) -> int:
    return (await uow.churn.settings()).params.threshold


def customer_not_found(customer_no: str) -> NotFound:
    return NotFound(f"No customer '{customer_no}'", code="customer_not_found")


class CustomerService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def upsert(self, customer_no: str, data: CustomerData, precondition: Precondition) -> Saved[Customer]:
        async with self._uow.write() as uow:
            existing = await uow.customers.get(customer_no, for_update=True)
            precondition.check(existing.version if existing else None)
            now = self._clock.now()
            saved = await save_revision(
                uow.customers, existing, data, now, lambda: Customer(new_id(), customer_no, data, 1, now, now)
            )
            await announce(uow, CUSTOMER, saved, now)
            await uow.commit()
        return saved

    async def get(self, principal: Principal, customer_no: str) -> Customer:
        async with self._uow.read() as uow:
            return await self._visible(uow.customers, principal, customer_no)

    async def list(
        self, page: PageRequest, *, churn_warning: bool | None = None, min_churn_score: int | None = None
    ) -> CustomerList:
        """Newest first; filtered by churn score (`churn_warning` against the threshold in force, a lowest score),
        highest score first when a lowest score applies."""
        async with self._uow.read() as uow:
            threshold = await _threshold(uow)
            churn = ChurnFilter.of(threshold, churn_warning, min_churn_score)
            return CustomerList(await uow.customers.list(page, churn), threshold)

    async def overview(self, principal: Principal, customer_no: str) -> CustomerOverview:
        first = PageRequest(limit=OVERVIEW_ITEMS)
        async with self._uow.read() as uow:
            customer = await self._visible(uow.customers, principal, customer_no)
            tickets = await uow.tickets.list(
                TicketFilter(customer_no=customer_no, business_lines=principal.business_line_scope),
                TicketSort.CREATED,
                first,
            )
            return CustomerOverview(
                customer=customer,
                recent_orders=await uow.orders.list(first, customer_no=customer_no),
                recent_tickets=Page([found.ticket for found in tickets.items], tickets.next_key),
                recent_after_sales=await uow.after_sales.list(
                    AfterSalesFilter(customer_no=customer_no, business_lines=principal.business_line_scope), first
                ),
                contracts=await uow.contracts.list(first, customer_no=customer_no),
                churn=None if principal.is_customer else CustomerChurn(customer.churn, await _threshold(uow)),
            )

    @staticmethod
    async def _visible(customers: CustomerRepository, principal: Principal, customer_no: str) -> Customer:
        customer = await customers.get(customer_no) if principal.can_see_customer(customer_no) else None
        if customer is None:
            raise customer_not_found(customer_no)
        return customer
