"""Inbound events: what the payment centre, the WMS/logistics system, the ERP and the CRM sent, kept once per
(source, webhook-id) with the outcome of processing it, so a replay does nothing and a failure can be retried."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

from app.domain.pagination import Page, PageRequest


class InboundSource(StrEnum):
    """The systems that may send events; each is enabled by configuring its signing secret."""

    PAYMENT_CENTRE = "payment_centre"
    WMS = "wms"
    ERP = "erp"
    CRM = "crm"


class InboundStatus(StrEnum):
    RECEIVED = "received"
    """Stored and being processed (or interrupted, when it stays so): the next delivery processes it again."""
    PROCESSED = "processed"
    FAILED = "failed"
    """Processing raised a domain error (409, 404, 422…): the next delivery with the same webhook-id retries it."""
    UNKNOWN = "unknown"
    """A type this service does not handle from this source: kept for inspection, never processed."""


SETTLED = frozenset({InboundStatus.PROCESSED, InboundStatus.UNKNOWN})
"""Outcomes a replay only reports: nothing is done again."""


@dataclass(frozen=True, slots=True)
class InboundEvent:
    """One delivery as sent (`payload` is the whole JSON body) and what became of it."""

    id: UUID
    source: str
    webhook_id: str
    type: str
    payload: dict[str, Any]
    status: InboundStatus
    received_at: datetime
    detail: str | None = None
    processed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class InboundFilter:
    source: str | None = None
    status: InboundStatus | None = None
    type: str | None = None


class InboundEventRepository(Protocol):
    async def get(self, event_id: UUID) -> InboundEvent | None: ...

    async def find(self, source: str, webhook_id: str, *, for_update: bool = False) -> InboundEvent | None:
        """The event this source sent with this webhook-id, if any."""
        ...

    async def add(self, event: InboundEvent) -> None: ...

    async def update(self, event: InboundEvent) -> None:
        """Store a new delivery of a failed or interrupted event (type, payload, status, detail, processed_at)."""
        ...

    async def record_outcome(
        self, event_id: UUID, status: InboundStatus, detail: str | None, at: datetime
    ) -> InboundEvent | None:
        """Set the outcome; a processed event is never marked failed afterwards (a concurrent delivery's failure).
        None when the event is processed already and `status` is not."""
        ...

    async def list(self, where: InboundFilter, page: PageRequest) -> Page[InboundEvent]:
        """Newest first."""
        ...
