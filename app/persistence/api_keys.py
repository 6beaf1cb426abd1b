"""API key rows ↔ ApiKey entities (hash and salt only; the plaintext is never stored)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.api_keys import ApiKey
from app.domain.pagination import Page, PageRequest
from app.domain.principal import Role
from app.persistence.keyset import fetch_page
from app.persistence.lookups import Lookup
from app.persistence.tables import api_keys


def _entity(row: Row[Any]) -> ApiKey:
    return ApiKey(
        id=row.id,
        key_id=row.key_id,
        name=row.name,
        roles=frozenset(Role(r) for r in row.roles),
        salt=row.salt,
        secret_hash=row.secret_hash,
        created_by=row.created_by,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


_BY_ID = Lookup(api_keys, api_keys.c.id)


class SqlApiKeyRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get_by_key_id(self, key_id: str) -> ApiKey | None:
        row = (await self._conn.execute(select(api_keys).where(api_keys.c.key_id == key_id))).first()
        return _entity(row) if row else None

    async def get(self, id: UUID, *, for_update: bool = False) -> ApiKey | None:
        row = await _BY_ID.row(self._conn, id, for_update=for_update)
        return _entity(row) if row else None

    async def add(self, key: ApiKey) -> None:
        await self._conn.execute(
            insert(api_keys).values(
                id=key.id,
                key_id=key.key_id,
                name=key.name,
                roles=sorted(key.roles),
                salt=key.salt,
                secret_hash=key.secret_hash,
                created_by=key.created_by,
                created_at=key.created_at,
            )
        )

    async def revoke(self, id: UUID, at: datetime) -> None:
        await self._conn.execute(update(api_keys).where(api_keys.c.id == id).values(revoked_at=at))

    async def list(self, page: PageRequest) -> Page[ApiKey]:
        rows, next_key = await fetch_page(self._conn, select(api_keys), api_keys.c.id, page)
        return Page([_entity(row) for row in rows], next_key)
