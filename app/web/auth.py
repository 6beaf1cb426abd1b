"""Authentication (bearer JWT or API key) and the per-route permission every route must declare."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import Depends, Header, Path, Request
from fastapi.security.utils import get_authorization_scheme_param
from starlette.types import Scope

from app.domain.errors import Forbidden, Unauthenticated
from app.domain.principal import CASE_HANDLERS, MANAGERS, STAFF_ROLES, Principal, Role
from app.domain.surveys import token_digest
from app.integrations.inbound import SignedMessage
from app.web.query_params import refuse_unusable_parameters
from app.web.wiring import Services, services_of

_IDENTITY = "aftersales.identity"
SECURITY_SCHEMES = {
    "HTTPBearer": {
        "type": "http",
        "description": "JWT from your identity provider or `aftersales token`.",
        "scheme": "bearer",
    },
    "APIKeyHeader": {
        "type": "apiKey",
        "description": "API key from `POST /v1/api-keys`.",
        "in": "header",
        "name": "X-API-Key",
    },
}
"""How a caller authenticates, as the OpenAPI document declares it for every operation with an `Allow`."""


async def authenticate(request: Request, bearer: str | None, api_key: str | None) -> Principal:
    """The caller of this request, and one unit of their rate budget spent. A middleware that authenticated them
    already (idempotency keys are per caller) left its outcome in the scope: it is taken, not repeated."""
    svc = services_of(request)
    principal = identified(request.scope)
    if principal is None:
        principal = await identify(svc, bearer, api_key)
        structlog.contextvars.bind_contextvars(subject=principal.subject)
    svc.rate_limiter.check(principal.subject)
    return principal


def remember_identity(scope: Scope, outcome: Principal | Unauthenticated) -> None:
    """Keeps who a middleware found the caller to be (or why not), so that the route does not authenticate again:
    an API key costs a database read and a hash. The subject is bound to the log lines from here on."""
    scope["state"] = {**scope.get("state", {}), _IDENTITY: outcome}
    if isinstance(outcome, Principal):
        structlog.contextvars.bind_contextvars(subject=outcome.subject)


def identified(scope: Scope) -> Principal | None:
    """The caller a middleware already authenticated, None when none tried; their refusal is raised again."""
    outcome = scope.get("state", {}).get(_IDENTITY)
    if isinstance(outcome, Unauthenticated):
        raise outcome
    return outcome


async def identify(svc: Services, bearer_token: str | None, api_key: str | None) -> Principal:
    """The caller the credentials name (an API key wins over a bearer token); Unauthenticated otherwise."""
    if api_key:
        return await svc.api_keys.authenticate(api_key)
    if bearer_token is not None:
        return svc.tokens.verify(bearer_token)
    raise Unauthenticated("Send a bearer token (Authorization: Bearer …) or an API key (X-API-Key)")


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, read as the bearer scheme above reads it."""
    scheme, token = get_authorization_scheme_param(authorization)
    return token if authorization and scheme.lower() == "bearer" and token else None


class Allow:
    """A route's permission: the roles that may call it. Every non-public route depends on exactly one."""

    def __init__(self, *roles: Role) -> None:
        self.roles = frozenset(roles)

    async def __call__(self, request: Request) -> Principal:
        # Reads the credentials itself rather than through FastAPI's security dependencies: each dependency FastAPI
        # solves costs every request, and a route has exactly one permission. The OpenAPI document declares the
        # schemes from SECURITY_SCHEMES for every route with an `Allow` (openapi_document).
        headers = request.headers
        principal = await authenticate(request, bearer_token(headers.get("authorization")), headers.get("x-api-key"))
        if not principal.has_any(self.roles):
            raise Forbidden(
                f"{request.method} {request.url.path} needs one of the roles: {', '.join(sorted(self.roles))}",
                code="role_not_allowed",
            )
        refuse_unusable_parameters(request)
        return principal


ANY_ROLE = tuple(Role)

