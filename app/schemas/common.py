"""Building blocks shared by every schema: strict inputs, business keys, pages and problem documents."""

from __future__ import annotations

import re
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Path
from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from app.domain.text import single_line
from app.workflows.inputs import StrictInput

T = TypeVar("T")

KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
BusinessKey = Annotated[str, Field(pattern=KEY_PATTERN, examples=["C-10001"])]
"""ERP/CRM business key (customer_no, sku, order_no, contract_no): letters, digits, `.`, `_`, `-`; ≤ 64."""
KeyPath = Annotated[str, Path(pattern=KEY_PATTERN, description="Business key.")]
LINE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
"""Single-line query text: no control characters."""
Line = Annotated[str, AfterValidator(single_line)]
"""Single-line body text: no control characters (a pattern in the schema could not say "except surrounding
whitespace", which is stripped)."""
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _rfc3339(value: Any) -> Any:
    if isinstance(value, str) and not _RFC3339.match(value):
        raise ValueError("an RFC 3339 date-time with its offset, e.g. 2026-12-01T08:00:00Z")
    return value


QueryInstant = Annotated[AwareDatetime, BeforeValidator(_rfc3339)]
"""A time in a query string: RFC 3339 with an offset, nothing looser (no epoch numbers, no naive times)."""
MinorUnits = Annotated[int, Field(ge=0, le=10**13, description="Integer minor units (分, cents); never a float.")]


class Input(StrictInput):
    """Every request body: unknown fields are refused (422) rather than silently dropped."""


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class ProblemFieldError(BaseModel):
    detail: str
    pointer: str | None = Field(None, description="JSON pointer into the request body, as a URI fragment.")
    parameter: str | None = Field(None, description="Name of the bad query or path parameter.")
    header: str | None = Field(None, description="Name of the bad header.")


class Problem(BaseModel):
    """RFC 9457 problem document; `code` is stable and machine-readable."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["/problems/validation_failed"])
    title: str
    status: int
    detail: str
    code: str = Field(examples=["validation_failed"])
    errors: list[ProblemFieldError] | None = None


_PROBLEM_DESCRIPTIONS = {
    401: "Missing, expired or invalid credentials.",
    403: "The caller's roles may not call this operation.",
    404: "No such resource, or it belongs to someone else.",
    409: "Conflicts with the resource's current state.",
    412: "If-Match/If-None-Match did not match the current ETag.",
    413: "The request body is too large.",
    422: "The request is well-formed JSON but some fields are invalid; `errors` names them.",
    428: "This change requires If-Match.",
    429: "Too many requests; see Retry-After.",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the problem documents an operation can answer (every authenticated
    operation can answer 401, 403 and 429)."""
    return {
        status: {"model": Problem, "description": _PROBLEM_DESCRIPTIONS[status]}
        for status in (401, 403, 429, *statuses)
    }


def upserted(model: type[BaseModel], *statuses: int) -> dict[int | str, dict[str, Any]]:
    """Responses of a PUT upsert: 200 replaced (the default response), 201 created, and its problems."""
    return {201: {"model": model, "description": "Created."}, **problems(*statuses)}
