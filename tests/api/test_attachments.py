"""Uploads (证据附件), streamed into the real local store in a directory of the test's own: multipart and raw bodies
with Chinese names, and every bad input refused with a clear 4xx that leaves no row and no byte behind (empty files,
wrong or missing types, disallowed extensions, unsafe names, lying lengths, bodies cut off, renamed executables,
markup posing as images, polyglots, files over the limit, too many fields)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.domain.clock import Clock
from app.domain.principal import Role
from app.main import create_app
from app.persistence.tables import attachments
from tests.conftest import client_for, make_settings
from tests.problems import problem_fields

UPLOADS = "/v1/attachments"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + os.urandom(50_000) + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x02\x00\x00\x00" + os.urandom(20_000)
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + os.urandom(10_000) + b"\ntrailer\n%%EOF\n"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + os.urandom(30_000)


@dataclass
class Desk:
    """The app on the test's database with its own attachment directory."""

    app: FastAPI
    http: httpx.AsyncClient
    root: Path

    def blobs(self) -> list[str]:
        """Every file in the store, its staging directory included."""
        return sorted(str(p.relative_to(self.root)) for p in self.root.rglob("*") if p.is_file())

    async def rows(self) -> list[Any]:
        async with self.app.state.services.database.engine.connect() as conn:
            return list(await conn.execute(select(attachments).order_by(attachments.c.created_at)))

    async def nothing_left(self) -> None:
        assert self.blobs() == []
        assert await self.rows() == []


@pytest.fixture
def desk_with(database_url: str, tmp_path: Path) -> Callable[..., Any]:
    """`async with desk_with(clock, **settings) as desk`: an app whose store is a fresh directory."""

    def build(clock: Clock | None = None, **overrides: Any) -> Any:
        root = tmp_path / f"blobs-{len(list(tmp_path.iterdir()))}"
        app = create_app(make_settings(database_url, storage_dir=root, **overrides), clock=clock)

        class Opened:
            async def __aenter__(self) -> Desk:
                self._client = client_for(app)
                return Desk(app, await self._client.__aenter__(), root)

            async def __aexit__(self, *exc: object) -> None:
                await self._client.__aexit__(*exc)

        return Opened()

    return build


@pytest.fixture
async def desk(desk_with: Callable[..., Any]) -> AsyncIterator[Desk]:
    async with desk_with() as opened:
        yield opened


async def upload(
    desk: Desk,
    headers: dict[str, str],
    name: str,
    data: bytes,
    content_type: str = "application/octet-stream",
    **fields: str,
) -> httpx.Response:
    """A multipart upload: the fields, then the file."""
    return await desk.http.post(UPLOADS, data=fields, files={"file": (name, data, content_type)}, headers=headers)


async def raw_upload(
    desk: Desk, headers: dict[str, str], name: str, data: bytes | Any, content_type: str, **params: str
) -> httpx.Response:
    return await desk.http.post(
        UPLOADS,
        params={"filename": name, **params},
        content=data,
        headers={**headers, "Content-Type": content_type},
    )


def multipart_body(*parts: tuple[str, str], boundary: str = "b0undary") -> bytes:
    """A hand-made multipart body from (part headers, value) pairs, for forms httpx would not send."""
    body = b"".join(
        f"--{boundary}\r\n{headers}\r\n\r\n".encode() + value.encode("latin-1") + b"\r\n" for headers, value in parts
    )
    return body + f"--{boundary}--\r\n".encode()


def form_data(name: str, file_name: str | None = None) -> str:
    disposition = f'Content-Disposition: form-data; name="{name}"'
    return disposition + (f'; filename="{file_name}"' if file_name is not None else "")


async def test_a_customer_uploads_a_photo_with_a_chinese_name_as_a_multipart_form(desk: Desk, auth) -> None:
    response = await upload(desk, auth(Role.CUSTOMER), "故障照片 2026-12-01.jpg", JPEG, "image/jpeg")

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["file_name"] == "故障照片 2026-12-01.jpg"
    assert (body["content_type"], body["extension"], body["kind"], body["purpose"]) == (
        "image/jpeg",
        "jpg",
        "image",
        "evidence",
    )
    assert (body["size"], body["sha256"]) == (len(JPEG), hashlib.sha256(JPEG).hexdigest())
    assert (body["scan_status"], body["customer_no"], body["uploaded_by"]) == ("pending", "C-1", "customer-1")
    assert response.headers["location"] == f"{UPLOADS}/{body['id']}"
    stored = desk.root / body["sha256"][:2] / body["sha256"][2:4] / body["sha256"]
    assert stored.read_bytes() == JPEG
    assert desk.blobs() == [str(stored.relative_to(desk.root))]
    read = await desk.http.get(f"{UPLOADS}/{body['id']}", headers=auth(Role.CUSTOMER))
    assert read.json() == body


