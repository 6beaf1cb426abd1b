"""Idempotency keys: a POST retried with the same `Idempotency-Key` gets the first answer again instead of
running twice (draft-ietf-httpapi-idempotency-key-header)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
MAX_CALLER_LENGTH = 200
ABANDONED_AFTER = timedelta(minutes=5)
"""A key still 'running' this long after it was taken belongs to a process that died mid-request (no request
runs this long): the next request with the key runs instead of waiting for the key to expire."""

# Answers that tell the client to try again later: keeping them would make the retry they ask for impossible.
RETRY_CODES = frozenset({"concurrent_modification", "rate_limited"})


class KeyStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The answer replayed to a retry: status, the headers that describe the body, and the body itself."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class IdempotentRequest:
    """One caller's use of one key for one request (its fingerprint: method, path, query and body)."""

    caller: str
    key: str
    method: str
    path: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    request: IdempotentRequest
    status: KeyStatus
    response: StoredResponse | None
    created_at: datetime
    expires_at: datetime


def key_problem(value: str) -> str | None:
    """Why `value` cannot be an idempotency key, or None when it can: 1–255 printable ASCII characters."""
    if not 1 <= len(value) <= MAX_KEY_LENGTH:
        return f"must be 1 to {MAX_KEY_LENGTH} characters long (it has {len(value)})"
    if not all(" " <= char <= "~" for char in value):
        return "must consist of printable ASCII characters only"
    return None


def caller_scope(subject: str) -> str:
    """The key space of one caller: their subject, or a digest of it when it is too long to store."""
    if len(subject) <= MAX_CALLER_LENGTH:
        return subject
    return "sha256:" + hashlib.sha256(subject.encode()).hexdigest()


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """sha256 (hex) of the request: method, path, query string and the body bytes, each length-prefixed."""
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def worth_keeping(status: int, problem_code: str | None) -> bool:
    """Whether an answer is final and so replayed to retries: 2xx and 4xx, except those that ask for a retry
    (a server error, 429, a concurrent modification); for those the key is freed."""
    return status < 500 and status != 429 and problem_code not in RETRY_CODES


class IdempotencyKeyRepository(Protocol):
    async def claim(self, request: IdempotentRequest, now: datetime, expires_at: datetime) -> bool:
        """Store the key as running unless a live (unexpired) record of it exists; True when this call stored it."""

    async def get(self, caller: str, key: str) -> IdempotencyRecord | None: ...
    async def complete(self, caller: str, key: str, response: StoredResponse) -> None: ...
    async def release(self, caller: str, key: str) -> None:
        """Forget a running key, so that the request may be sent again."""

    async def purge_expired(self, now: datetime) -> int: ...
