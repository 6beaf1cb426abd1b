"""The upload, link and download path on the S3 store, against a real S3-compatible server (moto's, started by the
tests): the bytes stream into the bucket, a refused upload leaves no object (nor an unfinished multipart upload),
and a clean file's link is the store's own presigned URL, which serves the bytes with the file's type and name."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app.domain.principal import Role
from app.main import create_app
from tests.api.test_attachments import JPEG, PNG, UPLOADS, Desk, upload
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
