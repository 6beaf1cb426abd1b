"""Direct uploads (大文件直传): a large file goes straight to the object store by a presigned upload whose signature
binds its size and SHA-256, and is then confirmed to the service, which judges it as it judges a streamed upload.

What the caller asked for (the staging key, the file's name, size and digest, its purpose and owner, who asked) is
carried by a grant the service signs, not stored: confirming it with the same caller is the only way to turn the
staged object into an attachment, and the store drops the staging key when it adopts it, so a grant works once."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from datetime import datetime

from app.domain.attachments import Purpose
from app.domain.errors import Forbidden


@dataclass(frozen=True, slots=True)
class UploadGrant:
    key: str
    file_name: str
    size: int
    sha256: str
    purpose: Purpose
    customer_no: str | None
    subject: str
    expires: int  # seconds since 1970


def grant_key(secret: bytes) -> bytes:
    """Derived apart from the download links' key: a grant's signature can never stand for a link's."""
    return hmac.new(secret, b"aftersales attachment direct upload grants v1", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_grant(key: bytes, grant: UploadGrant) -> str:
    body = _b64(json.dumps(asdict(grant), ensure_ascii=False, separators=(",", ":")).encode())
    return f"{body}.{_b64(hmac.new(key, body.encode(), hashlib.sha256).digest())}"


def read_grant(key: bytes, token: str, subject: str, now: datetime) -> UploadGrant:
    """The grant a token carries, for the caller it was given to, while it lasts; 403 otherwise (the signature is
    compared in constant time before anything in the token is read)."""
    body, _, signature = token.partition(".")
    expected = _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise Forbidden(
            "The upload token's signature does not hold: send it as it was given", code="upload_token_invalid"
        )
    fields = json.loads(_unb64(body))
    grant = UploadGrant(**{**fields, "purpose": Purpose(fields["purpose"])})
    if grant.subject != subject:
        raise Forbidden("The upload token was given to another caller", code="upload_token_invalid")
    if now.timestamp() >= grant.expires:
        raise Forbidden("The upload token has expired; ask for a new direct upload", code="upload_token_expired")
    return grant
