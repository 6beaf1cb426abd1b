"""Auto-close settings contract: how many days a resolved ticket waits for follow-up before the service completes it,
by default and per ticket type."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from app.domain.ticket_auto_close import DEFAULT_DAYS, MAX_DAYS, MIN_DAYS, AutoCloseRules
from app.domain.tickets import TicketType
from app.schemas.common import Input

Days = Annotated[
    StrictInt, Field(ge=MIN_DAYS, le=MAX_DAYS, description="Whole days after the ticket's latest resolution.")
]
TypeDays = Annotated[
    StrictInt | None,
    Field(ge=MIN_DAYS, le=MAX_DAYS, description="Days for this type; null or absent: `default_days`."),
]


class DaysByTypeIn(Input):
    """Days per ticket type (`TicketType`); an unknown type is refused."""

    complaint: TypeDays = None
    repair: TypeDays = None
    installation: TypeDays = None
    consultation: TypeDays = None
    after_sales_request: TypeDays = None
    other: TypeDays = None

    def to_domain(self) -> dict[TicketType, int]:
        return {TicketType(name): days for name, days in self.model_dump().items() if days is not None}


class TicketAutoCloseIn(Input):
    """自动完成: a ticket pending follow-up (已解决) this many days after its latest resolution is completed by the
    service; a follow-up that sends it back to work and a new resolution start the count again."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"enabled": True, "default_days": 7, "by_type": {"complaint": 14, "repair": 3}}]
        }
    )

    enabled: StrictBool = Field(description="Off: the service completes no ticket (the default).")
    default_days: Days = Field(description=f"Days for every type `by_type` does not name (default {DEFAULT_DAYS}).")
    by_type: DaysByTypeIn = Field(default_factory=DaysByTypeIn, description="Days of some ticket types.")

    def to_domain(self) -> AutoCloseRules:
        return AutoCloseRules(enabled=self.enabled, default_days=self.default_days, by_type=self.by_type.to_domain())


class TicketAutoCloseOut(BaseModel):
    enabled: bool
    default_days: int
    by_type: dict[TicketType, int] = Field(description="The types given days of their own, with those days.")
    version: int

    @classmethod
    def of(cls, rules: AutoCloseRules) -> TicketAutoCloseOut:
        return cls(
            enabled=rules.enabled,
            default_days=rules.default_days,
            by_type=dict(sorted(rules.by_type.items())),
            version=rules.version,
        )
