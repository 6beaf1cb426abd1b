"""Where attachment bytes live (证据附件的存储): a content-addressed blob store, one interface, two backends.

A blob is named by the SHA-256 of its bytes, so the same photo uploaded twice is stored once, and a blob's name
proves its content (`verify` rechecks it). A write streams: the store never holds a whole file in memory, and a
write that is refused midway (too large, cut off) leaves no bytes behind. Metadata (file name, type, owner, scan
status) is the service's, in the database; the store only keeps bytes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from pydantic import SecretStr

if TYPE_CHECKING:
    from app.integrations.storage.local import LocalBlobStore
    from app.integrations.storage.s3 import S3BlobStore

_HEX = frozenset("0123456789abcdef")


class BlobTooLarge(Exception):
    """The stream passed the limit given to `put`; nothing was kept."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} bytes")
        self.limit = limit


class BlobMissing(Exception):
    """No blob of that digest is stored."""


class BlobCorrupt(Exception):
    """The bytes the store holds under a digest do not hash to it (a copy went wrong, or the bytes were altered)."""


def is_digest(value: str) -> bool:
    """A SHA-256 as blobs are named: 64 lowercase hex digits (anything else names no blob, and no path or key)."""
    return len(value) == 64 and _HEX.issuperset(value)


@dataclass(frozen=True, slots=True)
class StoredBlob:
    sha256: str  # lowercase hex
    size: int
    head: bytes  # the first bytes (up to `put`'s head_bytes), for sniffing the real type without reading back


class Metered:
    """What a write has seen so far: its size, held to `limit` (`BlobTooLarge` past it, before the chunk is kept),
    and its first `head_bytes` bytes. Every backend's `put` and `adopt_upload` count through one."""

    def __init__(self, limit: int, head_bytes: int) -> None:
        self.limit, self.head_bytes = limit, head_bytes
        self.size = 0
        self._head = bytearray()

    def take(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise BlobTooLarge(self.limit)
        if len(self._head) < self.head_bytes:
            self._head += chunk[: self.head_bytes - len(self._head)]

    def stored(self, sha256: str) -> StoredBlob:
        return StoredBlob(sha256=sha256, size=self.size, head=bytes(self._head))


@dataclass(frozen=True, slots=True)
class SignedUpload:
    """A direct upload to the store (S3 presigned POST): the caller sends the form fields and the file to `url`."""

    url: str
    fields: dict[str, str]
    key: str
    expires_at: datetime


class BlobStore(Protocol):
    """Content-addressed bytes. Implementations: `LocalBlobStore` (a directory) and `S3BlobStore`."""

    name: str  # "local" or "s3"

    async def put(self, chunks: AsyncIterator[bytes], *, limit: int, head_bytes: int = 8192) -> StoredBlob:
        """Stream `chunks` in, hashing as they come; raise `BlobTooLarge` (keeping nothing) past `limit` bytes.
        Atomic: a reader sees the whole blob or none; the same bytes twice keep one copy."""
        ...

    def read(self, sha256: str, *, chunk_size: int = 65536) -> AsyncIterator[bytes]:
        """The blob's bytes in chunks; `BlobMissing` when it is not stored."""
        ...

    async def exists(self, sha256: str) -> bool: ...

    async def size(self, sha256: str) -> int:
        """`BlobMissing` when it is not stored."""
        ...

    async def delete(self, sha256: str) -> None:
        """Remove the blob; no error when it is already gone."""
        ...

    def digests(self, *, after: str | None = None) -> AsyncIterator[str]:
        """Every stored digest (greater than `after`), in ascending order: a job can resume after the last it did."""
        ...

    async def download_url(
        self, sha256: str, *, filename: str, content_type: str, inline: bool, expires_in: int
    ) -> str | None:
        """A presigned link straight to the store (S3, with the response's type and disposition bound into it), or
        None when the service serves the bytes itself behind its own HMAC-signed link (local)."""
        ...

    async def presign_upload(
        self, *, min_size: int, max_size: int, sha256: str, expires_in: int
    ) -> SignedUpload | None:
        """A direct upload to a staging key, with the size range and checksum bound into the signature; None when
        the backend takes uploads only through the service (local)."""
        ...

    async def adopt_upload(self, key: str, *, limit: int, head_bytes: int = 8192) -> StoredBlob:
        """Hash a staged direct upload, store it under its digest and drop the staging key (`BlobMissing` when
        nothing was uploaded there; `BlobTooLarge`, dropping it, past `limit`)."""
        ...

    async def aclose(self) -> None:
        """Release connections (S3); the store is not used afterwards."""
        ...


Backend = Literal["local", "s3"]


class StorageSettings(Protocol):
    """What `open_blob_store` reads from the service's settings (the `AFTERSALES_STORAGE_*`/`AFTERSALES_S3_*` knobs)."""

    @property
    def storage_backend(self) -> Backend: ...
    @property
    def storage_dir(self) -> Path: ...
    @property
    def s3_endpoint_url(self) -> str | None: ...
    @property
    def s3_bucket(self) -> str | None: ...
    @property
    def s3_region(self) -> str: ...
    @property
    def s3_access_key_id(self) -> str | None: ...
    @property
    def s3_secret_access_key(self) -> SecretStr | None: ...
    @property
    def s3_path_style(self) -> bool: ...
    @property
    def s3_prefix(self) -> str: ...


def open_blob_store(settings: StorageSettings, backend: Backend | None = None) -> LocalBlobStore | S3BlobStore:
    """The configured store, or the one named by `backend` (`attachments move` opens both). Opening connects to
    nothing: an S3 client is made on first use; `ValueError` when S3 is asked for without a bucket."""
    # Imported here: both backends import this module, and aiobotocore is loaded only where S3 is used.
    from app.integrations.storage.local import LocalBlobStore
    from app.integrations.storage.s3 import S3BlobStore

    if (backend or settings.storage_backend) == "local":
        return LocalBlobStore(settings.storage_dir)
    if not settings.s3_bucket:
        raise ValueError("the S3 attachment store needs AFTERSALES_S3_BUCKET")
    secret = settings.s3_secret_access_key
    return S3BlobStore(
        bucket=settings.s3_bucket,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=secret.get_secret_value() if secret else None,
        path_style=settings.s3_path_style,
        prefix=settings.s3_prefix,
    )