async def test_an_agent_uploads_a_raw_body_for_a_customer_with_its_name_in_the_query(desk: Desk, auth) -> None:
    await desk.http.put("/v1/customers/C-7", json={"name": "王女士", "level": "vip"}, headers=auth(Role.INTEGRATION))

    response = await raw_upload(
        desk, auth(Role.AGENT), "发票.pdf", PDF, "application/pdf", purpose="document", customer_no="C-7"
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["file_name"], body["content_type"], body["purpose"], body["customer_no"]) == (
        "发票.pdf",
        "application/pdf",
        "document",
        "C-7",
    )
    assert body["uploaded_by"] == "agent-1"


async def test_the_same_bytes_uploaded_twice_are_two_attachments_of_one_blob(desk: Desk, auth) -> None:
    first = await upload(desk, auth(Role.CUSTOMER), "a.png", PNG, "image/png")
    second = await raw_upload(desk, auth(Role.CUSTOMER), "b.png", PNG, "image/png")

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    assert first.json()["sha256"] == second.json()["sha256"]
    assert len(desk.blobs()) == 1
    assert len(await desk.rows()) == 2


async def test_a_refused_upload_keeps_the_blob_another_attachment_names(desk: Desk, auth) -> None:
    kept = await upload(desk, auth(Role.CUSTOMER), "video.mp4", MP4, "video/mp4")
    assert kept.status_code == 201

    refused = await upload(desk, auth(Role.CUSTOMER), "video.mp4", MP4, "video/mp4", purpose="document")
    mismatch = await raw_upload(desk, auth(Role.CUSTOMER), "video.mov", MP4, "video/quicktime")

    problem_fields(refused, 422, "purpose_not_allowed")
    assert problem_fields(mismatch, 415, "content_type_mismatch") == {"#"}
    assert len(desk.blobs()) == 1
    assert [row.id for row in await desk.rows()] == [uuid.UUID(kept.json()["id"])]


async def test_an_empty_file_is_refused_and_leaves_nothing(desk: Desk, auth) -> None:
    multipart = await upload(desk, auth(Role.CUSTOMER), "empty.jpg", b"", "image/jpeg")
    raw = await raw_upload(desk, auth(Role.CUSTOMER), "empty.jpg", b"", "image/jpeg")

    assert problem_fields(multipart, 422, "empty_file") == {"#/file"}
    assert problem_fields(raw, 422, "empty_file") == {"#"}
    await desk.nothing_left()


async def test_a_raw_upload_without_a_type_or_with_another_type_is_refused(desk: Desk, auth) -> None:
    missing = await desk.http.post(UPLOADS, params={"filename": "a.jpg"}, content=JPEG, headers=auth(Role.CUSTOMER))
    wrong = await raw_upload(desk, auth(Role.CUSTOMER), "a.jpg", JPEG, "image/png")
    wrong_part = await upload(desk, auth(Role.CUSTOMER), "a.jpg", JPEG, "text/html")
    no_name = await desk.http.post(UPLOADS, content=JPEG, headers={**auth(Role.CUSTOMER), "Content-Type": "image/jpeg"})

    assert problem_fields(missing, 415, "unsupported_media_type") == {"Content-Type"}
    assert problem_fields(wrong, 415, "content_type_mismatch") == {"Content-Type"}
    assert "image/jpeg" in wrong.json()["detail"]
    assert problem_fields(wrong_part, 415, "content_type_mismatch") == {"#/file"}
    assert problem_fields(no_name, 422, "validation_failed") == {"filename"}
    await desk.nothing_left()


