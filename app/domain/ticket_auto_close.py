"""Auto-close of resolved tickets (自动完成): a ticket left pending follow-up (待回访, "已解决" to the customer) for its
type's number of days since its latest resolution is completed by the service, through the workflow's `complete`.
It completes (已完成) rather than closes (已关闭): the customer may still reopen it within the reopen window."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from app.domain.tickets import TicketType

MIN_DAYS = 1
MAX_DAYS = 365
DEFAULT_DAYS = 7
"""A week, as the reopen window: long enough for the 回访 call, short enough that the pending list stays current."""
AWAITING = "pending_follow_up"
"""The one state the service completes tickets from."""


@dataclass(frozen=True, slots=True)
class AutoCloseRules:
    """Off until a manager turns it on, so that an upgrade does not complete every old resolved ticket at once.
    `by_type` overrides `default_days` for the types it names."""

    enabled: bool = False
    default_days: int = DEFAULT_DAYS
    by_type: Mapping[TicketType, int] = field(default_factory=dict)
    version: int = 0

    def days(self, kind: TicketType) -> int:
        return self.by_type.get(kind, self.default_days)

    def resolved_by(self, kind: TicketType, now: datetime) -> datetime:
        """The latest resolution of a `kind` ticket due at `now`: resolved then or earlier, its days have passed."""
        return now - timedelta(days=self.days(kind))


class TicketAutoCloseRepository(Protocol):
    async def rules(self, *, for_update: bool = False) -> AutoCloseRules:
        """The rules in force (the defaults at version 0 until saved); `for_update` holds them to the end of the
        transaction, so that two edits of one version cannot both pass If-Match."""
        ...

    async def save_rules(self, rules: AutoCloseRules, by: str, at: datetime) -> AutoCloseRules: ...
    async def claim_due(self, kind: TicketType, resolved_by: datetime, limit: int) -> list[UUID]:
        """Up to `limit` tickets of `kind` pending follow-up since `resolved_by` or earlier and holding no task
        neither approved nor cancelled, oldest resolution first, locked to the end of the transaction; rows another
        transaction holds are skipped."""
        ...
