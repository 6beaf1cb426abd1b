"""API key contract: the plaintext key appears once, in the creation response."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import ConfigDict, Field

from app.domain.api_keys import ApiKey
from app.domain.principal import Role
from app.schemas.common import Input, Output


class ApiKeyIn(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "erp-sync", "roles": ["integration"]}]})

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$")
    roles: list[Role] = Field(min_length=1, max_length=6)


class ApiKeyOut(Output):
    id: UUID
    key_id: str = Field(description="Public part of the key, shown in listings.")
    name: str
    roles: list[Role]
    created_by: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyOut:
        return cls(
            id=key.id,
            key_id=key.key_id,
            name=key.name,
            roles=sorted(key.roles),
            created_by=key.created_by,
            created_at=key.created_at,
            revoked_at=key.revoked_at,
        )


class ApiKeyCreatedOut(ApiKeyOut):
    key: str = Field(description="The secret key. Shown only in this response; store it now.")
