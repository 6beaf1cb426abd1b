"""Bearer JWTs (HS256): issued by `aftersales token`, verified on every request."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from app.domain.errors import Unauthenticated
from app.domain.principal import Principal, Role

ALGORITHM = "HS256"
_ROLE_NAMES = {role.value for role in Role}


@dataclass(frozen=True, slots=True)
class TokenPolicy:
    secret: str
    issuer: str
    audience: str
    leeway_seconds: int = 30


class TokenCodec:
    def __init__(self, policy: TokenPolicy) -> None:
        self._policy = policy

    def issue(
        self,
        *,
        subject: str,
        roles: Iterable[Role],
        now: datetime,
        ttl: timedelta,
        customer_no: str | None = None,
        business_lines: Iterable[str] = (),
    ) -> str:
        principal = Principal(subject, frozenset(roles), customer_no, frozenset(business_lines))
        claims: dict[str, Any] = {
            "sub": principal.subject,
            "roles": sorted(principal.roles),
            "business_lines": sorted(principal.business_lines),
            "iss": self._policy.issuer,
            "aud": self._policy.audience,
            "iat": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
        }
        if customer_no is not None:
            claims["customer_no"] = customer_no
        return jwt.encode(claims, self._policy.secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> Principal:
        """The principal a valid token names; Unauthenticated (never the token itself) otherwise."""
        try:
            claims = jwt.decode(
                token,
                self._policy.secret,
                algorithms=[ALGORITHM],
                audience=self._policy.audience,
                issuer=self._policy.issuer,
                leeway=self._policy.leeway_seconds,
                options={"require": ["sub", "exp", "roles"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("The bearer token has expired", code="token_expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"The bearer token is not valid: {exc}", code="invalid_token") from exc
        return _principal(claims)


def _principal(claims: dict[str, Any]) -> Principal:
    roles, business_lines = claims.get("roles"), claims.get("business_lines", [])
    if not isinstance(roles, list) or not roles or not set(roles) <= _ROLE_NAMES:
        raise Unauthenticated("The token's roles claim must list known roles", code="invalid_token")
    if not isinstance(business_lines, list) or not all(isinstance(b, str) for b in business_lines):
        raise Unauthenticated("The token's business_lines claim must be a list of strings", code="invalid_token")
    subject, customer_no = claims["sub"], claims.get("customer_no")
    if not isinstance(subject, str) or not subject or (customer_no is not None and not isinstance(customer_no, str)):
        raise Unauthenticated("The token's sub and customer_no claims must be strings", code="invalid_token")
    try:
        return Principal(subject, frozenset(Role(r) for r in roles), customer_no, frozenset(business_lines))
    except ValueError as exc:
        raise Unauthenticated(f"The token's claims are inconsistent: {exc}", code="invalid_token") from exc
