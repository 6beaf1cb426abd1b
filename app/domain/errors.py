"""Domain errors: each carries a stable machine-readable `code`; the web layer maps kinds to HTTP once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class FieldError:
    """One bad field and why: in the body a JSON pointer (`/lines/0/sku`), elsewhere the parameter's name."""

    pointer: str
    detail: str
    location: Literal["body", "query", "path", "header"] = "body"


class DomainError(Exception):
    """Base of every error a caller can cause; never carries SQL, stack traces or secrets."""

    code = "domain_error"
    title = "The request cannot be carried out"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        errors: list[FieldError] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.errors = errors or []
        self.extra = extra or {}


class BadRequest(DomainError):
    """A request the protocol itself rules out (a malformed header), before any field or rule is looked at."""

    code = "bad_request"
    title = "Bad request"


class NotFound(DomainError):
    code = "not_found"
    title = "Not found"


class Conflict(DomainError):
    code = "conflict"
    title = "Conflict with the current state"


class InvalidInput(DomainError):
    """Well-formed input that breaks a business rule; names each offending field."""

    code = "invalid_input"
    title = "Invalid input"


class Unauthenticated(DomainError):
    code = "unauthenticated"
    title = "Authentication required"
    challenge = 'Bearer realm="aftersales"'
    """The WWW-Authenticate challenge a 401 carries: how to authenticate instead."""


class SignatureRejected(Unauthenticated):
    """A signed (webhook) request whose signature does not hold: a bearer token would not help."""

    title = "Signature not accepted"
    challenge = 'Signature realm="aftersales-inbound", scheme="standard-webhooks"'


class Forbidden(DomainError):
    code = "forbidden"
    title = "Not allowed"


class PayloadTooLarge(DomainError):
    """A body (an uploaded file) past the limit that applies to it."""

    code = "payload_too_large"
    title = "Payload too large"


class UnsupportedMediaType(DomainError):
    """Content the service does not take: a file type off the allow-list, or bytes that are not what they claim."""

    code = "unsupported_media_type"
    title = "Unsupported media type"


class PreconditionFailed(DomainError):
    code = "precondition_failed"
    title = "Precondition failed"


class PreconditionRequired(DomainError):
    code = "precondition_required"
    title = "Precondition required"


class RateLimited(DomainError):
    code = "rate_limited"
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after_seconds: int) -> None:
        super().__init__(detail, extra={"retry_after": retry_after_seconds})
        self.retry_after_seconds = retry_after_seconds
