"""Idempotency keys: claim a key before a request runs, keep its answer afterwards, replay it to retries."""

from __future__ import annotations

from datetime import timedelta

from app.domain.clock import Clock
from app.domain.errors import Conflict, FieldError, InvalidInput
from app.domain.idempotency import HEADER, IdempotentRequest, KeyStatus, StoredResponse, worth_keeping
from app.domain.unit_of_work import UnitOfWorkFactory


class IdempotencyService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, ttl: timedelta) -> None:
        self._uow = uow
        self._clock = clock
        self._ttl = ttl

    async def begin(self, request: IdempotentRequest) -> StoredResponse | None:
        """None when the key is now held for this request (committed): run it, then `finish` it. Otherwise the
        stored answer of the first request with this key, to be replayed. Conflict while the first request still
        runs; InvalidInput when the key was used for a different request.

        One short write: the claim takes over an expired or abandoned record itself, and a live record it loses to
        stays locked (PostgreSQL) or alone (SQLite's single writer) until it has been read here."""
        now = self._clock.now()
        async with self._uow.write() as uow:
            if await uow.idempotency_keys.claim(request, now, now + self._ttl):
                await uow.commit()
                return None
            record = await uow.idempotency_keys.get(request.caller, request.key)
        if record is not None and record.request.fingerprint != request.fingerprint:
            raise InvalidInput(
                f"This {HEADER} was used for a different request ({record.request.method} {record.request.path}"
                " or another body); send a new key for a new request",
                code="idempotency_key_reused",
                errors=[FieldError(HEADER, "already used for a different request", location="header")],
            )
        if record is not None and record.status is KeyStatus.DONE and record.response is not None:
            return record.response
        raise Conflict(
            f"A request with this {HEADER} is still being processed; retry after it has finished",
            code="idempotency_key_in_flight",
        )

    async def finish(self, request: IdempotentRequest, response: StoredResponse, problem_code: str | None) -> bool:
        """Keep a final answer for replay, or free the key when the answer asks for a retry (5xx, 429, a concurrent
        modification); True when it was kept."""
        keep = worth_keeping(response.status, problem_code) and _is_text(response.body)
        async with self._uow.write() as uow:
            if keep:
                await uow.idempotency_keys.complete(request.caller, request.key, response)
            else:
                await uow.idempotency_keys.release(request.caller, request.key)
            await uow.commit()
        return keep

    async def release(self, request: IdempotentRequest) -> None:
        """Free the key of a request that failed before it answered, so that it may be sent again."""
        async with self._uow.write() as uow:
            await uow.idempotency_keys.release(request.caller, request.key)
            await uow.commit()

    async def purge_expired(self) -> int:
        """Delete the records whose time is up (a periodic job); answers how many."""
        async with self._uow.write() as uow:
            purged = await uow.idempotency_keys.purge_expired(self._clock.now())
            await uow.commit()
        return purged


def _is_text(body: bytes) -> bool:
    """Answers are stored as text; every answer of this API is JSON, so this holds for all of them."""
    try:
        body.decode()
    except UnicodeDecodeError:
        return False
    return True