Anyone = Annotated[Principal, Depends(Allow(*ANY_ROLE))]
"""Any authenticated caller; services narrow customers to their own records."""
StaffOrIntegration = Annotated[Principal, Depends(Allow(*STAFF_ROLES, Role.INTEGRATION))]
ReferenceWriter = Annotated[Principal, Depends(Allow(Role.ADMIN, Role.INTEGRATION))]
"""ERP/CRM systems and admins upsert reference data."""
Admin = Annotated[Principal, Depends(Allow(Role.ADMIN))]
PeopleWriter = Annotated[Principal, Depends(Allow(Role.ADMIN, Role.MANAGER, Role.INTEGRATION))]
"""HR systems, admins and managers maintain agents and groups."""
Worker = Annotated[Principal, Depends(Allow(*CASE_HANDLERS))]
"""People who work tickets from queues."""
SettingsWriter = Annotated[Principal, Depends(Allow(*MANAGERS))]
"""Managers and admins change how the service decides (auto-review rules)."""
ReportReader = Annotated[Principal, Depends(Allow(*MANAGERS))]
"""Managers and admins read the reports and rebuild their rollups."""
Staff = Annotated[Principal, Depends(Allow(*STAFF_ROLES))]
"""Agents, reviewers, managers and admins: their inbox, and internal work (tasks, approvals) customers never see."""
Person = Annotated[Principal, Depends(Allow(Role.CUSTOMER, *STAFF_ROLES))]
"""A customer or a member of staff speaking for themselves (votes are a person's, not a system's)."""
Integrator = Annotated[Principal, Depends(Allow(Role.ADMIN, Role.INTEGRATION))]
"""Admins and integrations manage how events reach other systems (webhook endpoints)."""


class Signed:
    """The permission of a route other systems call with a signed body instead of credentials: Standard Webhooks
    headers, verified with the secret configured for the path's `{source}` (AFTERSALES_INBOUND_SECRETS). The route
    audit counts it as a declaration, as it counts `Allow`; the signature is the caller's authentication."""

    async def __call__(
        self,
        request: Request,
        source: Annotated[str, Path(description="The sending system: payment_centre, wms, erp or crm.")],
        webhook_id: Annotated[str | None, Header(description="The event's id; a redelivery carries the same.")] = None,
        webhook_timestamp: Annotated[
            str | None, Header(description="When it was signed: whole seconds since 1970, within 5 minutes of now.")
        ] = None,
        webhook_signature: Annotated[
            str | None,
            Header(description="`v1,<base64 HMAC-SHA256 of id.timestamp.body>`; several separated by spaces."),
        ] = None,
    ) -> SignedMessage:
        refuse_unusable_parameters(request)
        svc = services_of(request)
        message = svc.inbound_verifier.verify(
            source,
            await request.body(),
            webhook_id=webhook_id,
            timestamp=webhook_timestamp,
            signature=webhook_signature,
        )
        structlog.contextvars.bind_contextvars(subject=f"inbound:{source}", webhook_id=message.webhook_id)
        svc.rate_limiter.check(f"inbound:{source}")
        return message


SignedBySource = Annotated[SignedMessage, Depends(Signed())]
"""A body signed by the system named in the path (payment centre, WMS, ERP, CRM)."""


class PublicLink:
    """The permission of a public survey link's routes: no login, the random single-use token in the path is the
    caller's authorization (the service looks it up by its digest). Each request spends the budget of its token and
    of its client address (429 beyond); `answers` routes refuse a request carrying credentials, so that no member of
    staff or integration answers in a customer's name. The route audit counts it as a declaration."""

    def __init__(self, *, answers: bool) -> None:
        self.answers = answers

    async def __call__(
        self,
        request: Request,
        token: Annotated[str, Path(description="The survey link's token, as the invitation carried it.")],
    ) -> str:
        svc = services_of(request)
        address = request.client.host if request.client else "unknown"
        svc.survey_link_limits.check(token_digest(token), address)
        headers = request.headers
        if self.answers and ("authorization" in headers or "x-api-key" in headers):
            raise Forbidden(
                "A survey is answered by the customer through its link alone: send the answer without "
                "Authorization or X-API-Key",
                code="survey_staff_credentials",
            )
        refuse_unusable_parameters(request)
        return token


SurveyReader = Annotated[str, Depends(PublicLink(answers=False))]
"""Anyone holding the link reads its survey (the token is the path's `{token}`)."""
SurveyAnswerer = Annotated[str, Depends(PublicLink(answers=True))]
"""The customer holding the link answers it, without credentials."""


class SignedDownload:
    """The permission of an attachment's download route: no login, the link's HMAC signature over the attachment and
    the link's expiry is the caller's authorization (the service checks it in constant time, then the expiry). The
    route audit counts it as a declaration."""

    async def __call__(self, request: Request) -> None:
        refuse_unusable_parameters(request)


LinkHolder = Annotated[None, Depends(SignedDownload())]
"""Anyone holding a signed link downloads the file it names, until the link expires."""
