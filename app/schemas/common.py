"""Building blocks shared by every schema: strict inputs, business keys, pages and problem documents."""

from __future__ import annotations

import re
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Path
from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StrictInt

from app.domain.text import single_line
from app.workflows.inputs import StrictInput, within_utc_years

T = TypeVar("T")

KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
BusinessKey = Annotated[str, Field(pattern=KEY_PATTERN)]
"""ERP/CRM business key (customer_no, sku, order_no, contract_no): letters, digits, `.`, `_`, `-`; ≤ 64."""
CustomerNo = Annotated[BusinessKey, Field(examples=["C-10001"])]
Sku = Annotated[BusinessKey, Field(examples=["AP-X3-WHITE"])]
OrderNo = Annotated[BusinessKey, Field(examples=["SO-2026-0001"])]
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


QueryInstant = Annotated[AwareDatetime, BeforeValidator(_rfc3339), AfterValidator(within_utc_years)]
"""A time in a query string: RFC 3339 with an offset, nothing looser (no epoch numbers, no naive times), whose UTC
form is a real date (bodies get the same check from `StrictInput`)."""
MinorUnits = Annotated[StrictInt, Field(ge=0, le=10**13, description="Integer minor units (分, cents); never a float.")]
"""Money in a request body: a JSON integer only (`"100"`, `100.0` and `true` are refused, not converted)."""
Quantity = Annotated[StrictInt, Field(ge=1, le=1_000_000)]
"""Units of one line in a request body: a JSON integer only."""


class Input(StrictInput):
    """Every request body: unknown fields are refused (422) rather than silently dropped."""


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class ProblemFieldError(BaseModel):
    """One bad input of a 422 problem: where it is (exactly one of `pointer`, `parameter`, `header`) and why."""

    detail: str
    pointer: str | None = Field(None, description="JSON pointer into the request body, as a URI fragment.")
    parameter: str | None = Field(None, description="Name of the bad query or path parameter.")
    header: str | None = Field(None, description="Name of the bad header.")


class Problem(BaseModel):
    """RFC 9457 problem document; `code` is stable and machine-readable. The optional members are the extensions
    some problems carry; any other member may be added later, so clients must ignore what they do not know."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["/problems/validation_failed"])
    title: str
    status: int = Field(description="The HTTP status code.")
    detail: str
    code: str = Field(examples=["validation_failed"])
    errors: list[ProblemFieldError] | None = Field(None, description="422: every bad input.")
    current_state: str | None = Field(None, description="409 on an action: the object's state now.")
    allowed_actions: list[str] | None = Field(None, description="409 on an action: the actions possible now.")
    unfinished_tasks: list[str] | None = Field(None, description="409 `tasks_unfinished`: the open tasks' numbers.")
    current_etag: str | None = Field(None, description="412: the resource's ETag now, to read it again.")
    approval_status: str | None = Field(None, description="409 `approval_closed`: how the approval ended.")
    inbound_event_id: str | None = Field(
        None, description="An inbound event refused after it was recorded: its id in `/v1/inbound-events`."
    )
    retry_after: int | None = Field(None, description="429: seconds to wait, as in `Retry-After`.")
    resource: str | None = Field(None, description="`duplicate`, `unknown_reference`: the kind of record concerned.")
    fields: list[str] | None = Field(None, description="`duplicate`, `unknown_reference`: the fields concerned.")
    scan_status: str | None = Field(None, description="409 on an attachment: its virus scan status now.")
    evidence: dict[str, int] | None = Field(
        None, description="409 `evidence_missing`: the photos needed (`required`), `clean` and `pending`."
    )
    limit: int | None = Field(None, description="413 on an upload: the most bytes the file may have.")
    term: str | None = Field(None, description="409 `synonym_term_taken`: the term, folded, another group holds.")
    group_id: str | None = Field(None, description="409 `synonym_term_taken`: the group that holds it.")


PROBLEM_DESCRIPTIONS = {
    400: "A malformed header, e.g. an If-Match that is not `*` or quoted ETags; the problem names it.",
    401: "Missing, expired or invalid credentials.",
    403: "The caller's roles may not call this operation.",
    404: "No such resource, or it belongs to someone else.",
    409: "Conflicts with the resource's current state.",
    412: "If-Match/If-None-Match did not match the current ETag.",
    413: "The request body is too large.",
    415: "The body is not JSON encoded as UTF-8 (RFC 8259).",
    422: "The request is well-formed JSON but some fields are invalid; `errors` names them.",
    428: "This change requires If-Match.",
    429: "Too many requests; see Retry-After.",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the problem documents an operation can answer (every authenticated
    operation can answer 401, 403 and 429)."""
    return {
        status: {"model": Problem, "description": PROBLEM_DESCRIPTIONS[status]} for status in (401, 403, 429, *statuses)
    }


def upserted(model: type[BaseModel], *statuses: int) -> dict[int | str, dict[str, Any]]:
    """Responses of a PUT upsert: 200 replaced (the default response), 201 created, and its problems."""
    return {201: {"model": model, "description": "Created."}, **problems(*statuses)}


Phone = Annotated[
    str,
    Field(pattern=r"^\+?[0-9][0-9 ()-]{2,30}$", max_length=32, examples=["+86 400-800-8888"]),
]
"""A phone number as people write it, at most 32 characters (the stored column's width)."""
