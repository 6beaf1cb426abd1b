"""The base of every request body and action payload: unknown fields are refused, NUL never gets through, times
become UTC (refused when their UTC form is no real date), and text loses its surrounding whitespace only after the
schema's own limits were checked on what was sent, so that what the OpenAPI document says (maxLength, pattern) is
exactly what the service enforces."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from app.domain.text import refuse_nul


class StrictInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """`true` is not the number 1 here: only fields that take a boolean take one (the document says so)."""
        if isinstance(value, bool) and not _takes_bool(cls, info.field_name):
            raise ValueError("a boolean is not allowed here")
        return value

    @field_validator("*")
    @classmethod
    def _tidy(cls, value: Any, info: ValidationInfo) -> Any:
        value = refuse_nul(value)
        if isinstance(value, datetime):
            return within_utc_years(value)
        if type(value) is not str:  # enums are str subclasses: they keep their type
            return value
        stripped = value.strip()
        if not stripped and value and _requires_text(cls, info.field_name):
            raise ValueError("must not be blank")
        return stripped


def within_utc_years(value: datetime) -> datetime:
    """The time in UTC, as it is stored and answered (`Z`), when its UTC form falls in years 1–9999:
    `9999-12-31T23:59:59-23:59` is a valid RFC 3339 time that no database or `datetime` can hold."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("outside years 0001–9999 once converted to UTC") from None


def _takes_bool(model: type[BaseModel], name: str | None) -> bool:
    field = model.model_fields.get(name or "")
    return field is None or _mentions_bool(field.annotation)


def _mentions_bool(annotation: Any) -> bool:
    return annotation is bool or annotation is Any or any(_mentions_bool(arg) for arg in get_args(annotation))


def _requires_text(model: type[BaseModel], name: str | None) -> bool:
    field = model.model_fields.get(name or "")
    return field is not None and any((getattr(m, "min_length", 0) or 0) > 0 for m in field.metadata)
