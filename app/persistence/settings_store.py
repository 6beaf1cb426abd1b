"""Settings that callers change at run time (auto-review rules, approval chains): one JSON document per key,
versioned so that If-Match protects concurrent edits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.persistence.lookups import Lookup
from app.persistence.tables import service_settings

_BY_KEY = Lookup(service_settings, service_settings.c.key)


async def load_setting(
    conn: AsyncConnection, key: str, *, for_update: bool = False
) -> tuple[dict[str, Any], int] | None:
    """The stored document and its version, or None when it was never saved (the caller's default applies);
    `for_update` locks the row to the end of the transaction (an edit that checks If-Match first)."""
    row = await _BY_KEY.row(conn, key, for_update=for_update)
    return (row.value, row.version) if row else None


async def save_setting(
    conn: AsyncConnection, key: str, value: dict[str, Any], version: int, by: str, at: datetime
) -> int:
    """Store `value` over `version` (0: never saved) and answer the new version."""
    if version == 0:
        await conn.execute(
            insert(service_settings).values(key=key, value=value, version=1, updated_by=by, updated_at=at)
        )
    else:
        stmt = update(service_settings).where(service_settings.c.key == key)
        await conn.execute(stmt.values(value=value, version=version + 1, updated_by=by, updated_at=at))
    return version + 1
