"""Health, readiness and caller identity."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from app.domain.principal import Role


class HealthOut(BaseModel):
    status: Literal["ok"]


class ReadinessOut(BaseModel):
    status: Literal["ready", "not_ready"]
    database: Literal["ok", "unreachable"]
    schema_revision: str | None
    expected_revision: str


class MeOut(BaseModel):
    subject: str
    roles: list[Role]
    customer_no: str | None
    business_lines: list[str]
    authenticated_by: Literal["token", "api_key"]
