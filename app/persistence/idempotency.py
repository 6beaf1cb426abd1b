"""Idempotency key rows: one per (caller, key), running until the first request's answer is stored."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.idempotency import ABANDONED_AFTER, IdempotencyRecord, IdempotentRequest, KeyStatus, StoredResponse
from app.persistence.tables import idempotency_keys
from app.persistence.upserts import insert_or_ignore

_PATH_LENGTH = idempotency_keys.c.path.type.length  # the path is informative; the fingerprint covers all of it


def _entity(row: Row[Any]) -> IdempotencyRecord:
    response = None
    if row.status == KeyStatus.DONE:
        response = StoredResponse(
            status=row.response_status, headers=dict(row.response_headers or {}), body=row.response_body.encode()
        )
    return IdempotencyRecord(
        request=IdempotentRequest(
            caller=row.caller, key=row.key, method=row.method, path=row.path, fingerprint=row.fingerprint
        ),
        status=KeyStatus(row.status),
        response=response,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


class SqlIdempotencyKeyRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    def _where(self, caller: str, key: str) -> list[Any]:
        return [idempotency_keys.c.caller == caller, idempotency_keys.c.key == key]

    async def claim(self, request: IdempotentRequest, now: datetime, expires_at: datetime) -> bool:
        # An expired or abandoned record counts as absent. Of two concurrent claims, INSERT … ON CONFLICT DO NOTHING
        # lets exactly one store the row: the other waits for the first to commit, finds the conflict, stores nothing.
        c = idempotency_keys.c
        abandoned = and_(c.status == KeyStatus.RUNNING.value, c.created_at <= now - ABANDONED_AFTER)
        await self._conn.execute(
            delete(idempotency_keys).where(
                *self._where(request.caller, request.key), or_(c.expires_at <= now, abandoned)
            )
        )
        stmt = (
            insert_or_ignore(self._conn, idempotency_keys, "caller", "key")
            .values(
                caller=request.caller,
                key=request.key,
                method=request.method,
                path=request.path[:_PATH_LENGTH],
                fingerprint=request.fingerprint,
                status=KeyStatus.RUNNING.value,
                created_at=now,
                expires_at=expires_at,
            )
            .returning(idempotency_keys.c.key)
        )
        return (await self._conn.execute(stmt)).first() is not None

    async def get(self, caller: str, key: str) -> IdempotencyRecord | None:
        row = (await self._conn.execute(select(idempotency_keys).where(*self._where(caller, key)))).first()
        return _entity(row) if row else None

    async def complete(self, caller: str, key: str, response: StoredResponse) -> None:
        await self._conn.execute(
            update(idempotency_keys)
            .where(*self._where(caller, key), idempotency_keys.c.status == KeyStatus.RUNNING.value)
            .values(
                status=KeyStatus.DONE.value,
                response_status=response.status,
                response_headers=response.headers,
                response_body=response.body.decode(),
            )
        )

    async def release(self, caller: str, key: str) -> None:
        await self._conn.execute(
            delete(idempotency_keys).where(
                *self._where(caller, key), idempotency_keys.c.status == KeyStatus.RUNNING.value
            )
        )

    async def purge_expired(self, now: datetime) -> int:
        result = await self._conn.execute(delete(idempotency_keys).where(idempotency_keys.c.expires_at <= now))
        return result.rowcount
