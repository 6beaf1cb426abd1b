"""The embedded attachment store: a directory of files named by their SHA-256 (`root/ab/cd/abcd…`).

A write streams into `root/tmp`, is flushed to disk and renamed into place, so a reader sees a whole file or none,
and a crash leaves at most a temp file, never a half-written blob. File I/O runs in worker threads in blocks of about
a mebibyte (hashing there too: hashlib releases the GIL), so the event loop never waits on the disk."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import anyio.to_thread

from app.integrations.storage import BlobMissing, Metered, SignedUpload, StoredBlob, is_digest

WRITE_BLOCK = 1 << 20  # bytes gathered before one trip to a worker thread
READ_BLOCK = 1 << 20


@dataclass(slots=True)
class _Staged:
    """A temp file being written; `discard` is safe to call at any point, also after the rename."""

    path: Path
    file: BinaryIO
    pending: list[bytes] = field(default_factory=list)
    pending_size: int = 0

    def write_pending(self, digest: hashlib._Hash) -> None:
        for chunk in self.pending:
            digest.update(chunk)
            self.file.write(chunk)

    def discard(self) -> None:
        # Synchronous on purpose: it also runs while the task is being cancelled, where awaiting is not possible,
        # and closing and unlinking one file takes microseconds.
        self.file.close()
        self.path.unlink(missing_ok=True)


class LocalBlobStore:
    """Blobs as files under `root`; the service serves them itself behind its own signed links."""

    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root
        self._tmp = root / "tmp"

    def path(self, sha256: str) -> Path:
        """Where the blob of this digest lives (whether or not it is stored)."""
        return self.root / sha256[:2] / sha256[2:4] / sha256

    async def put(self, chunks: AsyncIterator[bytes], *, limit: int, head_bytes: int = 8192) -> StoredBlob:
        digest = hashlib.sha256()
        metered = Metered(limit, head_bytes)
        staged = await anyio.to_thread.run_sync(self._open_temp)
        try:
            async for chunk in chunks:
                metered.take(chunk)
                staged.pending.append(chunk)
                staged.pending_size += len(chunk)
                if staged.pending_size >= WRITE_BLOCK:
                    await anyio.to_thread.run_sync(staged.write_pending, digest)
                    staged.pending, staged.pending_size = [], 0
            await anyio.to_thread.run_sync(staged.write_pending, digest)
            staged.pending = []
            sha256 = digest.hexdigest()
            await anyio.to_thread.run_sync(self._commit, staged, sha256)
        except BaseException:
            staged.discard()
            raise
        return metered.stored(sha256)

    def _open_temp(self) -> _Staged:
        self._tmp.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self._tmp, prefix="put-")
        return _Staged(path=Path(name), file=os.fdopen(fd, "wb", buffering=WRITE_BLOCK))

    def _commit(self, staged: _Staged, sha256: str) -> None:
        staged.file.flush()
        os.fsync(staged.file.fileno())
        staged.file.close()
        target = self.path(sha256)
        if target.exists():  # the same bytes are already stored: keep one copy
            staged.path.unlink()
            return
        created = [d for d in (target.parent.parent, target.parent) if not d.exists()]
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged.path, target)
        # The rename, and any directory made for it, survive a power cut only once their parent directory is synced.
        for directory in {target.parent, *(d.parent for d in created)}:
            _fsync_directory(directory)

    async def read(self, sha256: str, *, chunk_size: int = 65536) -> AsyncIterator[bytes]:
        """An async generator: `BlobMissing` comes from the first step."""
        file = await anyio.to_thread.run_sync(self._open, sha256)
        try:
            while block := await anyio.to_thread.run_sync(file.read, max(chunk_size, READ_BLOCK)):
                for start in range(0, len(block), chunk_size):
                    yield block[start : start + chunk_size]
        finally:
            file.close()

    def _open(self, sha256: str) -> BinaryIO:
        if not is_digest(sha256):
            raise BlobMissing(sha256)
        try:
            return self.path(sha256).open("rb")
        except FileNotFoundError:
            raise BlobMissing(sha256) from None

    async def exists(self, sha256: str) -> bool:
        return is_digest(sha256) and await anyio.to_thread.run_sync(self.path(sha256).is_file)

    async def size(self, sha256: str) -> int:
        if not is_digest(sha256):
            raise BlobMissing(sha256)
        try:
            return (await anyio.to_thread.run_sync(self.path(sha256).stat)).st_size
        except FileNotFoundError:
            raise BlobMissing(sha256) from None

    async def delete(self, sha256: str) -> None:
        if is_digest(sha256):
            await anyio.to_thread.run_sync(lambda: self.path(sha256).unlink(missing_ok=True))

    async def digests(self, *, after: str | None = None) -> AsyncIterator[str]:
        after = after or ""
        # Whole directories before `after` are skipped unread: resuming near the end costs two listings, not all.
        for first in await anyio.to_thread.run_sync(_sorted_names, self.root, 2):
            if first < after[:2]:
                continue
            for second in await anyio.to_thread.run_sync(_sorted_names, self.root / first, 2):
                if first + second < after[:4]:
                    continue
                for name in await anyio.to_thread.run_sync(_sorted_names, self.root / first / second, 64):
                    if name.startswith(first + second) and name > after:
                        yield name

    async def download_url(
        self, sha256: str, *, filename: str, content_type: str, inline: bool, expires_in: int
    ) -> str | None:
        return None

    async def presign_upload(
        self, *, min_size: int, max_size: int, sha256: str, expires_in: int
    ) -> SignedUpload | None:
        return None

    async def adopt_upload(self, key: str, *, limit: int, head_bytes: int = 8192) -> StoredBlob:
        """Nothing is ever staged here: uploads come only through the service."""
        raise BlobMissing(key)

    async def aclose(self) -> None:
        """Nothing to release: every read and write closes its own file."""


def _sorted_names(directory: Path, length: int) -> list[str]:
    """Names of the entries of `directory` that are `length` lowercase hex digits, ascending (none if it is absent)."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if len(n) == length and all(c in "0123456789abcdef" for c in n))


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
