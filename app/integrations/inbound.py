"""Verifies events other systems send, signed as Standard Webhooks: `webhook-id`, `webhook-timestamp` (whole seconds,
within 5 minutes of now) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of id.timestamp.body>`, several may be
sent space-separated), with one secret per source. Secrets are only ever used to sign; they are never logged or
put in an error.

The reference library's `Webhook.verify` reads the wall clock and raises ValueError or binascii.Error on malformed
signature headers, so the headers are checked here, against the service's clock, and the library only computes the
expected signature: every bad input is a clean 401."""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from standardwebhooks import Webhook

from app.domain.errors import NotFound, SignatureRejected

TOLERANCE = timedelta(minutes=5)
SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of every secret, not a secret
MAX_SIGNATURES = 16
"""Signatures looked at per request (a sender rotating secrets sends two or three)."""

_WEBHOOK_ID = re.compile(r"^[\x21-\x7e]{1,128}$")
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")


def signing_key(secret: str) -> bytes:
    """The key a `whsec_<base64>` (or bare base64) secret stands for; ValueError, naming no part of the secret, when
    it is not one."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    if not _BASE64.fullmatch(encoded):
        raise ValueError("a signing secret is `whsec_` followed by base64")
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("a signing secret is `whsec_` followed by base64") from None
    if not key:
        raise ValueError("a signing secret may not be empty")
    return key


@dataclass(frozen=True, slots=True)
class SignedMessage:
    """A request whose signature matched its source's secret: the body is exactly what the source signed."""

    source: str
    webhook_id: str
    timestamp: datetime
    body: bytes


def _invalid(detail: str) -> SignatureRejected:
    return SignatureRejected(detail, code="invalid_signature")


def source_not_found(source: str) -> NotFound:
    return NotFound(f"No inbound source '{source}'", code="inbound_source_not_found")


class InboundVerifier:
    def __init__(
        self, secrets: Mapping[str, str], now: Callable[[], datetime], *, tolerance: timedelta = TOLERANCE
    ) -> None:
        self._signers = {source: Webhook(signing_key(secret)) for source, secret in secrets.items()}
        self._now = now
        self._tolerance = tolerance

    @property
    def sources(self) -> frozenset[str]:
        return frozenset(self._signers)

    def verify(
        self,
        source: str,
        body: bytes,
        *,
        webhook_id: str | None,
        timestamp: str | None,
        signature: str | None,
    ) -> SignedMessage:
        """The message, or 404 for a source without a secret, 401 `stale_timestamp` for a timestamp out of the
        tolerance and 401 `invalid_signature` for anything else wrong with the headers or the signature."""
        signer = self._signers.get(source)
        if signer is None:
            raise source_not_found(source)
        if not (webhook_id and timestamp and signature):
            raise _invalid("Sign the request: send webhook-id, webhook-timestamp and webhook-signature")
        if not _WEBHOOK_ID.fullmatch(webhook_id):
            raise _invalid("webhook-id must be 1 to 128 visible ASCII characters")
        if not _TIMESTAMP.fullmatch(timestamp):
            raise _invalid("webhook-timestamp must be whole seconds since 1970-01-01T00:00:00Z")
        now = self._now()
        sent = int(timestamp)
        if abs(now.timestamp() - sent) > self._tolerance.total_seconds():
            raise SignatureRejected(
                f"webhook-timestamp is more than {int(self._tolerance.total_seconds() // 60)} minutes from now "
                f"({now.isoformat()}): a replayed or delayed request, or the sender's clock is off",
                code="stale_timestamp",
            )
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise _invalid("The body is not UTF-8 text, so no signature can match it") from None
        sent_at = datetime.fromtimestamp(sent, UTC)
        expected = base64.b64decode(signer.sign(webhook_id, sent_at, text).partition(",")[2])
        if not any(hmac.compare_digest(expected, candidate) for candidate in _signatures(signature)):
            raise _invalid("No webhook-signature matches this body with the source's secret")
        return SignedMessage(source, webhook_id, sent_at, body)


def _signatures(header: str) -> list[bytes]:
    """The `v1` signatures of the header; other versions and malformed entries are skipped, never an error."""
    found = []
    for entry in header.split()[:MAX_SIGNATURES]:
        version, _, encoded = entry.partition(",")
        if version != "v1" or not _BASE64.fullmatch(encoded):
            continue
        try:
            found.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    return found
