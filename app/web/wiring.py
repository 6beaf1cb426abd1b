"""Builds the services once per app from settings, and hands them to routes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from prometheus_client import CollectorRegistry

from app.domain.approvals import SubjectKind
from app.domain.attachments import UploadLimits, link_key
from app.domain.clock import Clock, SystemClock
from app.domain.direct_uploads import grant_key
from app.domain.eligibility import EligibilityPolicy
from app.domain.tasks import ReminderPolicy
from app.domain.tickets import TicketPolicy
from app.domain.urging import UrgePolicy
from app.domain.webhooks import RetrySchedule
from app.integrations.inbound import InboundVerifier
from app.integrations.scanners import scanner_of
from app.integrations.storage import BlobStore, open_blob_store
from app.integrations.url_guard import AllowList
from app.integrations.webhook_sender import WebhookSender
from app.persistence.database import Database
from app.persistence.migrations import DatabaseSchemaProbe
from app.persistence.unit_of_work import SqlUnitOfWorkFactory
from app.schemas.inbound import ReferenceDataReader
from app.services.after_sales import AfterSalesPolicy, AfterSalesService
from app.services.agent_availability import AvailabilityService
from app.services.api_keys import ApiKeyService
from app.services.approvals import ApprovalEngine, ApprovalService, default_chains
from app.services.attachment_links import AttachmentLinker
from app.services.attachment_retention import AttachmentRetention, RetentionPolicy
from app.services.attachments import AttachmentPolicy, AttachmentService
from app.services.business_calendars import BusinessCalendarService
from app.services.churn import ChurnService
from app.services.complaint_spikes import ComplaintSpikeService
from app.services.contracts import ContractService
from app.services.customers import CustomerService
from app.services.direct_uploads import DirectUploadService
from app.services.dispatch import Dispatcher
from app.services.dispatch_rules import DispatchRuleService
from app.services.exports import ExportService
from app.services.health import HealthService
from app.services.idempotency import IdempotencyService
from app.services.inbound import InboundService
from app.services.kb_articles import ArticleService
from app.services.kb_cases import CaseService
from app.services.kb_search import SearchService
from app.services.kb_suggestions import SuggestionService
from app.services.kb_synonyms import SynonymService
from app.services.kb_votes import VoteService
from app.services.notifications import NotificationService
from app.services.orders import OrderService
from app.services.people import PeopleService
from app.services.products import ProductService
from app.services.reports import ReportService
from app.services.review_queues import ReviewQueueService
from app.services.risk import RiskService
from app.services.sla import SlaService
from app.services.sla_policies import SlaPolicyService
from app.services.surveys import SurveyService
from app.services.tasks import TaskPolicy, TaskService
from app.services.ticket_auto_close import TicketAutoCloseService
from app.services.tickets import TicketService
from app.services.tokens import TokenCodec, TokenPolicy
from app.services.webhooks import WebhookPolicy, WebhookService
from app.settings import Settings
from app.web.rate_limit import LinkRateLimits, RateLimiter


@dataclass(frozen=True)
class Services:
    settings: Settings
    clock: Clock
    database: Database
    registry: CollectorRegistry
    rate_limiter: RateLimiter
    tokens: TokenCodec
    health: HealthService
    api_keys: ApiKeyService
    customers: CustomerService
    products: ProductService
    orders: OrderService
    contracts: ContractService
    people: PeopleService
    tickets: TicketService
    after_sales: AfterSalesService
    notifications: NotificationService
    approvals: ApprovalService
    tasks: TaskService
    idempotency: IdempotencyService
    webhooks: WebhookService
    inbound_verifier: InboundVerifier
    inbound: InboundService
    business_calendars: BusinessCalendarService
    churn: ChurnService
    reports: ReportService
    exports: ExportService
    sla_policies: SlaPolicyService
    sla: SlaService
    ticket_auto_close: TicketAutoCloseService
    surveys: SurveyService
    survey_link_limits: LinkRateLimits
    risk: RiskService
    complaint_spikes: ComplaintSpikeService
    dispatcher: Dispatcher
    dispatch_rules: DispatchRuleService
    availability: AvailabilityService
    review_queues: ReviewQueueService
    blob_store: BlobStore
    attachments: AttachmentService
    attachment_retention: AttachmentRetention
    direct_uploads: DirectUploadService
    kb_articles: ArticleService
    kb_search: SearchService
    kb_synonyms: SynonymService
    kb_suggestions: SuggestionService
    kb_cases: CaseService
    kb_votes: VoteService

    async def aclose(self) -> None:
        """Release what the services hold: the webhook HTTP client, the attachment store's connections, then the
        database pools."""
        await self.webhooks.close()
        await self.blob_store.aclose()
        await self.database.dispose()


def token_codec(settings: Settings) -> TokenCodec:
    return TokenCodec(
        TokenPolicy(
            secret=settings.jwt_secret.get_secret_value(),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            leeway_seconds=settings.jwt_leeway_seconds,
        )
    )


def urge_policy(settings: Settings) -> UrgePolicy:
    return UrgePolicy(timedelta(seconds=settings.urge_min_interval_seconds), settings.urge_escalate_after)


def ticket_policy(settings: Settings) -> TicketPolicy:
    return TicketPolicy(
        reopen_window=timedelta(days=settings.ticket_reopen_window_days),
        urge=urge_policy(settings),
    )


def after_sales_policy(settings: Settings) -> AfterSalesPolicy:
    days = timedelta(days=1)
    return AfterSalesPolicy(
        eligibility=EligibilityPolicy(
            return_window=settings.return_window_days * days,
            exchange_window=settings.exchange_window_days * days,
            replenish_window=settings.replenish_window_days * days,
            partial_refund_window=settings.partial_refund_window_days * days,
            compensation_window=settings.compensation_window_days * days,
            compensation_max_percent=settings.compensation_max_percent,
        ),
        urge=urge_policy(settings),
    )


def task_policy(settings: Settings) -> TaskPolicy:
    return TaskPolicy(
        reminders=ReminderPolicy(lead=timedelta(minutes=settings.task_reminder_lead_minutes)),
        auto_resolve_types=settings.auto_resolve_ticket_types,
    )


def webhook_service(settings: Settings, uow: SqlUnitOfWorkFactory, clock: Clock) -> WebhookService:
    allowed = AllowList.parse(settings.webhook_allowed_hosts)
    policy = WebhookPolicy(
        schedule=RetrySchedule(settings.webhook_delays),
        lease=timedelta(seconds=settings.webhook_lease_seconds),
        batch=settings.webhook_batch_size,
        allowed=allowed,
    )
    sender = WebhookSender(
        timeout_seconds=settings.webhook_timeout_seconds,
        concurrency=settings.webhook_concurrency,
        allowed=allowed,
        now=clock.now,
    )
    return WebhookService(uow, clock, policy, sender)


def inbound_verifier(settings: Settings, clock: Clock) -> InboundVerifier:
    secrets = {source: secret.get_secret_value() for source, secret in settings.inbound_secrets.items()}
    return InboundVerifier(secrets, clock.now)


def inbound_service(
    uow: SqlUnitOfWorkFactory, clock: Clock, after_sales: AfterSalesService, settings: Settings
) -> InboundService:
    """Events run the same use cases as the API routes (the reference-data services hold no state of their own)."""
    return InboundService(
        uow,
        clock,
        after_sales=after_sales,
        orders=OrderService(uow, clock, settings.compensation_max_percent),
        customers=CustomerService(uow, clock),
        reference_data=ReferenceDataReader(),
    )


def upload_limits(settings: Settings) -> UploadLimits:
    return UploadLimits(
        image=settings.attachment_image_max_bytes,
        video=settings.attachment_video_max_bytes,
        document=settings.attachment_document_max_bytes,
    )


def attachment_services(
    settings: Settings, uow: SqlUnitOfWorkFactory, clock: Clock, store: BlobStore
) -> tuple[AttachmentService, DirectUploadService]:
    """Links and direct upload grants are signed with keys derived from their own secret, or from the JWT secret
    (never the secret itself, and never one key for both)."""
    secret = (settings.attachment_link_secret or settings.jwt_secret).get_secret_value().encode()
    scanner = scanner_of(
        settings.attachment_scanner,
        clamd_address=settings.attachment_clamd_address,
        command=settings.attachment_scan_command,
        timeout_seconds=settings.attachment_scan_timeout_seconds,
    )
    policy = AttachmentPolicy(
        limits=upload_limits(settings),
        link_key=link_key(secret),
        link_ttl=timedelta(seconds=settings.attachment_link_ttl_seconds),
        # A claimed scan is taken by another worker only once this one has surely given up on it.
        scan_lease=timedelta(seconds=settings.attachment_scan_timeout_seconds + 60),
    )
    attachments = AttachmentService(uow, clock, store, scanner, policy)
    # A direct upload has as long to arrive as a streamed one.
    upload_time = timedelta(seconds=settings.attachment_upload_timeout_seconds)
    return attachments, DirectUploadService(clock, store, attachments, grant_key(secret), upload_time)


def retention_policy(settings: Settings) -> RetentionPolicy:
    days = settings.attachment_retention_days
    return RetentionPolicy(
        unattached=timedelta(hours=settings.attachment_unattached_hours),
        retention=timedelta(days=days) if days is not None else None,
    )


def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    clock = clock or SystemClock()
    database = Database(settings.database_url, pool_size=settings.database_pool_size, echo=settings.database_echo)
    uow = SqlUnitOfWorkFactory(database)
    approvals = ApprovalService(uow, clock, ApprovalEngine(default_chains(settings.manager_review_above)))
    sla = SlaService(uow, clock)
    policy = ticket_policy(settings)
    risk = RiskService(uow, clock)
    dispatcher = Dispatcher(clock, sla)
    linker = AttachmentLinker(settings.attachments_per_record)
    tickets = TicketService(uow, clock, policy, sla, risk, dispatcher, linker)
    tasks = TaskService(uow, clock, task_policy(settings), approvals.engine, tickets, linker)
    after_sales = AfterSalesService(uow, clock, after_sales_policy(settings), approvals.engine, sla, linker)
    approvals.register(SubjectKind.TASK_HOURS, tasks.decide_hours)
    tickets.when_finished(tasks.cancel_with_ticket)
    people = PeopleService(uow, clock)
    availability = AvailabilityService(uow, clock, tickets)
    people.when_deactivated(availability.agent_left)
    people.when_room_gained(availability.room_gained)
    approvals.register(SubjectKind.AFTER_SALES_REVIEW, after_sales.decide_review, after_sales.review_refusals)
    blob_store = open_blob_store(settings)
    synonyms = SynonymService(uow, clock)
    attachments, direct_uploads = attachment_services(settings, uow, clock, blob_store)
    reports = ReportService(uow, clock, settings.report_max_days)
    articles = ArticleService(uow, clock)
    return Services(
        settings=settings,
        clock=clock,
        database=database,
        registry=CollectorRegistry(),
        rate_limiter=RateLimiter(settings.rate_limit_per_minute),
        tokens=token_codec(settings),
        health=HealthService(DatabaseSchemaProbe(database)),
        api_keys=ApiKeyService(uow, clock),
        customers=CustomerService(uow, clock),
        products=ProductService(uow, clock),
        orders=OrderService(uow, clock, settings.compensation_max_percent),
        contracts=ContractService(uow, clock),
        people=people,
        tickets=tickets,
        after_sales=after_sales,
        notifications=NotificationService(uow, clock),
        approvals=approvals,
        tasks=tasks,
        idempotency=IdempotencyService(uow, clock, timedelta(hours=settings.idempotency_ttl_hours)),
        webhooks=webhook_service(settings, uow, clock),
        inbound_verifier=inbound_verifier(settings, clock),
        inbound=inbound_service(uow, clock, after_sales, settings),
        business_calendars=BusinessCalendarService(uow, clock, sla.forget_settings),
        churn=ChurnService(uow, clock),
        reports=reports,
        exports=ExportService(uow, reports, tasks),
        sla_policies=SlaPolicyService(uow, clock, sla.forget_settings),
        sla=sla,
        ticket_auto_close=TicketAutoCloseService(uow, clock, tickets, policy.reopen_window),
        surveys=SurveyService(uow, clock, task_policy(settings).reminders, tickets.open_in),
        survey_link_limits=LinkRateLimits(settings.survey_rate_limit_per_token, settings.survey_rate_limit_per_address),
        risk=risk,
        complaint_spikes=ComplaintSpikeService(uow, clock),
        dispatcher=dispatcher,
        dispatch_rules=DispatchRuleService(uow, clock, dispatcher),
        availability=availability,
        review_queues=ReviewQueueService(uow, clock, after_sales),
        blob_store=blob_store,
        attachments=attachments,
        attachment_retention=AttachmentRetention(uow, clock, blob_store, retention_policy(settings)),
        direct_uploads=direct_uploads,
        kb_articles=articles,
        kb_search=SearchService(uow, clock, synonyms),
        kb_synonyms=synonyms,
        kb_suggestions=SuggestionService(uow, synonyms),
        kb_cases=CaseService(uow, clock, articles),
        kb_votes=VoteService(uow, clock),
    )


def services_of(request: Request) -> Services:
    """The services, for a dependency that has the request anyway: one more dependency costs a solve per request."""
    services: Services = request.app.state.services
    return services


async def services(request: Request) -> Services:
    return services_of(request)


Svc = Annotated[Services, Depends(services)]
