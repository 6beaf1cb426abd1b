"""The auto-close settings document and the claim of the tickets due to be completed."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from uuid import UUID

from sqlalchemy import bindparam, exists, literal_column, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.tasks import UNFINISHED_STATUSES
from app.domain.ticket_auto_close import AWAITING, AutoCloseRules
from app.domain.tickets import TicketType
from app.persistence.lookups import equals_any
from app.persistence.settings_store import load_setting, save_setting
from app.persistence.tables import tasks, tickets

KEY = "ticket_auto_close"

_DUE = (
    select(tickets.c.id)
    .where(
        # A literal, not a parameter: only a constant in the statement lets the planner (PostgreSQL's generic plans,
        # SQLite always) match the partial index's `status = 'pending_follow_up'`.
        tickets.c.status == literal_column(f"'{AWAITING}'"),
        tickets.c.type == bindparam("type"),
        tickets.c.resolved_at <= bindparam("resolved_by"),
        ~exists().where(tasks.c.ticket_id == tickets.c.id, equals_any(tasks.c.status, UNFINISHED_STATUSES)),
    )
    .order_by(tickets.c.resolved_at)
    .limit(bindparam("limit"))
    .with_for_update(of=tickets, skip_locked=True)
)
"""Due tickets of one type through ix_tickets_pending_follow_up_type_resolved_at, oldest resolution first. A ticket
with a task still open (a return visit, say) is being worked: it waits, and is left out here rather than claimed
and skipped, so it can never fill a batch and hold back the tickets resolved after it."""


class SqlTicketAutoCloseRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def rules(self, *, for_update: bool = False) -> AutoCloseRules:
        stored = await load_setting(self._conn, KEY, for_update=for_update)
        if stored is None:
            return AutoCloseRules()
        value, version = stored
        return AutoCloseRules(
            enabled=value["enabled"],
            default_days=value["default_days"],
            by_type={TicketType(kind): days for kind, days in value["by_type"].items()},
            version=version,
        )

    async def save_rules(self, rules: AutoCloseRules, by: str, at: datetime) -> AutoCloseRules:
        value = {
            "enabled": rules.enabled,
            "default_days": rules.default_days,
            "by_type": {kind.value: days for kind, days in rules.by_type.items()},
        }
        return replace(rules, version=await save_setting(self._conn, KEY, value, rules.version, by, at))

    async def claim_due(self, kind: TicketType, resolved_by: datetime, limit: int) -> list[UUID]:
        params = {"type": kind.value, "resolved_by": resolved_by, "limit": limit}
        return list((await self._conn.execute(_DUE, params)).scalars())
