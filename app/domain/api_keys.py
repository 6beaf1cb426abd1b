"""API keys for integrations: random secrets shown once, stored only as a salted hash, revocable."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from app.domain.pagination import Page, PageRequest
from app.domain.principal import Role

KEY_PREFIX = "ak"


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: UUID
    key_id: str
    name: str
    roles: frozenset[Role]
    salt: str
    secret_hash: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None = None

    def matches(self, secret: str) -> bool:
        return hmac.compare_digest(hash_secret(self.salt, secret), self.secret_hash)


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new key and its plaintext, which exists only in this object and the one response."""

    key: ApiKey
    plaintext: str


def hash_secret(salt: str, secret: str) -> str:
    # The secret is 256 random bits, so a fast salted hash is as strong as a slow KDF here
    # and keeps per-request verification in microseconds.
    return hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()


def issue_key(*, id: UUID, name: str, roles: frozenset[Role], created_by: str, now: datetime) -> IssuedKey:
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    key = ApiKey(
        id=id,
        key_id=key_id,
        name=name,
        roles=roles,
        salt=salt,
        secret_hash=hash_secret(salt, secret),
        created_by=created_by,
        created_at=now,
    )
    return IssuedKey(key=key, plaintext=f"{KEY_PREFIX}_{key_id}_{secret}")


def split_key(plaintext: str) -> tuple[str, str] | None:
    """(key_id, secret) of a presented key, or None when it is not shaped like one of ours."""
    prefix, _, rest = plaintext.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != KEY_PREFIX or len(key_id) != 16 or not secret:
        return None
    return key_id, secret


class ApiKeyRepository(Protocol):
    async def get_by_key_id(self, key_id: str) -> ApiKey | None: ...
    async def get(self, id: UUID, *, for_update: bool = False) -> ApiKey | None: ...
    async def add(self, key: ApiKey) -> None: ...
    async def revoke(self, id: UUID, at: datetime) -> None: ...
    async def list(self, page: PageRequest) -> Page[ApiKey]: ...
