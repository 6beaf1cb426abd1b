"""Bearer JWTs (HS256): issued by `aftersales token`, verified on every request."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from cachetools import TLRUCache

from app.domain.errors import Unauthenticated
from app.domain.principal import Principal, Role

ALGORITHM = "HS256"
_ROLE_NAMES = {role.value for role in Role}
_NUMERIC_DATES = ("exp", "iat", "nbf")
VERIFIED_CACHE_SIZE = 10_000


@dataclass(frozen=True, slots=True)
class TokenPolicy:
    secret: str
    issuer: str
    audience: str
    leeway_seconds: int = 30


@dataclass(frozen=True, slots=True)
class _Verified:
    principal: Principal
    valid_until: float  # `exp` plus the leeway, in seconds since 1970


class TokenCodec:
    """Verifying a token costs an HMAC and a JSON parse (about 3% of a small request's CPU, measured); a client
    sends the same token with every request, so each valid one is remembered, until its own expiry, by its exact
    text. Refusals are not remembered: an invalid token costs its sender the full check every time."""

    def __init__(self, policy: TokenPolicy) -> None:
        self._policy = policy
        self._verified: TLRUCache[str, _Verified] = TLRUCache(
            maxsize=VERIFIED_CACHE_SIZE, ttu=lambda _token, verified, _now: verified.valid_until, timer=time.time
        )

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
        verified = self._verified.get(token)
        if verified is None:
            verified = self._verify(token)
            self._verified[token] = verified
        return verified.principal

    def _verify(self, token: str) -> _Verified:
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
        return _Verified(_principal(claims), claims["exp"] + self._policy.leeway_seconds)


def _principal(claims: dict[str, Any]) -> Principal:
    """Every claim is checked for its shape before it is used: a signed token is still client input."""
    subject, roles = claims.get("sub"), claims.get("roles")
    customer_no, business_lines = claims.get("customer_no"), claims.get("business_lines", [])
    if not isinstance(subject, str) or not subject:
        raise _bad_claim("sub", "a non-empty string")
    for name in _NUMERIC_DATES:  # PyJWT takes "exp": "1796165551" as a number; RFC 7519 says NumericDate
        if name in claims and type(claims[name]) not in (int, float):
            raise _bad_claim(name, "a NumericDate (seconds since 1970 as a JSON number)")
    if not _strings(roles) or not roles or not set(roles) <= _ROLE_NAMES:
        raise _bad_claim("roles", f"a non-empty list of known roles ({', '.join(sorted(_ROLE_NAMES))})")
    if customer_no is not None and (not isinstance(customer_no, str) or not customer_no):
        raise _bad_claim("customer_no", "a non-empty string")
    if not _strings(business_lines):
        raise _bad_claim("business_lines", "a list of strings")
    try:
        return Principal(subject, frozenset(Role(r) for r in roles), customer_no, frozenset(business_lines))
    except ValueError as exc:
        raise Unauthenticated(f"The token's claims are inconsistent: {exc}", code="invalid_token") from exc


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _bad_claim(name: str, shape: str) -> Unauthenticated:
    return Unauthenticated(f"The token's {name} claim must be {shape}", code="invalid_token")
