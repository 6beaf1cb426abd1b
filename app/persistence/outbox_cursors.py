"""Where a job that follows the outbox has read it to (survey invitations, churn scoring): one settings row per job,
locked while a pass reads, so that passes of several workers take turns."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.events import OutboxCursor
from app.persistence.settings_store import load_setting, save_setting

_LAST_ID = UUID(int=(1 << 128) - 1)
"""A cursor without an id stands after every event of its instant."""


async def load_cursor(conn: AsyncConnection, key: str) -> OutboxCursor | None:
    """The job's cursor, its row locked to the end of the transaction; None before its first pass."""
    stored = await load_setting(conn, key, for_update=True)
    if stored is None:
        return None
    value, version = stored
    return OutboxCursor(datetime.fromisoformat(value["at"]), UUID(value["id"]) if value["id"] else None, version)


async def save_cursor(conn: AsyncConnection, key: str, cursor: OutboxCursor, at: datetime) -> None:
    value = {"at": cursor.at.isoformat(), "id": str(cursor.id) if cursor.id else None}
    await save_setting(conn, key, value, cursor.version, "system", at)


def after_parameters(after: OutboxCursor, until: datetime, types: Sequence[str], limit: int) -> dict[str, Any]:
    """The bind parameters of a read of events of `types` after the cursor and at or before `until`."""
    return {
        "types": list(types),
        "after_at": after.at,
        "after_id": after.id or _LAST_ID,
        "until": until,
        "limit": limit,
    }
