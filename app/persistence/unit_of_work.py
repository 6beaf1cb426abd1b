"""One transaction on one connection, with the repositories bound to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.domain.errors import Conflict
from app.persistence.after_sales import SqlAfterSalesRepository
from app.persistence.api_keys import SqlApiKeyRepository
from app.persistence.approvals import SqlApprovalRepository
from app.persistence.attachment_links import SqlAttachmentLinkRepository
from app.persistence.attachments import SqlAttachmentRepository
from app.persistence.business_calendars import SqlBusinessCalendarRepository
from app.persistence.churn import SqlChurnRepository
from app.persistence.complaint_spikes import SqlComplaintSpikeRepository
from app.persistence.contracts import SqlContractRepository
from app.persistence.customers import SqlCustomerRepository
from app.persistence.database import Database
from app.persistence.dispatch import SqlDispatchRepository, SqlDispatchRuleRepository
from app.persistence.events import SqlOutboxRepository, SqlTimelineRepository
from app.persistence.exports import SqlExportRepository
from app.persistence.idempotency import SqlIdempotencyKeyRepository
from app.persistence.inbound import SqlInboundEventRepository
from app.persistence.intake import SqlIntakeReader
from app.persistence.integrity import integrity_problem
from app.persistence.kb_articles import SqlArticleRepository
from app.persistence.kb_cases import SqlTicketLinkRepository
from app.persistence.kb_search import SqlSearchRepository
from app.persistence.kb_search_misses import SqlSearchMissRepository
from app.persistence.kb_synonyms import SqlSynonymRepository
from app.persistence.kb_votes import SqlVoteRepository
from app.persistence.notifications import SqlNotificationRepository
from app.persistence.orders import SqlOrderRepository
from app.persistence.people import SqlAgentRepository, SqlGroupRepository
from app.persistence.products import SqlProductRepository
from app.persistence.reports import SqlReportRepository
from app.persistence.review_queues import SqlReviewQueueRepository
from app.persistence.risk import SqlRiskSettingsRepository
from app.persistence.sla_clocks import SqlSlaClockRepository
from app.persistence.sla_policies import SqlSlaPolicyRepository
from app.persistence.sla_rederivations import SqlSlaRederivationRepository
from app.persistence.surveys import SqlSurveyRepository
from app.persistence.tasks import SqlTaskRepository
from app.persistence.ticket_auto_close import SqlTicketAutoCloseRepository
from app.persistence.tickets import SqlTicketRepository
from app.persistence.webhooks import SqlWebhookRepository

# PostgreSQL SQLSTATEs of real races (serialization failure, deadlock, lock not available): try again. Integrity
# errors say what is wrong with the data instead (app/persistence/integrity.py).
_RETRYABLE_SQLSTATES = {"40001", "40P01", "55P03"}


class SqlUnitOfWork:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self.customers = SqlCustomerRepository(conn)
        self.products = SqlProductRepository(conn)
        self.orders = SqlOrderRepository(conn)
        self.contracts = SqlContractRepository(conn)
        self.api_keys = SqlApiKeyRepository(conn)
        self.agents = SqlAgentRepository(conn)
        self.groups = SqlGroupRepository(conn)
        self.tickets = SqlTicketRepository(conn)
        self.intake = SqlIntakeReader(conn)
        self.timeline = SqlTimelineRepository(conn)
        self.outbox = SqlOutboxRepository(conn)
        self.after_sales = SqlAfterSalesRepository(conn)
        self.notifications = SqlNotificationRepository(conn)
        self.tasks = SqlTaskRepository(conn)
        self.approvals = SqlApprovalRepository(conn)
        self.idempotency_keys = SqlIdempotencyKeyRepository(conn)
        self.webhooks = SqlWebhookRepository(conn)
        self.inbound_events = SqlInboundEventRepository(conn)
        self.business_calendars = SqlBusinessCalendarRepository(conn)
        self.sla_policies = SqlSlaPolicyRepository(conn)
        self.sla_clocks = SqlSlaClockRepository(conn)
        self.sla_rederivations = SqlSlaRederivationRepository(conn)
        self.ticket_auto_close = SqlTicketAutoCloseRepository(conn)
        self.surveys = SqlSurveyRepository(conn)
        self.churn = SqlChurnRepository(conn)
        self.reports = SqlReportRepository(conn)
        self.exports = SqlExportRepository(conn)
        self.risk_settings = SqlRiskSettingsRepository(conn)
        self.complaint_spikes = SqlComplaintSpikeRepository(conn)
        self.dispatch_rules = SqlDispatchRuleRepository(conn)
        self.dispatch = SqlDispatchRepository(conn)
        self.review_queues = SqlReviewQueueRepository(conn)
        self.attachments = SqlAttachmentRepository(conn)
        self.attachment_links = SqlAttachmentLinkRepository(conn)
        self.kb_articles = SqlArticleRepository(conn)
        self.kb_search = SqlSearchRepository(conn)
        self.kb_synonyms = SqlSynonymRepository(conn)
        self.kb_search_misses = SqlSearchMissRepository(conn)
        self.kb_links = SqlTicketLinkRepository(conn)
        self.kb_votes = SqlVoteRepository(conn)

    async def commit(self) -> None:
        await self._conn.commit()


class SqlUnitOfWorkFactory:
    def __init__(self, database: Database) -> None:
        self._database = database

    @asynccontextmanager
    async def write(self) -> AsyncIterator[SqlUnitOfWork]:
        async with self._database.write_slot(), self._transaction(self._database.write_engine) as uow:
            yield uow

    @asynccontextmanager
    async def read(self) -> AsyncIterator[SqlUnitOfWork]:
        async with self._transaction(self._database.engine, read=True) as uow:
            yield uow

    @asynccontextmanager
    async def _transaction(self, engine: AsyncEngine, *, read: bool = False) -> AsyncIterator[SqlUnitOfWork]:
        try:
            async with engine.connect() as conn:
                if read:
                    await self._database.read_options(conn)
                await conn.begin()
                yield SqlUnitOfWork(conn)
                # Leaving without commit: closing the connection rolls the transaction back.
        except IntegrityError as exc:
            raise integrity_problem(exc) from exc
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) in _RETRYABLE_SQLSTATES:
                raise Conflict(
                    "The data is locked by a concurrent request; retry the request", code="concurrent_modification"
                ) from exc
            raise