@pytest.mark.parametrize("name", ["setup.exe", "logo.svg", "page.html", "notes.txt", "archive.zip", "noextension"])
async def test_a_disallowed_extension_is_refused_before_the_bytes_are_read(desk: Desk, auth, name: str) -> None:
    pulled = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(4):
            pulled += 1
            yield JPEG

    response = await raw_upload(desk, auth(Role.CUSTOMER), name, body(), "application/octet-stream")

    assert problem_fields(response, 415, "file_type_not_allowed") == {"filename"}
    assert pulled <= 1
    await desk.nothing_left()


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../../etc/passwd.jpg", "path separator"),
        ("photos/1.jpg", "path separator"),
        ("C:\\Users\\me\\1.jpg", "path separator"),
        ("bad\x1bname.jpg", "control"),
        ("line\nbreak.jpg", "control"),
        ("tab\there.jpg", "control"),
        ("photo\u202egpj.exe", "control"),
        ("x" * 1000 + ".jpg", "characters"),
        ("", "empty"),
        ("   ", "empty"),
        (".", "directory"),
        ("..", "directory"),
    ],
)
async def test_an_unsafe_file_name_is_refused_naming_the_field(desk: Desk, auth, name: str, why: str) -> None:
    raw = await raw_upload(desk, auth(Role.CUSTOMER), name, JPEG, "image/jpeg")

    assert problem_fields(raw, 422, "invalid_file_name") == {"filename"}
    assert why in raw.json()["detail"]
    await desk.nothing_left()


async def test_a_nul_in_the_name_is_refused_as_no_parameter_can_hold_it(desk: Desk, auth) -> None:
    raw = await raw_upload(desk, auth(Role.CUSTOMER), "bad\x00name.jpg", JPEG, "image/jpeg")

    assert problem_fields(raw, 422, "validation_failed") == {"filename"}
    await desk.nothing_left()


async def test_an_unsafe_name_in_a_multipart_part_is_refused_as_sent(desk: Desk, auth) -> None:
    """python-multipart would cut a Windows path down to its last segment; the name is judged as sent."""
    body = multipart_body((form_data("file", "C:\\temp\\photo.jpg") + "\r\nContent-Type: image/jpeg", "\xff\xd8\xff"))
    response = await desk.http.post(
        UPLOADS, content=body, headers={**auth(Role.CUSTOMER), "Content-Type": "multipart/form-data; boundary=b0undary"}
    )
    control = await desk.http.post(
        UPLOADS,
        content=multipart_body((form_data("file", "a\x07b.jpg") + "\r\nContent-Type: image/jpeg", "\xff\xd8\xff")),
        headers={**auth(Role.CUSTOMER), "Content-Type": "multipart/form-data; boundary=b0undary"},
    )

    assert problem_fields(response, 422, "invalid_file_name") == {"#/file"}
    assert problem_fields(control, 422, "invalid_file_name") == {"#/file"}
    await desk.nothing_left()


@pytest.mark.parametrize("declared", [len(JPEG) - 100, len(JPEG) + 100])
async def test_a_content_length_that_lies_is_refused_and_leaves_nothing(desk: Desk, auth, declared: int) -> None:
    headers = {**auth(Role.CUSTOMER), "Content-Type": "image/jpeg", "Content-Length": str(declared)}
    response = await desk.http.post(UPLOADS, params={"filename": "a.jpg"}, content=JPEG, headers=headers)

    assert problem_fields(response, 400, "body_length_mismatch") == {"Content-Length"}
    await desk.nothing_left()


async def test_a_multipart_body_whose_length_lies_is_refused(desk: Desk, auth) -> None:
    request = desk.http.build_request(
        "POST", UPLOADS, files={"file": ("a.png", PNG, "image/png")}, headers=auth(Role.CUSTOMER)
    )
    body = request.read()
    request.headers["Content-Length"] = str(len(body) - 10)

    response = await desk.http.send(request)

    assert problem_fields(response, 400, "body_length_mismatch") == {"Content-Length"}
    await desk.nothing_left()


