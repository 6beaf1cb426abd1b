"""The watch over complaint spikes (客诉激增): what the service keeps to run the judgement of
app/domain/complaint_spikes.py hour after hour — its settings, each series' learned state, the spikes it found, the
job's cursor — and the repository that keeps them.

Every ticket type is a series of its own, per product and region: a run of installation requests or of questions
about one product tells a supervisor as much as a run of complaints, and each type keeps its own daily rhythm out of
the others' baselines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

from app.domain.complaint_spikes import SeriesKey, SeriesState, SpikeParams
from app.domain.errors import InvalidInput
from app.domain.pagination import Page, PageRequest


class ProductDimension(StrEnum):
    """What `product` of a series is: the ticket's SKU, or its business line (the product line of that SKU)."""

    SKU = "sku"
    BUSINESS_LINE = "business_line"


@dataclass(frozen=True, slots=True)
class SpikeSettings:
    """On by default: it only tells people, and judges no series before its warm-up is over."""

    enabled: bool = True
    product_dimension: ProductDimension = ProductDimension.SKU
    params: SpikeParams = field(default_factory=SpikeParams)
    version: int = 0

    def starts_over_from(self, before: SpikeSettings) -> bool:
        """Whether what was learned under `before` no longer applies: switched on or off (the hours in between were
        not watched), series of another product dimension, or baseline slots of another season."""
        return (
            self.enabled != before.enabled
            or self.product_dimension != before.product_dimension
            or self.params.season_hours != before.params.season_hours
        )


def spike_params(**values: Any) -> SpikeParams:
    """The judgement's parameters from a settings document: every bad one named at once, as
    `invalid_spike_settings`."""
    try:
        return SpikeParams(**values)
    except InvalidInput as refused:
        raise InvalidInput(refused.detail, code="invalid_spike_settings", errors=refused.errors) from None


@dataclass(frozen=True, slots=True)
class TrackedSeries:
    """A series as stored: its learned state and the spike announced for it, from the announcement (which may come
    while the hour is still under way, before that hour is folded into the state) until the spike ends."""

    key: SeriesKey
    state: SeriesState
    open_spike_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class SeriesCount:
    """How many tickets of a series were created in the hour starting at `hour_start`, and the business line they
    belong to (a SKU sells in one; None when none is known)."""

    hour_start: datetime
    key: SeriesKey
    count: int
    business_line: str | None = None


@dataclass(frozen=True, slots=True)
class Spike:
    """A spike found: its first over hour (`started_at`), that hour's count (so far, while it is under way), the
    baseline it was judged against and the bound it exceeded; `ended_at` is the end of the calm hour that ended it."""

    id: UUID
    key: SeriesKey
    started_at: datetime
    count: int
    baseline: float
    bound: int
    created_at: datetime
    business_line: str | None = None
    ended_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True, slots=True)
class SpikeFilter:
    """Staff filters of the list; `started_from` inclusive, `started_to` exclusive; `open` True: still on, False:
    ended."""

    product: str | None = None
    region: str | None = None
    ticket_type: str | None = None
    open: bool | None = None
    started_from: datetime | None = None
    started_to: datetime | None = None
    business_lines: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class SpikeCursor:
    """The first hour the job has not folded in yet (None: it has not started, or starts over)."""

    next_hour: datetime | None
    version: int


class ComplaintSpikeRepository(Protocol):
    async def settings(self, *, for_update: bool = False) -> SpikeSettings:
        """The settings in force (the defaults at version 0 until saved)."""
        ...

    async def save_settings(self, settings: SpikeSettings, by: str, at: datetime) -> SpikeSettings: ...
    async def cursor(self, at: datetime) -> SpikeCursor:
        """The job's cursor, created when missing and locked to the end of the transaction: one pass at a time."""
        ...

    async def save_cursor(self, cursor: SpikeCursor, at: datetime) -> None: ...
    async def counts(self, dimension: ProductDimension, start: datetime, until: datetime) -> list[SeriesCount]:
        """Tickets created from `start` (a whole hour) to before `until`, counted per hour and series in one
        statement."""
        ...

    async def series(
        self, dimension: ProductDimension, start: datetime, until: datetime
    ) -> dict[SeriesKey, TrackedSeries]:
        """The stored series of the tickets `counts` counts over the same hours, and every series with an open
        spike."""
        ...

    async def save_series(self, series: Sequence[TrackedSeries], at: datetime) -> None: ...
    async def forget_series(self) -> None:
        """Drop every learned state: the watch starts over."""
        ...

    async def add_spike(self, spike: Spike) -> bool:
        """False (nothing written) when the series already has a spike starting that hour."""
        ...

    async def confirm_spike(self, spike_id: UUID, count: int) -> None:
        """The first hour of a spike announced while it was under way is over: its whole count."""
        ...

    async def end_spike(self, spike_id: UUID, at: datetime) -> None: ...
    async def end_open_spikes(self, at: datetime) -> int: ...
    async def list(self, where: SpikeFilter, page: PageRequest) -> Page[Spike]:
        """Newest first (by first hour, then id)."""
        ...
