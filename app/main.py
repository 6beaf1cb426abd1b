"""create_app(): settings, lifespan, middleware, routers, error handlers and the OpenAPI document."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi

from app.domain.clock import Clock
from app.routers import (
    after_sales,
    api_keys,
    approvals,
    contracts,
    customers,
    inbound,
    me,
    notifications,
    ops,
    orders,
    people,
    products,
    queues,
    tasks,
    tickets,
    webhooks,
    workflows,
)
from app.settings import Settings, get_settings
from app.web.idempotency import IdempotencyMiddleware, document_idempotency_key
from app.web.logging import configure_logging
from app.web.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers
from app.web.query_params import reject_repeated_scalars
from app.web.request_context import HttpMetrics, RequestContextMiddleware
from app.web.routes import api_routes, declared_roles, is_signed
from app.web.wiring import build_services
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
        docs_url=settings.docs_url,
        redoc_url=None,
        dependencies=[Depends(reject_repeated_scalars)],
    )
    app.state.services = services
    install_problem_handlers(app)
    for module in (
        ops,
        me,
        notifications,
        people,
        customers,
        products,
        orders,
        contracts,
        tickets,
        tasks,
        approvals,
        queues,
        after_sales,
        workflows,
        webhooks,
        inbound,
        api_keys,
    ):
        app.include_router(module.router)
    # Added before RequestContextMiddleware, so it runs inside it: the request id and the body cap apply to it.
    app.add_middleware(IdempotencyMiddleware, services=services)
    app.add_middleware(
        RequestContextMiddleware, metrics=HttpMetrics(services.registry), max_body_bytes=settings.max_body_bytes
    )
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with each operation's roles (`x-roles`) and problems typed application/problem+json."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        for route in api_routes(app):
            roles = declared_roles(route)
            for method in route.methods:
                operation = schema["paths"].get(route.path_format, {}).get(method.lower())
                if operation is not None and roles is not None:
                    operation["x-roles"] = sorted(role.value for role in roles)
                elif operation is not None and is_signed(route):
                    operation["x-signature"] = "standard-webhooks"  # authenticated by its signed body, not a role
        for path in schema["paths"].values():
            for operation in path.values():
                for response in operation.get("responses", {}).values():
                    content = response.get("content", {})
                    ref = content.get("application/json", {}).get("schema", {}).get("$ref", "")
                    if ref.endswith("/Problem"):
                        response["content"] = {PROBLEM_MEDIA_TYPE: content["application/json"]}
        document_idempotency_key(schema)
        schema["components"]["schemas"].pop("HTTPValidationError", None)
        schema["components"]["schemas"].pop("ValidationError", None)
        app.openapi_schema = schema
    return app.openapi_schema


def app_from_env() -> FastAPI:
    """Uvicorn factory: `uvicorn --factory app.main:app_from_env`."""
    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    return create_app(settings)