async def test_a_body_cut_off_halfway_leaves_nothing(desk: Desk, auth) -> None:
    """The client goes away mid-body: the ASGI server reports a disconnect, which httpx's transport cannot send."""
    token = auth(Role.CUSTOMER)["Authorization"].encode()
    messages = [
        {"type": "http.request", "body": JPEG[:20_000], "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": UPLOADS,
        "raw_path": UPLOADS.encode(),
        "query_string": b"filename=a.jpg",
        "root_path": "",
        "headers": [
            (b"host", b"test"),
            (b"authorization", token),
            (b"content-type", b"image/jpeg"),
            (b"content-length", str(len(JPEG)).encode()),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("test", 80),
        "state": {},
    }

    await desk.app(scope, receive, send)

    assert sent[0]["status"] == 400
    assert b"body_incomplete" in sent[1]["body"]
    await desk.nothing_left()


async def test_a_multipart_body_without_its_closing_boundary_leaves_nothing(desk: Desk, auth) -> None:
    body = multipart_body((form_data("file", "a.png") + "\r\nContent-Type: image/png", PNG.decode("latin-1")))
    cut = body[: -len("--b0undary--\r\n")]
    response = await desk.http.post(
        UPLOADS, content=cut, headers={**auth(Role.CUSTOMER), "Content-Type": "multipart/form-data; boundary=b0undary"}
    )

    assert problem_fields(response, 400, "malformed_upload") == set()
    await desk.nothing_left()


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("photo.jpg", b"MZ\x90\x00\x03\x00\x00\x00" + os.urandom(2000), "executable_content"),
        ("photo.png", b"\x7fELF\x02\x01\x01" + os.urandom(2000), "executable_content"),
        ("scan.pdf", b"#!/bin/sh\nrm -rf /\n", "executable_content"),
        ("photo.jpg", b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + os.urandom(2000), "executable_content"),
        ("image.png", b"<html><body><script>alert(document.cookie)</script></body></html>", "markup_content"),
        ("image.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "markup_content"),
        ("image.gif", b"GIF89a<script>alert(1)</script>", "markup_content"),
        ("photo.jpg", JPEG + b"<?php system($_GET['c']); ?>", "markup_content"),
        ("photo.jpg", JPEG + b"PK\x03\x04\x14\x00" + os.urandom(300) + b"PK\x05\x06" + bytes(18), "polyglot_content"),
        ("photo.jpg", JPEG + b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "polyglot_content"),
        ("scan.pdf", b"%PDF-1.7\n<< /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>\n%%EOF", "active_content"),
        ("photo.jpg", PNG, "content_type_mismatch"),
        ("clip.mp4", JPEG, "content_type_mismatch"),
        ("photo.jpg", os.urandom(5000).replace(b"\xff", b"\x00"), "unrecognised_content"),
    ],
)
async def test_bytes_that_are_not_what_their_name_says_are_refused_naming_why(
    desk: Desk, auth, name: str, data: bytes, code: str
) -> None:
    multipart = await upload(desk, auth(Role.CUSTOMER), name, data)
    raw = await raw_upload(desk, auth(Role.CUSTOMER), name, data, "application/octet-stream")

    assert problem_fields(multipart, 415, code) == {"#/file"}
    assert problem_fields(raw, 415, code) == {"#"}
    await desk.nothing_left()


async def test_a_declared_length_over_the_limit_is_refused_before_a_byte_is_read(desk_with, auth) -> None:
    async with desk_with(attachment_image_max_bytes=10_000) as desk:
        pulled = 0

        async def body() -> AsyncIterator[bytes]:
            nonlocal pulled
            for at in range(0, len(JPEG), 8192):
                pulled += 1
                yield JPEG[at : at + 8192]

        headers = {**auth(Role.CUSTOMER), "Content-Type": "image/jpeg", "Content-Length": str(len(JPEG))}
        response = await desk.http.post(UPLOADS, params={"filename": "a.jpg"}, content=body(), headers=headers)
        too_big_for_any = await desk.http.post(
            UPLOADS,
            params={"filename": "a.mp4"},
            content=b"",
            headers={**auth(Role.CUSTOMER), "Content-Type": "video/mp4", "Content-Length": str(10**12)},
        )

        problem_fields(response, 413, "payload_too_large")
        assert response.json()["limit"] == 10_000
        assert response.headers["connection"] == "close"
        assert pulled <= 1
        problem_fields(too_big_for_any, 413, "payload_too_large")
        await desk.nothing_left()


async def test_a_form_whose_declared_length_leaves_room_for_too_large_a_file_is_refused_at_its_headers(
    desk_with, auth
) -> None:
    async with desk_with(attachment_image_max_bytes=len(JPEG)) as desk:
        fits = desk.http.build_request(
            "POST", UPLOADS, files={"file": ("a.jpg", JPEG, "image/jpeg")}, headers=auth(Role.CUSTOMER)
        )
        too_big = desk.http.build_request(
            "POST", UPLOADS, files={"file": ("a.jpg", JPEG + b"x", "image/jpeg")}, headers=auth(Role.CUSTOMER)
        )
        whole = too_big.read()
        pulled = 0

        async def body() -> AsyncIterator[bytes]:
            nonlocal pulled
            for at in range(0, len(whole), 1024):
                pulled += 1
                yield whole[at : at + 1024]

        refused = await desk.http.post(
            UPLOADS,
            content=body(),
            headers={
                **auth(Role.CUSTOMER),
                "Content-Type": too_big.headers["content-type"],
                "Content-Length": str(len(whole)),
            },
        )
        taken = await desk.http.send(fits)

        assert problem_fields(refused, 413, "payload_too_large") == {"#/file"}
        assert pulled <= 2
        assert taken.status_code == 201, taken.text


async def test_a_file_growing_past_the_limit_while_it_streams_is_refused_and_leaves_nothing(desk_with, auth) -> None:
    async with desk_with(attachment_video_max_bytes=100_000) as desk:

        async def chunked() -> AsyncIterator[bytes]:
            yield MP4
            for _ in range(20):
                yield os.urandom(16_384)

        raw = await raw_upload(desk, auth(Role.CUSTOMER), "clip.mp4", chunked(), "video/mp4")
        request = desk.http.build_request(
            "POST",
            UPLOADS,
            files={"file": ("clip.mp4", MP4 + os.urandom(200_000), "video/mp4")},
            headers=auth(Role.CUSTOMER),
        )
        whole = request.read()

        async def multipart_chunks() -> AsyncIterator[bytes]:
            for at in range(0, len(whole), 10_000):
                yield whole[at : at + 10_000]

        multipart = await desk.http.post(
            UPLOADS,
            content=multipart_chunks(),
            headers={**auth(Role.CUSTOMER), "Content-Type": request.headers["content-type"]},
        )

        assert "content-length" not in {k.lower() for k in raw.request.headers}
        assert problem_fields(raw, 413, "payload_too_large") == {"#"}
        assert problem_fields(multipart, 413, "payload_too_large") == {"#/file"}
        await desk.nothing_left()


async def test_a_file_exactly_at_the_limit_is_taken(desk_with, auth) -> None:
    async with desk_with(attachment_image_max_bytes=len(PNG)) as desk:
        response = await upload(desk, auth(Role.CUSTOMER), "a.png", PNG, "image/png")

        assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("parts", "field"),
    [
        ([("purpose", "evidence"), ("purpose", "document")], "#/purpose"),
        ([("comment", "看这里")], "#/comment"),
        ([("purpose", "e" * 300)], "#/purpose"),
    ],
)
async def test_too_many_or_too_long_form_fields_are_refused(desk: Desk, auth, parts, field: str) -> None:
    body = multipart_body(
        *((form_data(name), value.encode().decode("latin-1")) for name, value in parts),
        (form_data("file", "a.png") + "\r\nContent-Type: image/png", PNG.decode("latin-1")),
    )
    response = await desk.http.post(
        UPLOADS, content=body, headers={**auth(Role.CUSTOMER), "Content-Type": "multipart/form-data; boundary=b0undary"}
    )

    assert problem_fields(response, 400, "malformed_upload") == {field}
    await desk.nothing_left()


