"""API key use cases: issue (shown once), list, revoke, and authenticate a presented key."""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID

from app.domain.api_keys import ApiKey, IssuedKey, issue_key, split_key
from app.domain.clock import Clock
from app.domain.errors import FieldError, InvalidInput, NotFound, Unauthenticated
from app.domain.ids import new_id
from app.domain.pagination import Page, PageRequest
from app.domain.principal import Principal, Role
from app.domain.unit_of_work import UnitOfWorkFactory


class ApiKeyService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def create(self, created_by: str, name: str, roles: frozenset[Role]) -> IssuedKey:
        if Role.CUSTOMER in roles:
            raise InvalidInput(
                "API keys are for systems; customers sign in with tokens",
                errors=[FieldError("/roles", "'customer' cannot be granted to an API key")],
            )
        issued = issue_key(id=new_id(), name=name, roles=roles, created_by=created_by, now=self._clock.now())
        async with self._uow.write() as uow:
            await uow.api_keys.add(issued.key)
            await uow.commit()
        return issued

    async def list(self, page: PageRequest) -> Page[ApiKey]:
        async with self._uow.read() as uow:
            return await uow.api_keys.list(page)

    async def revoke(self, id: UUID) -> ApiKey:
        """Revoking is idempotent: a revoked key stays revoked at its first revocation time."""
        async with self._uow.write() as uow:
            key = await uow.api_keys.get(id, for_update=True)
            if key is None:
                raise NotFound(f"No API key {id}", code="api_key_not_found")
            if key.revoked_at is None:
                now = self._clock.now()
                await uow.api_keys.revoke(id, now)
                await uow.commit()
                key = replace(key, revoked_at=now)
        return key

    async def authenticate(self, plaintext: str) -> Principal:
        parts = split_key(plaintext)
        if parts is None:
            raise Unauthenticated("The API key is malformed", code="invalid_api_key")
        async with self._uow.read() as uow:
            key = await uow.api_keys.get_by_key_id(parts[0])
        if key is None or not key.matches(parts[1]):
            raise Unauthenticated("The API key is not valid", code="invalid_api_key")
        if key.revoked_at is not None:
            raise Unauthenticated("The API key has been revoked", code="api_key_revoked")
        return Principal(subject=f"api-key:{key.name}", roles=key.roles, api_key_id=key.key_id)
