"""Webhook contract: endpoints (the secret appears only when created or rotated), deliveries with their tries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, ConfigDict, Field

from app.domain.webhooks import Attempt, Delivery, DeliveryStatus, WebhookEndpoint
from app.schemas.common import Input, Line, Output

EventPattern = Annotated[str, Field(pattern=r"^(\*|[a-z_]+\.(\*|[a-z_]+))$", max_length=64)]


class EndpointIn(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://erp.example.com/hooks/aftersales",
                    "event_types": ["ticket.*", "after_sales.refund_requested"],
                    "description": "ERP: tickets and refund instructions",
                }
            ]
        }
    )

    url: str = Field(min_length=1, max_length=2048, description="https:// URL of a public host.")
    event_types: list[EventPattern] = Field(
        min_length=1,
        max_length=50,
        description="Exact types (`ticket.resolve`), a family (`ticket.*`) or everything (`*`); see "
        "GET /v1/webhook-event-types.",
    )
    description: Line | None = Field(None, max_length=500)
    enabled: bool = True


class EndpointPatch(Input):
    url: str | None = Field(None, min_length=1, max_length=2048)
    event_types: list[EventPattern] | None = Field(None, min_length=1, max_length=50)
    description: Line | None = Field(None, max_length=500)
    enabled: bool | None = None


class EndpointOut(Output):
    id: UUID
    url: str
    event_types: list[str]
    description: str | None
    enabled: bool
    disabled_reason: str | None = Field(description="Why delivery stopped, e.g. the endpoint answered 410 Gone.")
    previous_secret_valid_until: datetime | None = Field(
        description="After a rotation, deliveries are also signed with the old secret until then."
    )
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> EndpointOut:
        return cls(
            id=endpoint.id,
            url=endpoint.url,
            event_types=list(endpoint.event_types),
            description=endpoint.description,
            enabled=endpoint.enabled,
            disabled_reason=endpoint.disabled_reason,
            previous_secret_valid_until=endpoint.previous_secret_until,
            created_by=endpoint.created_by,
            created_at=endpoint.created_at,
            updated_at=endpoint.updated_at,
            version=endpoint.version,
        )


class EndpointWithSecretOut(EndpointOut):
    secret: str = Field(description="`whsec_…`: verify our signatures with it. Shown only this once.")


class AttemptOut(Output):
    attempt: int
    started_at: datetime
    duration_ms: int
    status_code: int | None
    error: str | None

    @classmethod
    def of(cls, attempt: Attempt) -> AttemptOut:
        return cls.model_validate(attempt)


class DeliveryOut(Output):
    id: UUID
    endpoint_id: UUID
    event_id: UUID = Field(description="Also the `webhook-id` header: the same on every try.")
    event_type: str
    sequence: int = Field(description="The event's place in the order events happened.")
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    tries: list[AttemptOut]

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryOut:
        return cls(
            id=delivery.id,
            endpoint_id=delivery.endpoint_id,
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            sequence=delivery.sequence,
            status=delivery.status,
            attempts=delivery.attempts,
            next_attempt_at=delivery.next_attempt_at,
            last_status_code=delivery.last_status_code,
            last_error=delivery.last_error,
            delivered_at=delivery.delivered_at,
            created_at=delivery.created_at,
            tries=[AttemptOut.of(a) for a in delivery.history],
        )


class ReplayIn(Input):
    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={"examples": [{"from": "2026-12-01T00:00:00Z", "to": "2026-12-02T00:00:00Z"}]},
    )

    from_: AwareDatetime = Field(alias="from", description="Events that happened from this time (inclusive)…")
    to: AwareDatetime = Field(description="…until this time (exclusive); at most 31 days.")


class ReplayOut(Output):
    queued: int = Field(description="Deliveries queued to be sent again (or for the first time).")
