"""create_app(): settings, lifespan, middleware, routers, error handlers and the OpenAPI document."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI

from app.domain.clock import Clock
from app.openapi_document import install_docs, openapi_of
from app.routers import (
    after_sales,
    api_keys,
    approvals,
    attachment_retention,
    attachments,
    business_calendars,
    churn,
    complaint_spikes,
    contracts,
    customers,
    dispatch,
    exports,
    inbound,
    kb_articles,
    kb_cases,
    kb_search,
    kb_suggestions,
    kb_synonyms,
    kb_votes,
    me,
    notifications,
    ops,
    orders,
    people,
    products,
    queues,
    reports,
    review_queues,
    risk,
    sla_policies,
    sla_rederivations,
    surveys,
    tasks,
    ticket_auto_close,
    tickets,
    webhooks,
    workflows,
)
from app.settings import Settings, get_settings
from app.web.idempotency import IdempotencyMiddleware
from app.web.logging import configure_logging
from app.web.problems import install_problem_handlers
from app.web.request_context import BodyBound, HttpMetrics, RequestContextMiddleware
from app.web.routes import mount, operation_id
from app.web.uploads import MULTIPART_OVERHEAD
from app.web.wiring import build_services, upload_limits
from app.workers.jobs import jobs
from app.workers.runner import JobRunner

DESCRIPTION = """\
After-sales workflow service: complaints, service tickets, tasks and after-sales orders
(refund, partial refund, return-and-refund, replenish, exchange, compensation) as one REST API.

* Authenticate with `Authorization: Bearer <JWT>` or `X-API-Key: <key>`.
* Errors are RFC 9457 `application/problem+json` documents with a stable `code`.
* Lists use keyset pages: `limit` (1–100) and the `next_cursor` of the previous page.
* Single resources carry an `ETag`; send it back in `If-Match` to change them safely.
* Money is integer minor units with an ISO 4217 currency; times are UTC RFC 3339.
* Work hours are decimal strings exact to 0.01 h (`"7.50"`), in requests and answers alike.
"""

log = structlog.get_logger("aftersales")


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or get_settings()
    services = build_services(settings, clock)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        log.info("startup", env=settings.env, database=services.database.engine.url.get_backend_name())
        runner = JobRunner(jobs(services)) if settings.run_workers_in_process else None
        if runner is not None:
            runner.start()
            log.info("jobs_started", jobs=[job.name for job in runner.jobs])
        try:
            yield
        finally:
            if runner is not None:
                await runner.stop()  # the runs in flight finish before the database goes away
            await services.aclose()
        log.info("shutdown")

    app = FastAPI(
        title="After-sales workflow service",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served from the package's own assets below, not from a CDN
        redoc_url=None,
        generate_unique_id_function=operation_id,
        telemetry=None if settings.opentelemetry else {"tracing": False, "metrics": False, "logs": False},
    )
    app.state.services = services
    install_problem_handlers(app)
    routers = (
        ops,
        me,
        notifications,
        people,
        customers,
        products,
        orders,
        contracts,
        business_calendars,
        sla_policies,
        sla_rederivations,
        dispatch,
        tickets,
        tasks,
        reports,
        exports,
        approvals,
        queues,
        after_sales,
        review_queues,
        ticket_auto_close,
        churn,
        risk,
        complaint_spikes,
        surveys,
        workflows,
        webhooks,
        inbound,
        api_keys,
        attachments,
        attachment_retention,
        kb_articles,
        kb_search,
        kb_suggestions,
        kb_synonyms,
        kb_cases,
        kb_votes,
    )
    mount(app, (module.router for module in routers))
    # Added before RequestContextMiddleware, so it runs inside it: the request id and the body cap apply to it.
    app.add_middleware(IdempotencyMiddleware, services=services)
    app.add_middleware(
        RequestContextMiddleware,
        metrics=HttpMetrics(services.registry),
        max_body_bytes=settings.max_body_bytes,
        body_timeout_seconds=settings.body_timeout_seconds,
        # An upload streams into the store under its own limits (the route refuses past each kind's); the body as a
        # whole is bound by the largest file plus a form's overhead, and by the upload's own time.
        streamed={
            ("POST", attachments.UPLOAD_PATH): BodyBound(
                upload_limits(settings).largest + MULTIPART_OVERHEAD, settings.attachment_upload_timeout_seconds
            )
        },
    )
    if settings.docs_url:
        install_docs(app, settings.docs_url)
    app.openapi = lambda: openapi_of(app)  # type: ignore[method-assign]
    return app


def app_from_env() -> FastAPI:
    """Uvicorn factory: `uvicorn --factory app.main:app_from_env`. What exists once the app is built (modules,
    schemas, workflow tables: a few hundred thousand objects that live as long as the process) is moved out of
    the garbage collector's sight (`gc.freeze`): otherwise every full collection walks all of it again, and under
    load those collections took about a tenth of the CPU, measured with py-spy."""
    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    app = create_app(settings)
    openapi_of(app)  # built now, so that it is frozen with the rest rather than on the first /openapi.json
    gc.collect()
    gc.freeze()
    return app
