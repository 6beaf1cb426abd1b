"""The attachment store's promises, one suite run against each backend: a directory and a real S3-compatible server."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from app.integrations.storage import BlobCorrupt, BlobMissing, BlobStore, BlobTooLarge, open_blob_store
from app.integrations.storage.local import LocalBlobStore
from app.integrations.storage.s3 import S3BlobStore
from app.settings import Settings
from tests.s3_server import S3Server, everything_in, running_server

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


@pytest.fixture(scope="session")
def s3_server() -> S3Server:
    return running_server()


@pytest.fixture(params=["local", "s3"])
async def blob_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BlobStore]:
    store: BlobStore = (
        LocalBlobStore(tmp_path / "blobs") if request.param == "local" else request.getfixturevalue("s3_server").store()
    )
    yield store
    await store.aclose()


@pytest.fixture
async def s3_store(s3_server: S3Server) -> AsyncIterator[S3BlobStore]:
    store = s3_server.store()
    yield store
    await store.aclose()


async def everything(store: BlobStore) -> list[str]:
    """Every file or object the store holds, staging areas and unfinished multipart uploads included: what a
    refused write must not leave behind."""
    if isinstance(store, LocalBlobStore):
        return everything_under(store.root)
    assert isinstance(store, S3BlobStore)
    return everything_in(running_server(), store.prefix)


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
        for _ in range(150):  # past one S3 part, so that a multipart upload was started
            yield chunk
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await blob_store.put(cut_off(), limit=100 * MIB)

    assert await everything(blob_store) == []


async def test_a_write_cancelled_midway_leaves_nothing(blob_store: BlobStore) -> None:
    arrived = asyncio.Event()
    chunk = os.urandom(64 * 1024)

    async def stalls() -> AsyncIterator[bytes]:
        for _ in range(150):  # past one S3 part, so that a multipart upload was started
            yield chunk
        arrived.set()
        await asyncio.Event().wait()
        yield b"never"

    writing = asyncio.create_task(blob_store.put(stalls(), limit=100 * MIB))
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

    ascending = sorted(s.sha256 for s in stored)
    assert listed == ascending
    assert [d async for d in blob_store.digests(after=ascending[4])] == ascending[5:]
    assert [d async for d in blob_store.digests(after=ascending[-1])] == []
    assert [d async for d in blob_store.digests(after="0" * 64)] == ascending
    assert [d async for d in blob_store.digests(after="f" * 64)] == []


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
    if isinstance(store, LocalBlobStore):
        return str(store.path(sha256).relative_to(store.root))
    return f"blobs/{sha256}"


async def test_a_download_link_serves_the_blob_with_its_name_and_type(s3_store: S3BlobStore) -> None:
    stored = await s3_store.put(stream(b"%PDF-1.7 invoice"), limit=100)

    url = await s3_store.download_url(
        stored.sha256, filename="发票 2026.pdf", content_type="application/pdf", inline=False, expires_in=300
    )

    assert url is not None
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    assert response.status_code == 200
    assert response.content == b"%PDF-1.7 invoice"
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"__ 2026.pdf\"; filename*=UTF-8''%E5%8F%91%E7%A5%A8%202026.pdf"
    )


async def test_a_download_link_is_signed_to_expire_with_its_headers(s3_store: S3BlobStore) -> None:
    """The test server does not refuse expired or altered links (S3 does): what the store controls is what it signs."""
    stored = await s3_store.put(stream(b"\xff\xd8\xff photo"), limit=100)

    url = await s3_store.download_url(
        stored.sha256, filename="a.jpg", content_type="image/jpeg", inline=True, expires_in=120
    )

    assert url is not None
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["120"]
    assert query["response-content-type"] == ["image/jpeg"]
    assert query["response-content-disposition"] == ["inline; filename=\"a.jpg\"; filename*=UTF-8''a.jpg"]
    assert "X-Amz-Signature" in query
    assert urlsplit(url).path == f"/attachments/{s3_store.prefix}blobs/{stored.sha256}"


async def test_a_direct_upload_is_adopted_under_its_digest(s3_store: S3BlobStore) -> None:
    data = os.urandom(300_000)
    sha256 = hashlib.sha256(data).hexdigest()
    signed = await s3_store.presign_upload(min_size=1, max_size=1_000_000, sha256=sha256, expires_in=300)
    assert signed is not None

    async with httpx.AsyncClient() as http:
        posted = await http.post(signed.url, data=signed.fields, files={"file": ("evidence.bin", data)})
    assert posted.status_code == 204
    assert await everything(s3_store) == [signed.key.removeprefix(s3_store.prefix)]

    stored = await s3_store.adopt_upload(signed.key, limit=1_000_000, head_bytes=4)

    assert (stored.sha256, stored.size, stored.head) == (sha256, len(data), data[:4])
    assert await read_all(s3_store, sha256) == data
    assert await everything(s3_store) == [f"blobs/{sha256}"]


async def test_a_direct_upload_binds_its_size_range_and_checksum_into_the_signed_policy(s3_store: S3BlobStore) -> None:
    sha256 = hashlib.sha256(b"declared").hexdigest()

    signed = await s3_store.presign_upload(min_size=10, max_size=2000, sha256=sha256, expires_in=60)

    assert signed is not None
    assert signed.key.startswith(f"{s3_store.prefix}uploads/")
    policy = json.loads(base64.b64decode(signed.fields["policy"]))
    checksum = base64.b64encode(bytes.fromhex(sha256)).decode()
    assert ["content-length-range", 10, 2000] in policy["conditions"]
    assert {"x-amz-checksum-sha256": checksum} in policy["conditions"]
    assert {"key": signed.key} in policy["conditions"]
    assert signed.fields["x-amz-checksum-sha256"] == checksum
    assert "x-amz-signature" in signed.fields


async def test_a_direct_upload_past_the_limit_is_refused_on_adoption_and_dropped(s3_store: S3BlobStore) -> None:
    """The test server accepts a POST outside the signed size range (S3 refuses it); adoption enforces the limit."""
    data = b"x" * 5000
    signed = await s3_store.presign_upload(
        min_size=1, max_size=1000, sha256=hashlib.sha256(data).hexdigest(), expires_in=60
    )
    assert signed is not None
    async with httpx.AsyncClient() as http:
        posted = await http.post(signed.url, data=signed.fields, files={"file": ("big.bin", data)})
    assert posted.status_code == 204

    with pytest.raises(BlobTooLarge):
        await s3_store.adopt_upload(signed.key, limit=1000)

    assert await everything(s3_store) == []


async def test_a_direct_upload_of_stored_bytes_keeps_one_copy(s3_store: S3BlobStore) -> None:
    stored = await s3_store.put(stream(b"already here"), limit=100)
    signed = await s3_store.presign_upload(min_size=1, max_size=100, sha256=stored.sha256, expires_in=60)
    assert signed is not None
    async with httpx.AsyncClient() as http:
        await http.post(signed.url, data=signed.fields, files={"file": ("again.txt", b"already here")})

    assert await s3_store.adopt_upload(signed.key, limit=100) == stored
    assert await everything(s3_store) == [f"blobs/{stored.sha256}"]


async def test_only_a_staged_upload_that_exists_may_be_adopted(s3_store: S3BlobStore) -> None:
    stored = await s3_store.put(stream(b"a stored blob"), limit=100)
    never_posted = await s3_store.presign_upload(min_size=1, max_size=100, sha256=stored.sha256, expires_in=60)
    assert never_posted is not None

    for key in (never_posted.key, s3_store.key(stored.sha256), f"{s3_store.prefix}uploads/../blobs/{stored.sha256}"):
        with pytest.raises(BlobMissing):
            await s3_store.adopt_upload(key, limit=100)

    assert await everything(s3_store) == [f"blobs/{stored.sha256}"]


async def test_a_copy_that_does_not_hash_to_its_digest_is_refused_and_dropped(
    s3_store: S3BlobStore, s3_server: S3Server
) -> None:
    """The store's own SHA-256 of the copy is compared with ours: bytes altered on the way are never kept."""
    staging = f"{s3_store.prefix}staging/altered"
    s3_server.admin.put_object(Bucket=s3_store.bucket, Key=staging, Body=b"altered on the way")
    claimed = hashlib.sha256(b"what was sent").hexdigest()

    with pytest.raises(BlobCorrupt):
        await s3_store._promote(staging, claimed, len(b"altered on the way"))

    assert await everything(s3_store) == []