async def test_a_part_after_the_file_is_refused_and_the_file_is_not_kept(desk: Desk, auth) -> None:
    second_file = multipart_body(
        (form_data("file", "a.png") + "\r\nContent-Type: image/png", PNG.decode("latin-1")),
        (form_data("file", "b.png") + "\r\nContent-Type: image/png", PNG.decode("latin-1")),
    )
    field_after = multipart_body(
        (form_data("file", "a.png") + "\r\nContent-Type: image/png", PNG.decode("latin-1")),
        (form_data("purpose"), "evidence"),
    )
    headers = {**auth(Role.CUSTOMER), "Content-Type": "multipart/form-data; boundary=b0undary"}

    for body in (second_file, field_after):
        response = await desk.http.post(UPLOADS, content=body, headers=headers)
        problem_fields(response, 400, "malformed_upload")
    await desk.nothing_left()


async def test_a_form_without_a_file_or_with_query_fields_is_refused(desk: Desk, auth) -> None:
    headers = {**auth(Role.CUSTOMER), "Content-Type": "multipart/form-data; boundary=b0undary"}
    no_file = await desk.http.post(UPLOADS, content=multipart_body((form_data("purpose"), "evidence")), headers=headers)
    query = await desk.http.post(
        UPLOADS,
        params={"purpose": "evidence"},
        files={"file": ("a.png", PNG, "image/png")},
        headers=auth(Role.CUSTOMER),
    )
    no_boundary = await desk.http.post(
        UPLOADS, content=b"x", headers={**auth(Role.CUSTOMER), "Content-Type": "multipart/form-data"}
    )
    bad_purpose = await upload(desk, auth(Role.CUSTOMER), "a.png", PNG, "image/png", purpose="selfie")

    assert problem_fields(no_file, 422, "validation_failed") == {"#/file"}
    assert problem_fields(query, 400, "malformed_upload") == {"purpose"}
    problem_fields(no_boundary, 400, "malformed_upload")
    assert problem_fields(bad_purpose, 422, "validation_failed") == {"#/purpose"}
    await desk.nothing_left()


