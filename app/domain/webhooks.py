"""Outbound webhooks (Standard Webhooks): endpoints that subscribe to event types, one delivery per event and
endpoint, retried on a schedule until it succeeds or is dead-lettered."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

from app.domain.clock import rfc3339
from app.domain.pagination import Page, PageRequest

DEFAULT_SCHEDULE = (0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
"""Seconds before each try: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h."""
SECRET_OVERLAP = timedelta(hours=24)
"""After a rotation the old secret still signs for this long, so receivers can switch without losing events."""


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its next try (or being tried under a lease)
    SUCCEEDED = "succeeded"
    DEAD = "dead"  # every try failed, or the endpoint answered 410 Gone: dead-lettered


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    id: UUID
    url: str
    event_types: tuple[str, ...]
    enabled: bool
    secret: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int = 1
    description: str | None = None
    previous_secret: str | None = None
    previous_secret_until: datetime | None = None
    disabled_reason: str | None = None

    def wants(self, event_type: str) -> bool:
        return any(pattern_matches(pattern, event_type) for pattern in self.event_types)

    def signing_secrets(self, now: datetime) -> list[str]:
        """The current secret, and the previous one while the rotation overlap lasts."""
        old = self.previous_secret if self.previous_secret_until and now < self.previous_secret_until else None
        return [self.secret, *([old] if old else [])]


def pattern_matches(pattern: str, event_type: str) -> bool:
    """`*` every event, `ticket.*` every ticket event, otherwise the exact type."""
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type


def unknown_patterns(patterns: Iterable[str], known: frozenset[str]) -> list[str]:
    """Patterns that could never match an event this service sends (so a typo is refused, not silently idle)."""
    prefixes = {t.split(".", 1)[0] for t in known}
    return [p for p in patterns if not (p == "*" or p in known or (p.endswith(".*") and p[:-2] in prefixes))]


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    delays: tuple[int, ...] = DEFAULT_SCHEDULE

    @property
    def tries(self) -> int:
        return len(self.delays)

    def after_failure(self, attempts: int, now: datetime) -> datetime | None:
        """When to try again after the `attempts`-th try failed; None when none is left (dead-letter)."""
        if attempts >= len(self.delays):
            return None
        return now + timedelta(seconds=self.delays[attempts])


@dataclass(frozen=True, slots=True)
class Attempt:
    id: UUID
    delivery_id: UUID
    attempt: int
    started_at: datetime
    duration_ms: int
    status_code: int | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    id: UUID
    endpoint_id: UUID
    event_id: UUID
    event_type: str
    sequence: int
    status: DeliveryStatus
    attempts: int
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    history: tuple[Attempt, ...] = ()


@dataclass(frozen=True, slots=True)
class Message:
    """One claimed try: what to send where, signed with which secrets."""

    delivery_id: UUID
    endpoint_id: UUID
    attempt: int
    url: str
    secrets: tuple[str, ...]
    webhook_id: str
    occurred_at: datetime
    body: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one try got: a status code, or the error that kept it from getting one."""

    delivery_id: UUID
    endpoint_id: UUID
    attempt: int
    started_at: datetime
    duration_ms: int
    status_code: int | None = None
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == 410


class WebhookRepository(Protocol):
    async def add_endpoint(self, endpoint: WebhookEndpoint) -> None: ...
    async def get_endpoint(self, endpoint_id: UUID, *, for_update: bool = False) -> WebhookEndpoint | None: ...
    async def update_endpoint(self, endpoint: WebhookEndpoint) -> None: ...
    async def endpoints(self, owner: str | None, page: PageRequest) -> Page[WebhookEndpoint]: ...
    async def enabled_endpoints(self) -> list[WebhookEndpoint]: ...
    async def fan_out(self, endpoints: list[WebhookEndpoint], now: datetime, limit: int) -> int: ...
    async def claim(self, now: datetime, lease_until: datetime, limit: int) -> list[Message]: ...
    async def record(self, outcomes: list[Outcome], schedule: RetrySchedule, now: datetime) -> None: ...
    async def get_delivery(self, delivery_id: UUID, *, for_update: bool = False) -> Delivery | None: ...
    async def deliveries(
        self, endpoint_id: UUID, status: DeliveryStatus | None, page: PageRequest
    ) -> Page[Delivery]: ...
    async def requeue(self, delivery_id: UUID, now: datetime) -> None: ...
    async def replay(self, endpoint: WebhookEndpoint, start: datetime, end: datetime, now: datetime) -> int: ...


def event_body(event_type: str, occurred_at: datetime, sequence: int, data: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of every delivery: Standard Webhooks' type, timestamp and data, plus our sequence."""
    return {"type": event_type, "timestamp": rfc3339(occurred_at), "sequence": sequence, "data": data}
