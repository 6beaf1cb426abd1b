"""Idempotency key rows: one per (caller, key), running until the first request's answer is stored."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, bindparam, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert

from app.domain.idempotency import ABANDONED_AFTER, IdempotencyRecord, IdempotentRequest, KeyStatus, StoredResponse
from app.persistence.tables import idempotency_keys

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


def _claim(dialect: Any) -> Insert:
    """Stores the key as running, or takes over its record when that has expired or was abandoned (its request
    died with its process); RETURNING a row only then. Of two concurrent claims, the second waits for the first
    to commit and then finds a live record: it changes nothing and gets no row."""
    c = idempotency_keys.c
    stmt = dialect.insert(idempotency_keys).values(
        caller=bindparam("p_caller"),
        key=bindparam("p_key"),
        method=bindparam("p_method"),
        path=bindparam("p_path"),
        fingerprint=bindparam("p_fingerprint"),
        status=KeyStatus.RUNNING.value,
        created_at=bindparam("p_now", type_=c.created_at.type),
        expires_at=bindparam("p_expires_at", type_=c.expires_at.type),
    )
    taken_over = ("method", "path", "fingerprint", "status", "response_status", "response_headers", "response_body")
    return stmt.on_conflict_do_update(
        index_elements=[c.caller, c.key],
        set_={name: stmt.excluded[name] for name in (*taken_over, "created_at", "expires_at")},
        where=or_(
            c.expires_at <= bindparam("p_now", type_=c.expires_at.type),
            and_(
                c.status == KeyStatus.RUNNING.value,
                c.created_at <= bindparam("p_abandoned_before", type_=c.created_at.type),
            ),
        ),
    ).returning(c.key)


# Built once, so that every request is served from SQLAlchemy's compiled cache. Bind names are not column names
# (`p_…`): SQLAlchemy keeps those for the VALUES and SET clauses.
_CLAIM = {"postgresql": _claim(postgresql), "sqlite": _claim(sqlite)}
_THIS_KEY = and_(idempotency_keys.c.caller == bindparam("p_caller"), idempotency_keys.c.key == bindparam("p_key"))
_RUNNING = idempotency_keys.c.status == KeyStatus.RUNNING.value
_GET = select(idempotency_keys).where(_THIS_KEY)
_COMPLETE = (
    update(idempotency_keys)
    .where(_THIS_KEY, _RUNNING)
    .values(
        status=KeyStatus.DONE.value,
        response_status=bindparam("p_response_status"),
        response_headers=bindparam("p_response_headers", type_=idempotency_keys.c.response_headers.type),
        response_body=bindparam("p_response_body"),
    )
)
_RELEASE = delete(idempotency_keys).where(_THIS_KEY, _RUNNING)
_PURGE = delete(idempotency_keys).where(idempotency_keys.c.expires_at <= bindparam("p_now"))


class SqlIdempotencyKeyRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def claim(self, request: IdempotentRequest, now: datetime, expires_at: datetime) -> bool:
        params = {
            "p_caller": request.caller,
            "p_key": request.key,
            "p_method": request.method,
            "p_path": request.path[:_PATH_LENGTH],
            "p_fingerprint": request.fingerprint,
            "p_now": now,
            "p_expires_at": expires_at,
            "p_abandoned_before": now - ABANDONED_AFTER,
        }
        return (await self._conn.execute(_CLAIM[self._conn.dialect.name], params)).first() is not None

    async def get(self, caller: str, key: str) -> IdempotencyRecord | None:
        row = (await self._conn.execute(_GET, {"p_caller": caller, "p_key": key})).first()
        return _entity(row) if row else None

    async def complete(self, caller: str, key: str, response: StoredResponse) -> None:
        await self._conn.execute(
            _COMPLETE,
            {
                "p_caller": caller,
                "p_key": key,
                "p_response_status": response.status,
                "p_response_headers": response.headers,
                "p_response_body": response.body.decode(),
            },
        )

    async def release(self, caller: str, key: str) -> None:
        await self._conn.execute(_RELEASE, {"p_caller": caller, "p_key": key})

    async def purge_expired(self, now: datetime) -> int:
        result = await self._conn.execute(_PURGE, {"p_now": now})
        return result.rowcount
