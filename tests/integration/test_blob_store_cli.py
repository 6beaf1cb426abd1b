"""`aftersales attachments verify` and `move`, run as the command line runs them, on a directory and moto's S3."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from app.cli import cli
from app.integrations.storage import BlobStore
from app.integrations.storage.local import LocalBlobStore
from app.settings import get_settings
from tests.databases import migrate, sqlite_url
from tests.s3_server import ACCESS_KEY, BUCKET, SECRET_KEY, S3Server, everything_in, running_server

pytestmark = pytest.mark.xdist_group("blob_store")

Invoke = Callable[..., Result]


@pytest.fixture(scope="session")
def s3_server() -> S3Server:
    return running_server()


@pytest.fixture
def s3_prefix() -> str:
    return f"cli-{uuid.uuid4().hex}/"


@pytest.fixture
def local(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "attachments")


@pytest.fixture
def records(tmp_path: Path) -> str:
    """A migrated SQLite database: `verify` also checks the files its attachment rows name."""
    url = sqlite_url(tmp_path)
    asyncio.run(migrate(url))
    return url


@pytest.fixture
def attachments(local: LocalBlobStore, s3_server: S3Server, s3_prefix: str, records: str) -> Invoke:
    """`attachments(*args, **settings)` runs `aftersales attachments …` with the local backend configured."""

    def invoke(*args: str, **settings: str) -> Result:
        env = {
            "AFTERSALES_DATABASE_URL": records,
            "AFTERSALES_STORAGE_BACKEND": "local",
            "AFTERSALES_STORAGE_DIR": str(local.root),
            "AFTERSALES_S3_BUCKET": BUCKET,
            "AFTERSALES_S3_ENDPOINT_URL": s3_server.endpoint_url,
            "AFTERSALES_S3_PATH_STYLE": "true",
            "AFTERSALES_S3_PREFIX": s3_prefix,
            "AFTERSALES_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "AFTERSALES_S3_SECRET_ACCESS_KEY": SECRET_KEY,
            **{f"AFTERSALES_{name.upper()}": value for name, value in settings.items()},
        }
        get_settings.cache_clear()
        try:
            return CliRunner().invoke(cli, ["attachments", *args], env=env)
        finally:
            get_settings.cache_clear()

    return invoke


def put_blobs(store: BlobStore, *contents: bytes) -> list[str]:
    async def stream(data: bytes) -> AsyncIterator[bytes]:
        yield data

    async def put_all() -> list[str]:
        try:
            return [(await store.put(stream(data), limit=len(data))).sha256 for data in contents]
        finally:
            await store.aclose()

    return sorted(asyncio.run(put_all()))


def digests_in(store: BlobStore) -> list[str]:
    async def listed() -> list[str]:
        try:
            return [d async for d in store.digests()]
        finally:
            await store.aclose()

    return asyncio.run(listed())


def test_verify_checks_every_file_and_resumes_after_a_digest(attachments: Invoke, local: LocalBlobStore) -> None:
    digests = put_blobs(local, b"photo one", b"photo two", b"video three")

    everything = attachments("verify")
    resumed = attachments("verify", "--after", digests[0])

    assert everything.exit_code == 0, everything.output
    assert "3 files checked: 3 ok" in everything.output
    assert resumed.exit_code == 0, resumed.output
    assert "2 files checked: 2 ok" in resumed.output


def test_verify_reports_a_corrupted_file_and_exits_non_zero(
    attachments: Invoke, local: LocalBlobStore, tmp_path: Path
) -> None:
    digests = put_blobs(local, b"photo one", b"photo two", b"video three")
    local.path(digests[1]).write_bytes(b"bit rot")
    checkpoint = tmp_path / "verify.checkpoint"

    result = attachments("verify", "--checkpoint", str(checkpoint))

    assert result.exit_code == 1, result.output
    assert f"MISMATCH {digests[1]}" in result.output
    assert "3 files checked: 2 ok, 1 mismatch" in result.output
    assert digests[0] not in result.output and digests[2] not in result.output
    assert not checkpoint.exists()  # the run completed: nothing to resume


def test_verify_reports_a_file_an_attachment_record_names_that_the_store_lacks(
    attachments: Invoke, local: LocalBlobStore, records: str
) -> None:
    [kept] = put_blobs(local, b"photo one")
    lost = hashlib.sha256(b"photo two").hexdigest()
    with sqlite3.connect(records.split(":///", 1)[1]) as db:
        for n, sha256 in enumerate((kept, lost)):
            db.execute(
                "INSERT INTO attachments (id, sha256, size, file_name, extension, content_type, kind, purpose,"
                " scan_status, scan_attempts, uploaded_by, uploaded_by_customer, created_at)"
                " VALUES (?, ?, 9, ?, 'jpg', 'image/jpeg', 'image', 'evidence', 'clean', 0, 'agent-1', 0, ?)",
                (uuid.uuid4().hex, sha256, f"照片{n}.jpg", "2026-12-01 08:00:00.000000"),
            )

    result = attachments("verify")

    assert result.exit_code == 1, result.output
    assert f"MISSING {lost} (named by an attachment record)" in result.output
    assert kept not in result.output


def test_verify_resumes_from_its_checkpoint_file(attachments: Invoke, local: LocalBlobStore, tmp_path: Path) -> None:
    digests = put_blobs(local, b"photo one", b"photo two", b"video three")
    checkpoint = tmp_path / "verify.checkpoint"
    checkpoint.write_text(digests[1] + "\n")

    result = attachments("verify", "--checkpoint", str(checkpoint))

    assert result.exit_code == 0, result.output
    assert "1 file checked: 1 ok" in result.output


def test_move_to_s3_copies_every_file_once_and_a_second_run_copies_nothing(
    attachments: Invoke, local: LocalBlobStore, s3_server: S3Server, s3_prefix: str
) -> None:
    digests = put_blobs(local, b"photo one", b"photo two", b"video three", b"")

    first = attachments("move", "--to", "s3")
    second = attachments("move", "--to", "s3")

    assert first.exit_code == 0, first.output
    assert "4 files moved: 4 copied" in first.output
    assert "AFTERSALES_STORAGE_BACKEND=s3" in first.output
    assert second.exit_code == 0, second.output
    assert "4 files moved: 4 skipped" in second.output
    assert everything_in(s3_server, s3_prefix) == sorted(f"blobs/{d}" for d in digests)
    assert digests_in(s3_server.store(prefix=s3_prefix)) == digests


def test_move_back_to_local_copies_what_s3_holds(
    attachments: Invoke, local: LocalBlobStore, s3_server: S3Server, s3_prefix: str
) -> None:
    s3 = s3_server.store(prefix=s3_prefix)
    digests = put_blobs(s3, b"in the bucket", b"also in the bucket")

    result = attachments("move", "--to", "local", storage_backend="s3")

    assert result.exit_code == 0, result.output
    assert "2 files moved: 2 copied" in result.output
    assert f"AFTERSALES_STORAGE_DIR={local.root}" in result.output
    assert digests_in(local) == digests


def test_move_refuses_a_corrupted_file_and_copies_the_rest(
    attachments: Invoke, local: LocalBlobStore, s3_server: S3Server, s3_prefix: str
) -> None:
    digests = put_blobs(local, b"photo one", b"photo two", b"video three")
    local.path(digests[0]).write_bytes(b"bit rot")

    result = attachments("move", "--to", "s3")

    assert result.exit_code == 1, result.output
    assert f"MISMATCH {digests[0]}" in result.output
    assert everything_in(s3_server, s3_prefix) == sorted(f"blobs/{d}" for d in digests[1:])


def test_verify_refuses_a_resume_point_that_is_not_a_digest(attachments: Invoke) -> None:
    result = attachments("verify", "--after", "ABC")

    assert result.exit_code == 2
    assert "not a SHA-256" in result.output


def test_move_to_the_configured_backend_or_to_s3_without_a_bucket_is_refused(attachments: Invoke) -> None:
    same = attachments("move", "--to", "local")
    no_bucket = attachments("move", "--to", "s3", s3_bucket="")

    assert same.exit_code == 2
    assert "already the configured backend" in same.output
    assert no_bucket.exit_code == 2
    assert "AFTERSALES_S3_BUCKET" in no_bucket.output