async def test_a_customer_uploads_for_themselves_only(desk: Desk, auth) -> None:
    other = await upload(desk, auth(Role.CUSTOMER), "a.png", PNG, "image/png", customer_no="C-2")
    own = await upload(desk, auth(Role.CUSTOMER), "a.png", PNG, "image/png", customer_no="C-1")

    assert problem_fields(other, 403, "forbidden") == {"#/customer_no"}
    assert own.status_code == 201
    assert own.json()["customer_no"] == "C-1"


async def test_staff_upload_for_an_unknown_customer_is_refused(desk: Desk, auth) -> None:
    response = await raw_upload(desk, auth(Role.AGENT), "a.png", PNG, "image/png", customer_no="C-404")
    none = await raw_upload(desk, auth(Role.AGENT), "a.png", PNG, "image/png")

    assert problem_fields(response, 422, "unknown_reference") == {"customer_no"}
    assert none.status_code == 201
    assert none.json()["customer_no"] is None


async def test_a_customer_reaches_only_their_own_uploads(desk: Desk, auth) -> None:
    mine = (await upload(desk, auth(Role.CUSTOMER), "a.png", PNG, "image/png")).json()

    foreign = await desk.http.get(f"{UPLOADS}/{mine['id']}", headers=auth(Role.CUSTOMER, customer_no="C-2"))
    foreign_link = await desk.http.post(f"{UPLOADS}/{mine['id']}/link", headers=auth(Role.CUSTOMER, customer_no="C-2"))
    staff = await desk.http.get(f"{UPLOADS}/{mine['id']}", headers=auth(Role.REVIEWER))
    unknown = await desk.http.get(f"{UPLOADS}/{uuid.uuid4()}", headers=auth(Role.AGENT))

    problem_fields(foreign, 404, "attachment_not_found")
    problem_fields(foreign_link, 404, "attachment_not_found")
    assert staff.status_code == 200
    problem_fields(unknown, 404, "attachment_not_found")


async def test_an_upload_is_bound_by_its_own_size_and_time_not_by_the_json_body_limits(desk_with, auth) -> None:
    async with desk_with(max_body_bytes=1024, body_timeout_seconds=0.2, attachment_upload_timeout_seconds=0.5) as desk:
        slow_but_in_time = 0.3

        async def trickle(data: bytes, pause: float) -> AsyncIterator[bytes]:
            for at in range(0, len(data), 16_384):
                yield data[at : at + 16_384]
                await asyncio.sleep(pause)

        big = PNG + os.urandom(100_000)
        taken = await raw_upload(desk, auth(Role.CUSTOMER), "a.png", big, "image/png")
        in_time = await raw_upload(desk, auth(Role.CUSTOMER), "b.png", trickle(PNG, slow_but_in_time / 2), "image/png")
        too_slow = await raw_upload(desk, auth(Role.CUSTOMER), "c.jpg", trickle(JPEG, 0.2), "image/jpeg")
        json_body = await desk.http.put(
            "/v1/customers/C-9", json={"name": "x" * 2000, "level": "vip"}, headers=auth(Role.INTEGRATION)
        )

        assert taken.status_code == 201, taken.text
        assert in_time.status_code == 201, in_time.text
        problem_fields(too_slow, 408, "request_timeout")
        problem_fields(json_body, 413, "payload_too_large")
        assert len(desk.blobs()) == 2
        assert len(await desk.rows()) == 2


async def test_an_upload_is_not_held_for_an_idempotency_key_replay(desk: Desk, auth) -> None:
    """Keeping an upload's request to compare a retry with would hold the whole file: the key is not honoured."""
    headers = {**auth(Role.CUSTOMER), "Idempotency-Key": "upload-1"}
    first = await desk.http.post(UPLOADS, files={"file": ("a.png", PNG, "image/png")}, headers=headers)
    again = await desk.http.post(UPLOADS, files={"file": ("a.png", PNG, "image/png")}, headers=headers)

    assert first.status_code == again.status_code == 201
    assert "idempotent-replayed" not in again.headers
    assert first.json()["id"] != again.json()["id"]
    assert len(desk.blobs()) == 1
