"""`Idempotency-Key` on POSTs: the first request with a key runs and its answer is kept; a retry with the same key
and the same request gets that answer again (`Idempotent-Replayed: true`) without running anything.

A pure ASGI middleware inside RequestContextMiddleware, so the request id, the body cap (413) and the 500 safety
net apply to it as to every request."""

from __future__ import annotations

from typing import Any

import orjson
import structlog
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.domain.errors import DomainError, FieldError, Unauthenticated
from app.domain.idempotency import HEADER, IdempotentRequest, StoredResponse, caller_scope, fingerprint, key_problem
from app.domain.principal import Principal
from app.services.idempotency import IdempotencyService
from app.web.auth import bearer_token, identify, remember_identity
from app.web.problems import PROBLEM_MEDIA_TYPE, domain_error_response, problem_response
from app.web.wiring import Services

REPLAYED_HEADER = "Idempotent-Replayed"
# The headers that describe a kept answer; the rest (request id, length) belong to each response.
KEPT_HEADERS = ("content-type", "location", "etag", "allow")
# Inbound webhooks deduplicate by their webhook-id; a new API key's secret must never be stored in the clear; an
# upload streams into the attachment store and is never held whole (the same bytes are stored once anyway).
_EXCLUDED_PREFIXES = ("/v1/inbound/",)
_EXCLUDED_PATHS = frozenset({"/v1/api-keys", "/v1/attachments"})

log = structlog.get_logger("aftersales.http")


def honours_idempotency_key(method: str, path: str) -> bool:
    """Every POST under /v1 that creates something or moves money: all of them but inbound webhooks and API keys."""
    return (
        method == "POST"
        and path.startswith("/v1/")
        and not path.startswith(_EXCLUDED_PREFIXES)
        and path.rstrip("/") not in _EXCLUDED_PATHS
    )


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, *, services: Services) -> None:
        self.app = app
        self.services = services
        self.keys: IdempotencyService = services.idempotency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not honours_idempotency_key(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = headers.get(HEADER)
        if key is None:
            await self.app(scope, receive, send)
            return
        problem = key_problem(key)
        if problem is not None:
            invalid = problem_response(
                422,
                "validation_failed",
                f"The {HEADER} header {problem}",
                title="Validation failed",
                errors=[FieldError(HEADER, problem, location="header")],
            )
            await invalid(scope, receive, send)
            return
        body = await _read_body(receive)  # the body cap of the middleware outside raises here (413)
        if body is None:
            return  # the client went away before sending its request
        receive = _replaying(body, receive)
        caller = await self._caller(scope, headers)
        if caller is None:
            await self.app(scope, receive, send)  # the route answers 401; nothing is kept
            return
        request = IdempotentRequest(
            caller=caller_scope(caller.subject),
            key=key,
            method=scope["method"],
            path=scope["path"],
            fingerprint=fingerprint(scope["method"], scope["path"], scope["query_string"].decode("latin-1"), body),
        )
        try:
            stored = await self.keys.begin(request)
        except DomainError as error:
            await domain_error_response(error)(scope, receive, send)
            return
        if stored is not None:
            await _replay(stored, send)
            return
        await self._run(scope, receive, send, request)

    async def _caller(self, scope: Scope, headers: Headers) -> Principal | None:
        """The caller as the routes authenticate them, or None: the route then refuses the request itself. Either
        way the route takes the outcome from here instead of authenticating again."""
        try:
            caller = await identify(self.services, bearer_token(headers.get("authorization")), headers.get("x-api-key"))
        except Unauthenticated as refused:
            remember_identity(scope, refused)
            return None
        remember_identity(scope, caller)  # the subject is on the log line of a replay too
        return caller

    async def _run(self, scope: Scope, receive: Receive, send: Send, request: IdempotentRequest) -> None:
        """Run the request while holding its key; the answer is kept before its last byte goes out, so a client
        that has the answer can count on a replay."""
        status, finished = 0, False
        kept_headers: dict[str, str] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, kept_headers, finished
            if message["type"] == "http.response.start":
                status = message["status"]
                kept_headers = _kept_headers(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False) and not finished:
                    finished = True
                    await self._finish(request, StoredResponse(status, kept_headers, b"".join(chunks)))
            await send(message)

        try:
            await self.app(scope, receive, capture)
        except BaseException:
            if not finished:
                await self._release(request)
            raise
        if not finished:
            await self._release(request)

    async def _finish(self, request: IdempotentRequest, response: StoredResponse) -> None:
        try:
            await self.keys.finish(request, response, _problem_code(response))
        except Exception:
            # The answer itself is good and goes out; only its replay is lost, so the key is freed for a retry.
            log.exception("idempotency_key_not_stored", key=request.key)
            await self._release(request)

    async def _release(self, request: IdempotentRequest) -> None:
        try:
            await self.keys.release(request)
        except Exception:
            log.exception("idempotency_key_not_released", key=request.key)


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """Hands the app the body read here, then whatever the server sends next (a disconnect)."""
    delivered = False

    async def replay_receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay_receive


def _kept_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    found = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in raw}
    return {name: found[name] for name in KEPT_HEADERS if name in found}


def _problem_code(response: StoredResponse) -> str | None:
    if response.headers.get("content-type", "").split(";")[0].strip() != PROBLEM_MEDIA_TYPE:
        return None
    try:
        code = orjson.loads(response.body).get("code")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return code if isinstance(code, str) else None


async def _replay(stored: StoredResponse, send: Send) -> None:
    headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in stored.headers.items()]
    headers += [(b"content-length", str(len(stored.body)).encode()), (REPLAYED_HEADER.lower().encode(), b"true")]
    await send({"type": "http.response.start", "status": stored.status, "headers": headers})
    await send({"type": "http.response.body", "body": stored.body})


def document_idempotency_key(schema: dict[str, Any]) -> None:
    """Declare the header (one shared parameter) and the problems it can answer on every operation that honours it."""
    components = schema.setdefault("components", {})
    components.setdefault("parameters", {})["IdempotencyKey"] = {
        "name": HEADER,
        "in": "header",
        "required": False,
        "description": (
            "Makes a retry safe: a request repeated with the same key (by the same caller, within the retention "
            "time) answers the first request's status, body and Location again with `Idempotent-Replayed: true`, "
            "and does nothing twice. The same key for a different request answers 422 "
            "`idempotency_key_reused`; while the first request still runs, 409 `idempotency_key_in_flight`."
        ),
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
    }
    for path, operations in schema.get("paths", {}).items():
        operation = operations.get("post")
        if operation is None or not honours_idempotency_key("POST", path):
            continue
        operation.setdefault("parameters", []).append({"$ref": "#/components/parameters/IdempotencyKey"})
        responses = operation.setdefault("responses", {})
        responses.setdefault("409", {"description": "A request with this Idempotency-Key is still running."})
        responses.setdefault("422", {"description": "Invalid input, or an Idempotency-Key used for another request."})
        for status in ("409", "422"):
            content = responses[status].setdefault("content", {})
            content.setdefault(PROBLEM_MEDIA_TYPE, {"schema": {"$ref": "#/components/schemas/Problem"}})
