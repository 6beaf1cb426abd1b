"""The unit of work: one transaction, the repositories inside it, and one commit."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from uuid import UUID

from app.domain.after_sales import AfterSalesRepository
from app.domain.api_keys import ApiKeyRepository
from app.domain.approvals import ApprovalRepository
from app.domain.attachment_links import AttachmentLinkRepository
from app.domain.attachments import AttachmentRepository
from app.domain.business_calendars import BusinessCalendarRepository
from app.domain.churn import ChurnRepository
from app.domain.complaint_spike_watch import ComplaintSpikeRepository
from app.domain.contracts import ContractRepository
from app.domain.customers import CustomerRepository
from app.domain.dispatch import DispatchRepository, DispatchRuleRepository
from app.domain.events import OutboxRepository, TimelineRepository
from app.domain.exports import ExportRepository
from app.domain.idempotency import IdempotencyKeyRepository
from app.domain.inbound import InboundEventRepository
from app.domain.intake import IntakeReader
from app.domain.kb_articles import ArticleRepository
from app.domain.kb_cases import TicketLinkRepository
from app.domain.kb_search import SearchRepository
from app.domain.kb_search_misses import SearchMissRepository
from app.domain.kb_synonyms import SynonymRepository
from app.domain.kb_votes import VoteRepository
from app.domain.notifications import NotificationRepository
from app.domain.orders import OrderRepository
from app.domain.pagination import Page, PageRequest
from app.domain.people import AgentRepository, GroupRepository
from app.domain.products import ProductRepository
from app.domain.reports import ReportRepository
from app.domain.review_queues import ReviewQueueRepository
from app.domain.risk import RiskSettingsRepository
from app.domain.sla_clock import ClockEvent
from app.domain.sla_policies import SlaPolicy, Subject
from app.domain.surveys import SurveyRepository
from app.domain.tasks import TaskRepository
from app.domain.ticket_auto_close import TicketAutoCloseRepository
from app.domain.tickets import TicketRepository
from app.domain.webhooks import WebhookRepository


@dataclass(frozen=True, slots=True)
class SlaPolicyRecord:
    """A stored SLA policy: the policy itself (`data`, its key and position included), its id and its version. A
    change of position is a change of the policy: it gets the next version, as its representation changed."""

    id: UUID
    data: SlaPolicy
    version: int
    created_at: datetime
    updated_at: datetime

    @property
    def key(self) -> str:
        return self.data.key


class SlaPolicyRepository(Protocol):
    async def lock(self) -> None:
        """Hold the SLA policies' write lock to the end of the transaction. Every change of a policy moves the others
        of its subject, so changes queue behind each other, even into a subject with no row to lock yet."""
        ...

    async def get(self, key: str) -> SlaPolicyRecord | None: ...
    async def records(self, subject: Subject) -> list[SlaPolicyRecord]:
        """The subject's stored policies in position order."""
        ...

    async def policies(self, subject: Subject) -> list[SlaPolicy]:
        """The subject's policies in position order, in one query: what the SLA clock matches tickets and orders
        against."""
        ...

    async def add(self, record: SlaPolicyRecord) -> None: ...
    async def update(self, record: SlaPolicyRecord) -> None: ...
    async def move(self, records: Sequence[SlaPolicyRecord]) -> None:
        """Store the position, version and updated_at of each (their other fields are unchanged)."""
        ...

    async def delete(self, record: SlaPolicyRecord) -> None: ...
    async def known_calendars(self, keys: set[str]) -> set[str]:
        """Those of `keys` that name a business calendar."""
        ...


@dataclass(frozen=True, slots=True)
class DueTimer:
    """A subject whose SLA clocks need the timer scan: a warning or a breach not yet acted on falls at `due_at`."""

    subject: Subject
    subject_id: UUID
    due_at: datetime


@dataclass(frozen=True, slots=True)
class Due:
    """Where a subject's timer moves to: the instant the timer scan must next look at it (None: never)."""

    at: datetime | None


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    """What SLA policies match on from a customer's records: their level and the best SLA level of the service
    contracts in force (None: unknown customer, no contract)."""

    level: str | None
    contract_sla_level: str | None


