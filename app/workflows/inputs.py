"""The base of every request body and action payload: unknown fields are refused, NUL never gets through, and
text loses its surrounding whitespace only after the schema's own limits were checked on what was sent, so that
what the OpenAPI document says (maxLength, pattern) is exactly what the service enforces."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from app.domain.text import refuse_nul


class StrictInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _tidy(cls, value: Any, info: ValidationInfo) -> Any:
        value = refuse_nul(value)
        if type(value) is not str:  # enums are str subclasses: they keep their type
            return value
        stripped = value.strip()
        if not stripped and value and _requires_text(cls, info.field_name):
            raise ValueError("must not be blank")
        return stripped


def _requires_text(model: type[BaseModel], name: str | None) -> bool:
    field = model.model_fields.get(name or "")
    return field is not None and any((getattr(m, "min_length", 0) or 0) > 0 for m in field.metadata)
