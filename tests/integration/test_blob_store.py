"""The attachment store's promises, one suite run against each backend: a directory and a real S3-compatible server."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.integrations.storage import BlobMissing, BlobStore, BlobTooLarge
from app.integrations.storage.local import LocalBlobStore

pytestmark = pytest.mark.xdist_group("blob_store")

MIB = 1 << 20


async def stream(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        await asyncio.sleep(0)
        yield chunk


async def read_all(store: BlobStore, sha256: str, chunk_size: int = 65536) -> bytes:
    return b"".join([chunk async for chunk in store.read(sha256, chunk_size=chunk_size)])


def everything_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.fixture(params=["local"])
async def blob_store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    return LocalBlobStore(tmp_path / "blobs")


async def everything(store: BlobStore) -> list[str]:
    """Every file or object the store holds, staging areas included: what a refused write must not leave behind."""
    assert isinstance(store, LocalBlobStore)
    return everything_under(store.root)


async def test_a_stored_blob_reads_back_whole_under_its_digest(blob_store: BlobStore) -> None:
    data = [b"\x89PNG\r\n\x1a\n", os.urandom(100_000), b"tail"]
    whole = b"".join(data)

    stored = await blob_store.put(stream(*data), limit=len(whole), head_bytes=16)

    assert stored.sha256 == hashlib.sha256(whole).hexdigest()
    assert stored.size == len(whole)
    assert stored.head == whole[:16]
    assert await read_all(blob_store, stored.sha256) == whole
    assert max([len(c) async for c in blob_store.read(stored.sha256, chunk_size=40_000)]) <= 40_000
    assert await blob_store.exists(stored.sha256)
    assert await blob_store.size(stored.sha256) == len(whole)
    assert await everything(blob_store) == [_blob_entry(blob_store, stored.sha256)]


async def test_the_same_bytes_are_stored_once(blob_store: BlobStore) -> None:
    first = await blob_store.put(stream(b"same ", b"photo"), limit=100)
    second = await blob_store.put(stream(b"same photo"), limit=100)

    assert first == second
    assert await everything(blob_store) == [_blob_entry(blob_store, first.sha256)]
    assert [d async for d in blob_store.digests()] == [first.sha256]


async def test_a_stream_exactly_at_the_limit_is_kept(blob_store: BlobStore) -> None:
    stored = await blob_store.put(stream(b"a" * 6, b"b" * 4), limit=10)

    assert stored.size == 10
    assert await read_all(blob_store, stored.sha256) == b"a" * 6 + b"b" * 4


async def test_a_stream_past_the_limit_is_refused_and_leaves_nothing(blob_store: BlobStore) -> None:
    with pytest.raises(BlobTooLarge) as refused:
        await blob_store.put(stream(b"a" * 6, b"b" * 4, b"c"), limit=10)

    assert refused.value.limit == 10
    assert await everything(blob_store) == []
    assert [d async for d in blob_store.digests()] == []


async def test_a_large_stream_past_the_limit_leaves_nothing(blob_store: BlobStore) -> None:
    """Past a multipart upload's first part on S3: the started upload is aborted too."""
    chunk = os.urandom(64 * 1024)
    with pytest.raises(BlobTooLarge):
        await blob_store.put(stream(*[chunk] * 160), limit=8 * MIB)

    assert await everything(blob_store) == []


async def test_a_stream_that_breaks_midway_leaves_nothing(blob_store: BlobStore) -> None:
    chunk = os.urandom(64 * 1024)

    async def cut_off() -> AsyncIterator[bytes]:
        for _ in range(100):  # past one S3 part
            yield chunk
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await blob_store.put(cut_off(), limit=100 * MIB)

    assert await everything(blob_store) == []


async def test_a_write_cancelled_midway_leaves_nothing(blob_store: BlobStore) -> None:
    arrived = asyncio.Event()

    async def stalls() -> AsyncIterator[bytes]:
        yield os.urandom(64 * 1024)
        arrived.set()
        await asyncio.Event().wait()
        yield b"never"

    writing = asyncio.create_task(blob_store.put(stalls(), limit=MIB))
    await arrived.wait()
    writing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await writing

    assert await everything(blob_store) == []


async def test_an_empty_stream_is_the_empty_blob(blob_store: BlobStore) -> None:
    stored = await blob_store.put(stream(), limit=10)

    assert stored.sha256 == hashlib.sha256(b"").hexdigest()
    assert (stored.size, stored.head) == (0, b"")
    assert await read_all(blob_store, stored.sha256) == b""
    assert await blob_store.size(stored.sha256) == 0


async def test_a_large_file_streams_in_and_out_with_the_right_hash(blob_store: BlobStore) -> None:
    expected = hashlib.sha256()

    async def twelve_mebibytes() -> AsyncIterator[bytes]:
        for i in range(12 * 16):
            chunk = hashlib.sha512(i.to_bytes(4)).digest() * 1024  # 64 KiB, cheap and not uniform
            expected.update(chunk)
            yield chunk

    stored = await blob_store.put(twelve_mebibytes(), limit=12 * MIB)

    assert stored.sha256 == expected.hexdigest()
    assert stored.size == 12 * MIB
    read_back, largest = hashlib.sha256(), 0
    async for chunk in blob_store.read(stored.sha256):
        read_back.update(chunk)
        largest = max(largest, len(chunk))
    assert read_back.hexdigest() == stored.sha256
    assert largest <= 65536
    assert await blob_store.size(stored.sha256) == 12 * MIB


async def test_digests_come_in_ascending_order(blob_store: BlobStore) -> None:
    stored = [await blob_store.put(stream(f"blob {i}".encode()), limit=100) for i in range(12)]

    listed = [d async for d in blob_store.digests()]

    assert listed == sorted(s.sha256 for s in stored)


async def test_delete_removes_the_blob_and_may_be_repeated(blob_store: BlobStore) -> None:
    stored = await blob_store.put(stream(b"to be deleted"), limit=100)

    await blob_store.delete(stored.sha256)
    await blob_store.delete(stored.sha256)

    assert not await blob_store.exists(stored.sha256)
    assert await everything(blob_store) == []


@pytest.mark.parametrize("digest", [hashlib.sha256(b"never stored").hexdigest(), "../../etc/passwd", "AB" * 32, ""])
async def test_an_unknown_or_malformed_digest_is_missing(blob_store: BlobStore, digest: str) -> None:
    await blob_store.put(stream(b"something else"), limit=100)

    with pytest.raises(BlobMissing):
        await read_all(blob_store, digest)
    with pytest.raises(BlobMissing):
        await blob_store.size(digest)
    assert not await blob_store.exists(digest)
    await blob_store.delete(digest)


async def test_the_local_store_serves_its_own_links_and_takes_no_direct_uploads(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    stored = await store.put(stream(b"x"), limit=1)

    assert (
        await store.download_url(stored.sha256, filename="a.png", content_type="image/png", inline=True, expires_in=60)
        is None
    )
    assert await store.presign_upload(min_size=1, max_size=10, sha256=stored.sha256, expires_in=60) is None
    with pytest.raises(BlobMissing):
        await store.adopt_upload("uploads/anything", limit=10)


def _blob_entry(store: BlobStore, sha256: str) -> str:
    assert isinstance(store, LocalBlobStore)
    return str(store.path(sha256).relative_to(store.root))