class SlaClockRepository(Protocol):
    """Each subject's SLA clock log (append-only: every metric's events, in order) and its timer."""

    async def append(self, subject: Subject, subject_id: UUID, events: Sequence[ClockEvent]) -> None: ...
    async def record(
        self, subject: Subject, subject_id: UUID, events: Sequence[ClockEvent], due: Due | None, now: datetime
    ) -> None:
        """Append a change's events and, when `due` is given, move the subject's timer. (One statement of
        data-modifying CTEs on PostgreSQL was measured slower than the executemany and the upsert it replaced.)"""
        ...

    async def append_many(self, logs: Sequence[tuple[Subject, UUID, Sequence[ClockEvent]]]) -> None:
        """Several subjects' events in one statement."""
        ...

    async def log(self, subject_id: UUID) -> list[ClockEvent]: ...
    async def logs(self, subject_ids: Collection[UUID]) -> dict[UUID, list[ClockEvent]]:
        """A page of subjects' logs in one query; subjects without events are absent."""
        ...

    async def set_due(self, subject: Subject, subject_id: UUID, due_at: datetime | None, now: datetime) -> None:
        """Create or move the subject's timer (None: nothing can fall due)."""
        ...

    async def drop_timer(self, subject_id: UUID) -> None:
        """The subject reached a final state: nothing of it can fall due, and no walk needs to read it."""
        ...

    async def due_subjects(self, now: datetime) -> list[Subject]:
        """Which subject types have timers due at `now` (reading no timer that is not due)."""
        ...

    async def due(self, subject: Subject, now: datetime, limit: int) -> list[DueTimer]:
        """Claim `subject`'s timers due at `now` with their subjects, locked to the end of the transaction; rows
        another transaction holds are skipped."""
        ...

    async def customer_facts(self, customer_no: str, on: date) -> CustomerFacts: ...


@dataclass(frozen=True, slots=True)
class Rederivation:
    """A request to derive every open subject's timer again after a policy or calendar change: how far the walk in
    subject_id order has got (`after_subject_id`, None: not started), how many timers it walked, and when it finished
    (done, or superseded by a newer request that walks them all again)."""

    id: UUID
    reason: str
    requested_at: datetime
    after_subject_id: UUID | None = None
    done: int = 0
    finished_at: datetime | None = None
    superseded_by: UUID | None = None


@dataclass(frozen=True, slots=True)
class OpenTimer:
    """An open subject's timer as stored: the instant the timer scan will look at it (None: never), and the subject's
    type when read by the walk."""

    subject_id: UUID
    due_at: datetime | None
    subject: Subject | None = None


@dataclass(frozen=True, slots=True)
class WalkedSubject:
    """An open subject as the re-derivation walk matches it again: its state and the fields policies match on
    (`priority` is AFTER_SALES_PRIORITY for an after-sales order)."""

    subject: Subject
    status: str
    priority: str
    type: str
    customer_no: str
    created_at: datetime
    category: str | None = None
    channel: str = ""
    group_key: str | None = None
    business_line: str | None = None
    region: str | None = None


class SlaRederivationRepository(Protocol):
    async def request(self, reason: str, now: datetime) -> None:
        """Record a request in the caller's transaction: it commits with the change that needs it."""
        ...

    async def claim(self) -> Rederivation | None:
        """The newest unfinished request, locked to the end of the transaction; one another transaction holds is
        skipped."""
        ...

    async def supersede(self, newest: Rederivation, now: datetime) -> None:
        """Finish every older unfinished request: `newest` walks all timers again."""
        ...

    async def open_timers(self, after: UUID | None, limit: int) -> list[OpenTimer]:
        """The next `limit` timers of open subjects in subject_id order after `after`, locked, so that a change
        committing meanwhile is either seen in its log or writes its own timer afterwards."""
        ...

    async def subjects(self, timers: Sequence[OpenTimer]) -> dict[UUID, WalkedSubject]:
        """The subjects of a batch of walked timers, one query per subject type present."""
        ...

    async def move_timers(self, moves: Sequence[OpenTimer], now: datetime) -> None: ...
    async def advance(self, request: Rederivation) -> None:
        """Store the request's cursor, count and finish."""
        ...

    async def list(self, page: PageRequest) -> Page[Rederivation]:
        """Newest first."""
        ...


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
    sla_policies: SlaPolicyRepository
    sla_clocks: SlaClockRepository
    sla_rederivations: SlaRederivationRepository
    ticket_auto_close: TicketAutoCloseRepository
    surveys: SurveyRepository
    churn: ChurnRepository
    reports: ReportRepository
    exports: ExportRepository
    risk_settings: RiskSettingsRepository
    complaint_spikes: ComplaintSpikeRepository
    dispatch_rules: DispatchRuleRepository
    dispatch: DispatchRepository
    review_queues: ReviewQueueRepository
    attachments: AttachmentRepository
    attachment_links: AttachmentLinkRepository
    kb_articles: ArticleRepository
    kb_search: SearchRepository
    kb_synonyms: SynonymRepository
    kb_search_misses: SearchMissRepository
    kb_links: TicketLinkRepository
    kb_votes: VoteRepository

    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    """`write()` opens a transaction that may change data (serialised on SQLite); `read()` one that may not.
    Leaving the block without `commit()` rolls back."""

    def write(self) -> AbstractAsyncContextManager[UnitOfWork]: ...
    def read(self) -> AbstractAsyncContextManager[UnitOfWork]: ...
