"""Complaint spike contract (客诉激增): the settings document and the spikes staff list."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt

from app.domain.complaint_spike_watch import ProductDimension, Spike, SpikeSettings, spike_params
from app.domain.complaint_spikes import BASELINE_FLOOR_MAX, MIN_COUNT_MAX, P_MAX, P_MIN
from app.domain.tickets import TicketType
from app.schemas.common import Input
from app.schemas.tasks import HoursText
from app.workflows.task import PositiveHours, hours_text


def _whole(hours: Decimal) -> int | Decimal:
    """Whole hours as the number the judgement takes; anything else as sent, for it to refuse by name."""
    return int(hours) if hours == hours.to_integral_value() else hours


def _text(hours: int) -> str:
    return hours_text(hours * 100)


class ComplaintSpikeSettingsIn(Input):
    """客诉激增 settings: every field, as the document is replaced whole. The `*_hours` fields are whole hours, written
    as decimal strings like every hours field of this API ("336"). Turning the watch off or on, or changing
    `product_dimension` or `season_hours`, starts it over: open spikes end, learned baselines are dropped, and the
    next pass learns the last `warmup_hours` of tickets before judging again."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "enabled": True,
                    "product_dimension": "sku",
                    "p": 1e-6,
                    "min_count": 5,
                    "half_life_hours": "336",
                    "warmup_hours": "168",
                    "end_after_hours": "3",
                    "baseline_floor": 0.5,
                    "season_hours": "24",
                }
            ]
        }
    )

    enabled: StrictBool = Field(description="Off: no hour is judged and nothing is learned.")
    product_dimension: ProductDimension = Field(
        description="What a series' product is: the ticket's SKU, or its business line (the SKU's product line)."
    )
    p: StrictFloat = Field(
        ge=P_MIN,
        lt=P_MAX,
        allow_inf_nan=False,
        description="The tail probability: an hour is over when Poisson(baseline) exceeds its count with at most "
        "this probability (1e-6: with 10,000 series checked hourly, about one false alarm in four days).",
    )
    min_count: StrictInt = Field(
        ge=1, le=MIN_COUNT_MAX, description="Fewer tickets in an hour are never a spike, whatever the baseline."
    )
    half_life_hours: PositiveHours = Field(
        description="Whole hours, 1–2,160: a past hour's weight in the baseline halves every this long."
    )
    warmup_hours: PositiveHours = Field(
        description="Whole hours, at least one season and at most 8,760: a new series is not judged before."
    )
    end_after_hours: PositiveHours = Field(
        description="Whole hours, 1–168: this many calm hours in a row end a spike; only then can a new one start."
    )
    baseline_floor: StrictFloat = Field(
        gt=0,
        le=BASELINE_FLOOR_MAX,
        allow_inf_nan=False,
        description="A baseline is never taken below this many tickets an hour.",
    )
    season_hours: PositiveHours = Field(
        description='"1" (one baseline), "24" (one per hour of the day) or "168" (per hour of the week).'
    )

    def to_domain(self) -> SpikeSettings:
        params = spike_params(
            p=self.p,
            min_count=self.min_count,
            half_life_hours=_whole(self.half_life_hours),
            warmup_hours=_whole(self.warmup_hours),
            end_after_hours=_whole(self.end_after_hours),
            baseline_floor=self.baseline_floor,
            season_hours=_whole(self.season_hours),
        )
        return SpikeSettings(enabled=self.enabled, product_dimension=self.product_dimension, params=params)


class ComplaintSpikeSettingsOut(BaseModel):
    enabled: bool
    product_dimension: ProductDimension
    p: float
    min_count: int
    half_life_hours: HoursText
    warmup_hours: HoursText
    end_after_hours: HoursText
    baseline_floor: float
    season_hours: HoursText
    version: int

    @classmethod
    def of(cls, settings: SpikeSettings) -> ComplaintSpikeSettingsOut:
        params = settings.params
        return cls(
            enabled=settings.enabled,
            product_dimension=settings.product_dimension,
            p=params.p,
            min_count=params.min_count,
            half_life_hours=_text(params.half_life_hours),
            warmup_hours=_text(params.warmup_hours),
            end_after_hours=_text(params.end_after_hours),
            baseline_floor=params.baseline_floor,
            season_hours=_text(params.season_hours),
            version=settings.version,
        )


class ComplaintSpikeOut(BaseModel):
    """A spike: one series' tickets far above its baseline, from its first over hour until calm hours end it."""

    id: UUID
    product: str = Field(description="The SKU or the business line (the settings' `product_dimension`); '' unknown.")
    region: str = Field(description="The tickets' region; '' unknown.")
    ticket_type: TicketType
    business_line: str | None = Field(description="The business line of its tickets, for the staff scope.")
    started_at: datetime = Field(description="Its first over hour.")
    count: int = Field(description="Tickets in its first hour (so far, while that hour is under way).")
    baseline: float = Field(description="Tickets expected in that hour, as learned before it.")
    bound: int = Field(description="The count that hour had to exceed: the 1 − p quantile of Poisson(baseline).")
    detected_at: datetime = Field(description="When it was announced (`risk.spike_detected`).")
    open: bool = Field(description="Not ended yet.")
    ended_at: datetime | None = Field(description="The end of the calm hour that ended it.")

    @classmethod
    def of(cls, spike: Spike) -> ComplaintSpikeOut:
        return cls(
            id=spike.id,
            product=spike.key.product,
            region=spike.key.region,
            ticket_type=TicketType(spike.key.ticket_type),
            business_line=spike.business_line,
            started_at=spike.started_at,
            count=spike.count,
            baseline=round(spike.baseline, 3),
            bound=spike.bound,
            detected_at=spike.created_at,
            open=spike.is_open,
            ended_at=spike.ended_at,
        )
