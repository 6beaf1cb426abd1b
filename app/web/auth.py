"""Authentication (bearer JWT or API key) and the per-route permission every route must declare."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from app.domain.errors import Forbidden, Unauthenticated
from app.domain.principal import Principal, Role
from app.web.wiring import Services, services

_bearer = HTTPBearer(auto_error=False, description="JWT from your identity provider or `aftersales token`.")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key from `POST /v1/api-keys`.")


async def authenticate(
    svc: Annotated[Services, Depends(services)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    api_key: Annotated[str | None, Security(_api_key)],
) -> Principal:
    if api_key:
        principal = await svc.api_keys.authenticate(api_key)
    elif bearer is not None:
        principal = svc.tokens.verify(bearer.credentials)
    else:
        raise Unauthenticated("Send a bearer token (Authorization: Bearer …) or an API key (X-API-Key)")
    structlog.contextvars.bind_contextvars(subject=principal.subject)
    svc.rate_limiter.check(principal.subject)
    return principal


class Allow:
    """A route's permission: the roles that may call it. Every non-public route depends on exactly one."""

    def __init__(self, *roles: Role) -> None:
        self.roles = frozenset(roles)

    async def __call__(self, request: Request, principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if not principal.has_any(self.roles):
            raise Forbidden(
                f"{request.method} {request.url.path} needs one of the roles: {', '.join(sorted(self.roles))}",
                code="role_not_allowed",
            )
        return principal


ANY_ROLE = tuple(Role)
STAFF = (Role.AGENT, Role.REVIEWER, Role.MANAGER, Role.ADMIN)

Anyone = Annotated[Principal, Depends(Allow(*ANY_ROLE))]
"""Any authenticated caller; services narrow customers to their own records."""
StaffOrIntegration = Annotated[Principal, Depends(Allow(*STAFF, Role.INTEGRATION))]
ReferenceWriter = Annotated[Principal, Depends(Allow(Role.ADMIN, Role.INTEGRATION))]
"""ERP/CRM systems and admins upsert reference data."""
Admin = Annotated[Principal, Depends(Allow(Role.ADMIN))]
PeopleWriter = Annotated[Principal, Depends(Allow(Role.ADMIN, Role.MANAGER, Role.INTEGRATION))]
"""HR systems, admins and managers maintain agents and groups."""
Worker = Annotated[Principal, Depends(Allow(Role.AGENT, Role.MANAGER, Role.ADMIN))]
"""People who work tickets from queues."""
SettingsWriter = Annotated[Principal, Depends(Allow(Role.MANAGER, Role.ADMIN))]
"""Managers and admins change how the service decides (auto-review rules)."""
Staff = Annotated[Principal, Depends(Allow(*STAFF))]
"""Agents, reviewers, managers and admins: their inbox, and internal work (tasks, approvals) customers never see."""
