"""RFC 9457 problem documents: the one shape of every error response, each with a stable `code`."""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app.domain.errors import (
    BadRequest,
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    PreconditionRequired,
    RateLimited,
    Unauthenticated,
    UnsupportedMediaType,
)
from app.domain.invariants import of_type
from app.persistence.database import is_unavailable
from app.web.body_guard import BodyRefused
from app.web.routes import allowed_methods

PROBLEM_MEDIA_TYPE = "application/problem+json"

STATUS_OF: dict[type[DomainError], int] = {
    BadRequest: 400,
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 422,
    Unauthenticated: 401,
    Forbidden: 403,
    PreconditionFailed: 412,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    PreconditionRequired: 428,
    RateLimited: 429,
}

RETRY_UNAVAILABLE_AFTER_SECONDS = 5
"""What a 503 for a lost database tells a client to wait: long enough for a pool to reconnect or a failover."""

_CODE_OF_STATUS = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    500: "internal_error",
}


def problem_type(code: str) -> str:
    return f"/problems/{code}"


def problem_body(
    status: int,
    code: str,
    detail: str,
    *,
    title: str | None = None,
    errors: Sequence[FieldError] = (),
    extra: dict[str, Any] | None = None,
) -> bytes:
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = [_field_error(error) for error in errors]
    body.update(extra or {})
    return orjson.dumps(body, option=orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC)


def problem_response(
    status: int, code: str, detail: str, *, headers: dict[str, str] | None = None, **kwargs: Any
) -> Response:
    return Response(
        problem_body(status, code, detail, **kwargs),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def _field_error(error: FieldError) -> dict[str, str]:
    if error.location == "body":
        return {"detail": error.detail, "pointer": f"#{error.pointer}"}
    key = "header" if error.location == "header" else "parameter"
    return {"detail": error.detail, key: error.pointer}


def domain_error_response(error: DomainError) -> Response:
    status = next((s for kind, s in STATUS_OF.items() if isinstance(error, kind)), 400)
    headers: dict[str, str] = {}
    if isinstance(error, Unauthenticated):
        headers["WWW-Authenticate"] = error.challenge
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after_seconds)
    if isinstance(error, PayloadTooLarge):
        headers["Connection"] = "close"  # the rest of the body is left unread
    return problem_response(
        status, error.code, error.detail, title=error.title, errors=error.errors, extra=error.extra, headers=headers
    )


def unavailable_response(error: BaseException) -> Response | None:
    """503 with Retry-After when `error` means the database was unreachable or the connection was lost (nothing was
    committed: the transaction was rolled back with it); None for every other error."""
    if not is_unavailable(error):
        return None
    return problem_response(
        503,
        "database_unavailable",
        "The database could not be reached or the connection was lost; nothing was changed, retry the request",
        title="Service unavailable",
        headers={"Retry-After": str(RETRY_UNAVAILABLE_AFTER_SECONDS)},
    )


def body_refused_response(refused: BodyRefused) -> Response:
    return problem_response(
        refused.status_code, refused.code, refused.detail, errors=refused.errors, headers=dict(refused.headers or {})
    )


def _validation_errors(exc: RequestValidationError) -> list[FieldError]:
    found: list[FieldError] = []
    for error in exc.errors():
        where, *path = error.get("loc", ("body",))
        message = "unknown field" if error.get("type") == "extra_forbidden" else error.get("msg", "invalid")
        if where == "body":
            if error.get("type") == "json_invalid":
                found.append(FieldError("", f"the body is not valid JSON: {error.get('ctx', {}).get('error', '')}"))
                continue
            found.append(FieldError("".join(f"/{part}" for part in path), message))
        else:
            found.append(FieldError(str(path[0]) if path else where, message, location=where))
    return found


def install_problem_handlers(app: FastAPI) -> None:
    async def on_domain_error(_request: Request, exc: Exception) -> Response:
        return domain_error_response(of_type(exc, DomainError))

    async def on_validation_error(_request: Request, exc: Exception) -> Response:
        errors = _validation_errors(of_type(exc, RequestValidationError))
        return problem_response(
            422,
            "validation_failed",
            f"The request has {len(errors)} invalid field(s)",
            title="Validation failed",
            errors=errors,
        )

    async def on_http_error(request: Request, error: Exception) -> Response:
        exc = of_type(error, StarletteHTTPException)
        if isinstance(exc, BodyRefused):
            return body_refused_response(exc)
        code = _CODE_OF_STATUS.get(exc.status_code, f"http_{exc.status_code}")
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        headers = dict(exc.headers or {})
        if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
            # FastAPI answers 400 for a body it cannot decode (bad UTF-8); to callers that is invalid JSON too.
            return problem_response(
                422,
                "validation_failed",
                "The request has 1 invalid field(s)",
                title="Validation failed",
                errors=[FieldError("", f"the body is not valid JSON: {exc.__cause__}")],
            )
        if exc.status_code == 404 and detail == "Not Found":
            detail, code = "No resource at this path", "route_not_found"
        elif exc.status_code == 405:
            # Starlette names only the first route that matched; Allow must list every method of the path.
            headers["Allow"] = ", ".join(allowed_methods(request.app, request.url.path))
            detail = f"This path does not accept {request.method}; allowed: {headers['Allow']}"
        return problem_response(exc.status_code, code, detail, headers=headers)

    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
