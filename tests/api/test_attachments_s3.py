"""The upload, link and download path on the S3 store, against a real S3-compatible server (moto's, started by the
tests): the bytes stream into the bucket, a refused upload leaves no object (nor an unfinished multipart upload),
and a clean file's link is the store's own presigned URL, which serves the bytes with the file's type and name."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.domain.principal import Role
from app.main import create_app
from tests.api.test_attachments import JPEG, MP4, PNG, UPLOADS, Desk, upload
from tests.api.test_attachments import desk as desk  # the fixture, shared
from tests.api.test_attachments import desk_with as desk_with  # the fixture `desk` needs
from tests.conftest import client_for, make_settings
from tests.problems import problem_fields
from tests.s3_server import ACCESS_KEY, BUCKET, REGION, SECRET_KEY, S3Server, everything_in, running_server

pytestmark = pytest.mark.xdist_group("blob_store")


@pytest.fixture
async def s3_desk(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[Desk, S3Server, str]]:
    server = running_server()
    prefix = f"t-{uuid.uuid4().hex}/"
    app: FastAPI = create_app(
        make_settings(
            database_url,
            storage_backend="s3",
            s3_endpoint_url=server.endpoint_url,
            s3_bucket=BUCKET,
            s3_region=REGION,
            s3_access_key_id=ACCESS_KEY,
            s3_secret_access_key=SECRET_KEY,
            s3_path_style=True,
            s3_prefix=prefix,
        )
    )
    async with client_for(app) as http:
        yield Desk(app, http, tmp_path / "unused"), server, prefix


async def test_an_upload_lands_in_the_bucket_and_its_link_is_presigned_by_the_store(s3_desk, auth) -> None:
    desk, server, prefix = s3_desk
    photo = JPEG + os.urandom(6 << 20)  # past one multipart part

    uploaded = await upload(desk, auth(Role.CUSTOMER), "损坏照片.jpg", photo, "image/jpeg")
    assert uploaded.status_code == 201, uploaded.text
    body = uploaded.json()
    assert everything_in(server, prefix) == [f"blobs/{body['sha256']}"]

    problem_fields(
        await desk.http.post(f"{UPLOADS}/{body['id']}/link", headers=auth(Role.CUSTOMER)),
        409,
        "attachment_pending_scan",
    )
    assert await desk.app.state.services.attachments.scan() == 1
    link = await desk.http.post(f"{UPLOADS}/{body['id']}/link", headers=auth(Role.CUSTOMER))

    assert link.status_code == 200, link.text
    assert link.json()["url"].startswith(f"{server.endpoint_url}/{BUCKET}/{prefix}blobs/{body['sha256']}?")
    async with httpx.AsyncClient() as outside:
        served = await outside.get(link.json()["url"])
    assert served.status_code == 200
    assert served.content == photo
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["content-disposition"].startswith("inline;")
    assert "UTF-8''%E6%8D%9F%E5%9D%8F%E7%85%A7%E7%89%87.jpg" in served.headers["content-disposition"]


async def test_a_refused_upload_leaves_nothing_in_the_bucket(s3_desk, auth) -> None:
    desk, server, prefix = s3_desk

    posing = await upload(desk, auth(Role.CUSTOMER), "a.png", b"<html><script>alert(1)</script></html>")
    renamed = await upload(desk, auth(Role.CUSTOMER), "a.jpg", PNG + os.urandom(6 << 20), "image/jpeg")

    problem_fields(posing, 415, "markup_content")
    problem_fields(renamed, 415, "content_type_mismatch")
    assert everything_in(server, prefix) == []
    assert await desk.rows() == []


async def direct(desk: Desk, headers: dict[str, str], name: str, data: bytes, **fields: Any) -> httpx.Response:
    body = {"file_name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), **fields}
    return await desk.http.post(f"{UPLOADS}/direct-uploads", json=body, headers=headers)


async def send_directly(granted: dict[str, Any], data: bytes) -> None:
    async with httpx.AsyncClient() as outside:
        sent = await outside.post(granted["url"], data=granted["fields"], files={"file": ("file", data)})
    assert sent.status_code in (200, 201, 204), sent.text


async def test_a_large_file_goes_straight_to_the_bucket_and_is_confirmed_once(s3_desk, auth) -> None:
    desk, server, prefix = s3_desk
    video = MP4 + os.urandom(1 << 20)
    sha256 = hashlib.sha256(video).hexdigest()

    started = await direct(desk, auth(Role.CUSTOMER), "安装视频.mp4", video)
    assert started.status_code == 201, started.text
    granted = started.json()
    await send_directly(granted, video)
    confirm = {"token": granted["token"]}
    confirmed = await desk.http.post(f"{UPLOADS}/direct-uploads/confirm", json=confirm, headers=auth(Role.CUSTOMER))
    again = await desk.http.post(f"{UPLOADS}/direct-uploads/confirm", json=confirm, headers=auth(Role.CUSTOMER))

    assert confirmed.status_code == 201, confirmed.text
    body = confirmed.json()
    assert (body["file_name"], body["content_type"], body["size"], body["sha256"]) == (
        "安装视频.mp4",
        "video/mp4",
        len(video),
        sha256,
    )
    assert (body["scan_status"], body["customer_no"]) == ("pending", "C-1")
    assert everything_in(server, prefix) == [f"blobs/{sha256}"]
    problem_fields(again, 404, "direct_upload_not_found")


async def test_a_direct_upload_is_confirmed_by_its_own_caller_with_its_token_as_given(s3_desk, auth) -> None:
    desk, _, _ = s3_desk
    granted = (await direct(desk, auth(Role.CUSTOMER), "a.jpg", JPEG)).json()
    await send_directly(granted, JPEG)
    body, _, signature = granted["token"].partition(".")

    other = await desk.http.post(
        f"{UPLOADS}/direct-uploads/confirm",
        json={"token": granted["token"]},
        headers=auth(Role.CUSTOMER, customer_no="C-2", sub="customer-2"),
    )
    tampered = await desk.http.post(
        f"{UPLOADS}/direct-uploads/confirm", json={"token": f"{body}x.{signature}"}, headers=auth(Role.CUSTOMER)
    )

    problem_fields(other, 403, "upload_token_invalid")
    problem_fields(tampered, 403, "upload_token_invalid")
    assert await desk.rows() == []


@pytest.mark.parametrize(
    ("name", "declared", "sent", "status", "code"),
    [
        ("a.jpg", JPEG, JPEG[:-1] + b"\x00", 422, "direct_upload_mismatch"),
        (
            "a.png",
            b"<html><script>alert(1)</script></html>",
            b"<html><script>alert(1)</script></html>",
            415,
            "markup_content",
        ),
        ("a.jpg", JPEG + b"PK\x05\x06" + bytes(18), JPEG + b"PK\x05\x06" + bytes(18), 415, "polyglot_content"),
    ],
)
async def test_a_direct_upload_that_is_not_what_was_granted_or_claimed_leaves_nothing(
    s3_desk, auth, name: str, declared: bytes, sent: bytes, status: int, code: str
) -> None:
    desk, server, prefix = s3_desk
    granted = (await direct(desk, auth(Role.CUSTOMER), name, declared)).json()
    await send_directly(granted, sent)

    confirmed = await desk.http.post(
        f"{UPLOADS}/direct-uploads/confirm", json={"token": granted["token"]}, headers=auth(Role.CUSTOMER)
    )

    assert problem_fields(confirmed, status, code) == {"#/token"}
    assert everything_in(server, prefix) == []
    assert await desk.rows() == []


async def test_a_direct_upload_is_checked_before_anything_is_presigned(s3_desk, auth) -> None:
    desk, _, _ = s3_desk

    too_big = await desk.http.post(
        f"{UPLOADS}/direct-uploads",
        json={"file_name": "a.mp4", "size": 300 << 20, "sha256": "0" * 64},
        headers=auth(Role.CUSTOMER),
    )
    executable = await direct(desk, auth(Role.CUSTOMER), "setup.exe", b"MZ")
    unsafe = await direct(desk, auth(Role.CUSTOMER), "../a.jpg", JPEG)
    empty = await direct(desk, auth(Role.CUSTOMER), "a.jpg", b"")

    assert problem_fields(too_big, 413, "payload_too_large") == {"#/size"}
    assert problem_fields(executable, 415, "file_type_not_allowed") == {"#/file_name"}
    assert problem_fields(unsafe, 422, "invalid_file_name") == {"#/file_name"}
    assert problem_fields(empty, 422, "empty_file") == {"#/size"}


async def test_the_local_store_takes_no_direct_uploads(desk: Desk, auth) -> None:
    response = await direct(desk, auth(Role.CUSTOMER), "a.jpg", JPEG)

    problem_fields(response, 409, "direct_upload_unavailable")