def test_the_configured_store_is_opened_from_the_settings(tmp_path: Path, s3_server: S3Server) -> None:
    local = open_blob_store(Settings(storage_dir=tmp_path))
    s3 = open_blob_store(
        Settings(
            storage_backend="s3",
            s3_bucket="attachments",
            s3_endpoint_url=s3_server.endpoint_url,
            s3_prefix="aftersales",
            s3_access_key_id="k",
            s3_secret_access_key="s",  # type: ignore[arg-type]
        )
    )

    assert isinstance(local, LocalBlobStore) and local.root == tmp_path
    assert isinstance(s3, S3BlobStore) and (s3.bucket, s3.prefix) == ("attachments", "aftersales/")
    assert isinstance(open_blob_store(Settings(storage_dir=tmp_path, s3_bucket="b"), "s3"), S3BlobStore)
    with pytest.raises(ValueError, match="AFTERSALES_S3_BUCKET"):
        open_blob_store(Settings(storage_dir=tmp_path), "s3")


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        ({"storage_backend": "s3"}, "needs AFTERSALES_S3_BUCKET"),
        ({"storage_backend": "s3", "s3_bucket": ""}, "needs AFTERSALES_S3_BUCKET"),
        ({"s3_access_key_id": "k"}, "go together"),
        ({"s3_prefix": "/abs"}, "does not start with /"),
    ],
)
def test_unusable_storage_settings_are_refused(settings: dict[str, str], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        Settings(**settings)  # type: ignore[arg-type]
