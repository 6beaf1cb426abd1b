"""Outermost middleware: request id, body cap (413), body guard (UTF-8 JSON, read in time: 415, 408), access log,
Prometheus metrics, and the safety net: 503 for a lost database, 500 for anything else."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.web.body_guard import BodyRefused, charset_refusal, guarded
from app.web.problems import PROBLEM_MEDIA_TYPE, body_refused_response, problem_body, unavailable_response

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_NAME = REQUEST_ID_HEADER.encode()
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

log = structlog.get_logger("aftersales.http")


class BodyTooLarge(HTTPException):
    """The request body grew past the cap while being read; an HTTPException so that body parsing re-raises it."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body exceeds {limit} bytes")


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        # The labelled children per (method, route, status), so that a request costs no label lookup.
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self.requests = Counter(
            "http_requests_total", "HTTP requests by route and status", ["method", "route", "status"], registry=registry
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            ["method", "route"],
            registry=registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        children = self._children.get((method, route, status))
        if children is None:
            children = (self.requests.labels(method, route, str(status)), self.latency.labels(method, route))
            self._children[method, route, status] = children
        children[0].inc()
        children[1].observe(seconds)


@dataclass(frozen=True, slots=True)
class BodyBound:
    """How large a request body may be and how long it may take to arrive."""

    max_bytes: int
    timeout_seconds: float


class RequestContextMiddleware:
    """`streamed` names the operations (method, path) whose bodies are streamed by the route (uploads) with a bound
    of their own; every other body is bound by `max_body_bytes` and `body_timeout_seconds`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: HttpMetrics,
        max_body_bytes: int,
        body_timeout_seconds: float,
        streamed: Mapping[tuple[str, str], BodyBound] | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.bound = BodyBound(max_body_bytes, body_timeout_seconds)
        self.streamed = dict(streamed or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status, response_started = message["status"], True
                message["headers"] = [*message.get("headers", []), (_REQUEST_ID_NAME, request_id.encode())]
            await send(message)

        bound = self.streamed.get((scope["method"], scope["path"]), self.bound)
        try:
            if _declared_length(scope) > bound.max_bytes:
                status = await _send_problem(send_with_id, 413, "payload_too_large", _too_large(bound))
                return
            refused = charset_refusal(scope)
            if refused is not None:
                status = refused.status_code
                await body_refused_response(refused)(scope, receive, send_with_id)
                return
            receive = guarded(_capped(receive, bound), scope, timeout_seconds=bound.timeout_seconds)
            await self.app(scope, receive, send_with_id)
        except BodyTooLarge:
            if not response_started:
                status = await _send_problem(send_with_id, 413, "payload_too_large", _too_large(bound))
        except BodyRefused as refused:
            if not response_started:
                status = refused.status_code
                await body_refused_response(refused)(scope, receive, send_with_id)
        except Exception as exc:
            unavailable = unavailable_response(exc)
            if unavailable is not None:
                log.warning("database_unavailable", method=scope["method"], path=scope["path"], error=repr(exc))
                if not response_started:
                    status = unavailable.status_code
                    await unavailable(scope, receive, send_with_id)
                return
            log.exception("unhandled_error", method=scope["method"], path=scope["path"])
            if not response_started:
                status = await _send_problem(
                    send_with_id,
                    500,
                    "internal_error",
                    f"An unexpected error occurred; quote request id {request_id} when reporting it",
                )
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.observe(scope["method"], route, status, elapsed)
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                route=route,
                status=status,
                duration_ms=round(elapsed * 1000, 2),
            )
            structlog.contextvars.clear_contextvars()


def _too_large(bound: BodyBound) -> str:
    return f"The request body exceeds {bound.max_bytes} bytes"


def _capped(receive: Receive, bound: BodyBound) -> Receive:
    received = 0

    async def capped_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > bound.max_bytes:
                raise BodyTooLarge(bound.max_bytes)
        return message

    return capped_receive


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == _REQUEST_ID_NAME:
            candidate = value.decode("latin-1")
            if _VALID_REQUEST_ID.match(candidate):
                return candidate
    return uuid.uuid4().hex


def _declared_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


async def _send_problem(send: Send, status: int, code: str, detail: str) -> int:
    body = problem_body(status, code, detail)
    headers: list[Any] = [(b"content-type", PROBLEM_MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode())]
    if status == 413:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    return status
