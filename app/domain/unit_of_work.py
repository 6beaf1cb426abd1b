"""The unit of work: one transaction, the repositories inside it, and one commit."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

from app.domain.after_sales import AfterSalesRepository
from app.domain.api_keys import ApiKeyRepository
from app.domain.approvals import ApprovalRepository
from app.domain.business_calendars import BusinessCalendarRepository
from app.domain.contracts import ContractRepository
from app.domain.customers import CustomerRepository
from app.domain.events import OutboxRepository, TimelineRepository
from app.domain.idempotency import IdempotencyKeyRepository
from app.domain.inbound import InboundEventRepository
from app.domain.intake import IntakeReader
from app.domain.notifications import NotificationRepository
from app.domain.orders import OrderRepository
from app.domain.people import AgentRepository, GroupRepository
from app.domain.products import ProductRepository
from app.domain.tasks import TaskRepository
from app.domain.tickets import TicketRepository
from app.domain.webhooks import WebhookRepository


class UnitOfWork(Protocol):
    customers: CustomerRepository
    products: ProductRepository
    orders: OrderRepository
    contracts: ContractRepository
    api_keys: ApiKeyRepository
    agents: AgentRepository
    groups: GroupRepository
    tickets: TicketRepository
    intake: IntakeReader
    timeline: TimelineRepository
    outbox: OutboxRepository
    after_sales: AfterSalesRepository
    notifications: NotificationRepository
    tasks: TaskRepository
    approvals: ApprovalRepository
    idempotency_keys: IdempotencyKeyRepository
    webhooks: WebhookRepository
    inbound_events: InboundEventRepository
    business_calendars: BusinessCalendarRepository

    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    """`write()` opens a transaction that may change data (serialised on SQLite); `read()` one that may not.
    Leaving the block without `commit()` rolls back."""

    def write(self) -> AbstractAsyncContextManager[UnitOfWork]: ...
    def read(self) -> AbstractAsyncContextManager[UnitOfWork]: ...
