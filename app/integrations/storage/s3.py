"""Attachment bytes in S3-compatible object storage (AWS S3, MinIO, Ceph RGW, OSS/COS in S3 mode, …).

Keys under the configured prefix: `blobs/<sha256>` holds a blob, `staging/<uuid>` a streamed write in progress,
`uploads/<uuid>` a direct (presigned POST) upload waiting to be adopted. A write smaller than one part is a single
PutObject straight to its content key, its SHA-256 bound into the request. A larger one is a multipart upload to a
staging key, one part buffered at a time; once the digest is known the staging object is copied to its content key
with the store asked to compute the copy's SHA-256, which must equal ours, and the staging key is dropped. A write
that fails or is cancelled aborts its upload, so no part is left billed in the bucket. Objects are copied in one
request, which S3 allows up to 5 GiB: the store keeps blobs up to that size.

Recommended bucket lifecycle rules: abort incomplete multipart uploads after a day, and expire `uploads/` and
`staging/` after a day (a process killed mid-write, or a direct upload never confirmed, leaves them there)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import anyio
import anyio.to_thread
from aiobotocore.session import AioSession, get_session
from botocore.config import Config
from botocore.exceptions import ClientError

from app.integrations.storage import (
    BlobCorrupt,
    BlobMissing,
    BlobTooLarge,
    Metered,
    SignedUpload,
    StoredBlob,
    is_digest,
)
from app.integrations.storage.disposition import content_disposition

READ_TIMEOUT_SECONDS = 600
PART_SIZE = 8 << 20  # S3 wants parts of at least 5 MiB; one is buffered at a time
MAX_BLOB = 5 << 30  # the largest object one CopyObject request may copy
_MISSING = {"404", "NoSuchKey", "NotFound"}


class S3BlobStore:
    """Blobs as objects in one bucket; downloads and direct uploads go straight to the store by presigned requests."""

    name = "s3"

    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        path_style: bool = False,
        prefix: str = "",
    ) -> None:
        """Without keys the client looks for credentials the usual way (environment, profile, instance role)."""
        self.bucket = bucket
        self.prefix = prefix
        self._client_args: dict[str, Any] = {
            "endpoint_url": endpoint_url,
            "region_name": region,
            "aws_access_key_id": access_key_id,
            "aws_secret_access_key": secret_access_key,
            "config": Config(
                signature_version="s3v4",
                s3={"addressing_style": "path" if path_style else "auto"},
                # Checksums only where we ask for them: the SDK's default trailing CRCs are refused by many
                # S3-compatible servers, and our own SHA-256 is checked end to end anyway.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                retries={"mode": "standard", "max_attempts": 3},
                max_pool_connections=64,
                # Completing a multipart upload and copying a large object to its content key answer only when
                # done: a self-hosted server can take minutes for gigabytes, past botocore's 60 s default.
                read_timeout=READ_TIMEOUT_SECONDS,
            ),
        }
        self._upload_key = re.compile(
            rf"{re.escape(prefix)}uploads/[0-9a-f]{{8}}-[0-9a-f]{{4}}-4[0-9a-f]{{3}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}"
        )
        self._exits = AsyncExitStack()
        self._client: Any = None
        self._opening = asyncio.Lock()

    async def _s3(self) -> Any:
        """The client, opened on first use inside the running event loop (its connection pool belongs to one)."""
        if self._client is None:
            async with self._opening:
                if self._client is None:
                    self._client = await self._exits.enter_async_context(
                        _session().create_client("s3", **self._client_args)
                    )
        return self._client

    async def aclose(self) -> None:
        await self._exits.aclose()
        self._client = None

    def key(self, sha256: str) -> str:
        return f"{self.prefix}blobs/{sha256}"

    async def put(self, chunks: AsyncIterator[bytes], *, limit: int, head_bytes: int = 8192) -> StoredBlob:
        limit = min(limit, MAX_BLOB)
        s3 = await self._s3()
        digest = hashlib.sha256()
        metered = Metered(limit, head_bytes)
        # The part being gathered, sent as a file: the HTTP client then writes it in small pieces instead of copying
        # it whole into its socket buffer.
        part = io.BytesIO()
        upload: _MultipartUpload | None = None
        try:
            async for chunk in chunks:
                metered.take(chunk)
                part.write(chunk)
                if part.tell() >= PART_SIZE:
                    upload = upload or await _MultipartUpload.start(
                        s3, self.bucket, f"{self.prefix}staging/{uuid.uuid4()}"
                    )
                    await _hash(digest, part)
                    await upload.send(part)
                    part = io.BytesIO()
            await _hash(digest, part)
            sha256 = digest.hexdigest()
            if upload is None:
                if not await self.exists(sha256):
                    part.seek(0)
                    await s3.put_object(
                        Bucket=self.bucket,
                        Key=self.key(sha256),
                        Body=part,
                        ChecksumSHA256=_b64(digest.digest()),
                    )
            else:
                if part.tell():
                    await upload.send(part)
                await upload.complete()
                await self._promote(upload.key, sha256, metered.size)
        except BaseException:
            if upload is not None:
                with anyio.CancelScope(shield=True):
                    await upload.discard()
            raise
        return metered.stored(sha256)

    async def _promote(self, staging_key: str, sha256: str, size: int) -> None:
        """Store a staged object under its digest, checked by the store's own SHA-256 of the copy, and drop the
        staging key. An object already there is kept: it holds the same bytes."""
        s3 = await self._s3()
        try:
            if await self.exists(sha256):
                return
            copied = await s3.copy_object(
                Bucket=self.bucket,
                Key=self.key(sha256),
                CopySource={"Bucket": self.bucket, "Key": staging_key},
                ChecksumAlgorithm="SHA256",
            )
            computed = copied.get("CopyObjectResult", {}).get("ChecksumSHA256")
            # A server that computes no checksum on copy is trusted for the bytes it copied inside itself; the
            # size is checked all the same.
            if (computed is not None and computed != _b64(bytes.fromhex(sha256))) or await self.size(sha256) != size:
                await s3.delete_object(Bucket=self.bucket, Key=self.key(sha256))
                raise BlobCorrupt(sha256)
        finally:
            with anyio.CancelScope(shield=True):
                await s3.delete_object(Bucket=self.bucket, Key=staging_key)

    async def read(self, sha256: str, *, chunk_size: int = 65536) -> AsyncIterator[bytes]:
        """An async generator: `BlobMissing` comes from the first step."""
        if not is_digest(sha256):
            raise BlobMissing(sha256)
        s3 = await self._s3()
        try:
            response = await s3.get_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as exc:
            raise _missing_or(exc, sha256) from None
        async with response["Body"] as body:
            async for chunk in body.iter_chunks(chunk_size):
                yield chunk

    async def exists(self, sha256: str) -> bool:
        try:
            await self.size(sha256)
        except BlobMissing:
            return False
        return True

    async def size(self, sha256: str) -> int:
        if not is_digest(sha256):
            raise BlobMissing(sha256)
        return await self._size_of(self.key(sha256), sha256)

    async def _size_of(self, key: str, name: str) -> int:
        s3 = await self._s3()
        try:
            return int((await s3.head_object(Bucket=self.bucket, Key=key))["ContentLength"])
        except ClientError as exc:
            raise _missing_or(exc, name) from None

    async def delete(self, sha256: str) -> None:
        if is_digest(sha256):
            await (await self._s3()).delete_object(Bucket=self.bucket, Key=self.key(sha256))

    async def digests(self, *, after: str | None = None) -> AsyncIterator[str]:
        """S3 lists keys in ascending byte order, which for hex digests is ascending order."""
        prefix = f"{self.prefix}blobs/"
        pages = (
            (await self._s3())
            .get_paginator("list_objects_v2")
            .paginate(Bucket=self.bucket, Prefix=prefix, StartAfter=prefix + (after or ""))
        )
        async for page in pages:
            for item in page.get("Contents", ()):
                name = item["Key"][len(prefix) :]
                if is_digest(name):
                    yield name

    async def download_url(
        self, sha256: str, *, filename: str, content_type: str, inline: bool, expires_in: int
    ) -> str | None:
        if not is_digest(sha256):
            raise BlobMissing(sha256)
        return await (await self._s3()).generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": self.key(sha256),
                "ResponseContentDisposition": content_disposition(filename, inline=inline),
                "ResponseContentType": content_type,
            },
            ExpiresIn=expires_in,
        )

    async def presign_upload(
        self, *, min_size: int, max_size: int, sha256: str, expires_in: int
    ) -> SignedUpload | None:
        """A presigned POST: the store refuses a file outside [min_size, max_size] or with another SHA-256 (where
        it enforces POST policies; `adopt_upload` checks size and hash again either way)."""
        if not is_digest(sha256):
            raise ValueError("sha256 must be 64 lowercase hex digits")
        key = f"{self.prefix}uploads/{uuid.uuid4()}"
        checksum = {"x-amz-checksum-algorithm": "SHA256", "x-amz-checksum-sha256": _b64(bytes.fromhex(sha256))}
        signed = await (await self._s3()).generate_presigned_post(
            self.bucket,
            key,
            Fields=checksum,
            Conditions=[["content-length-range", min_size, max_size], *({k: v} for k, v in checksum.items())],
            ExpiresIn=expires_in,
        )
        return SignedUpload(
            url=signed["url"],
            fields=signed["fields"],
            key=key,
            expires_at=datetime.now(UTC) + timedelta(seconds=expires_in),
        )

    async def adopt_upload(self, key: str, *, limit: int, head_bytes: int = 8192) -> StoredBlob:
        if not self._upload_key.fullmatch(key):
            raise BlobMissing(key)  # only a key this store handed out may be adopted (and then dropped)
        limit = min(limit, MAX_BLOB)
        s3 = await self._s3()
        try:
            if await self._size_of(key, key) > limit:
                raise BlobTooLarge(limit)
            digest = hashlib.sha256()
            metered = Metered(limit, head_bytes)  # also past a replacement upload larger than was measured
            response = await s3.get_object(Bucket=self.bucket, Key=key)
            async with response["Body"] as body:
                async for chunk in body.iter_chunks(PART_SIZE):
                    metered.take(chunk)
                    await anyio.to_thread.run_sync(digest.update, chunk)
        except ClientError as exc:
            raise _missing_or(exc, key) from None
        except BlobTooLarge:
            await s3.delete_object(Bucket=self.bucket, Key=key)
            raise
        sha256 = digest.hexdigest()
        await self._promote(key, sha256, metered.size)
        return metered.stored(sha256)


class _MultipartUpload:
    """One multipart upload to a staging key: parts sent in order, then completed or discarded."""

    def __init__(self, s3: Any, bucket: str, key: str, upload_id: str) -> None:
        self.s3, self.bucket, self.key, self.upload_id = s3, bucket, key, upload_id
        self.parts: list[dict[str, Any]] = []
        self.completed = False

    @classmethod
    async def start(cls, s3: Any, bucket: str, key: str) -> _MultipartUpload:
        created = await s3.create_multipart_upload(Bucket=bucket, Key=key)
        return cls(s3, bucket, key, created["UploadId"])

    async def send(self, part: io.BytesIO) -> None:
        number = len(self.parts) + 1
        part.seek(0)
        sent = await self.s3.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, PartNumber=number, Body=part
        )
        self.parts.append({"PartNumber": number, "ETag": sent["ETag"]})

    async def complete(self) -> None:
        await self.s3.complete_multipart_upload(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, MultipartUpload={"Parts": self.parts}
        )
        self.completed = True

    async def discard(self) -> None:
        if self.completed:
            await self.s3.delete_object(Bucket=self.bucket, Key=self.key)
        else:
            await self.s3.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id)


@cache
def _session() -> AioSession:
    """One per process: a session loads botocore's service models (a third of a second) once for all clients."""
    return get_session()


async def _hash(digest: hashlib._Hash, part: io.BytesIO) -> None:
    """Off the event loop (hashlib releases the GIL), over the part's own buffer rather than a copy of it."""
    with part.getbuffer() as view:
        await anyio.to_thread.run_sync(digest.update, view)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _missing_or(exc: ClientError, name: str) -> Exception:
    return BlobMissing(name) if exc.response.get("Error", {}).get("Code") in _MISSING else exc
