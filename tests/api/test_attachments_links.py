"""Downloads only through short-lived signed links: a clean file's link serves its bytes without credentials, with the
headers that keep a browser from running them; a pending or infected file gets no link; a tampered or expired link
is 403, a foreign id 404."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from sqlalchemy import update

from app.domain.principal import Role
from app.persistence.tables import attachments
from tests.api.test_attachments import JPEG, PDF, PNG, UPLOADS, Desk, raw_upload, upload
from tests.api.test_attachments import desk_with as desk_with  # the fixture, shared
from tests.conftest import MovableClock
from tests.problems import problem_fields


@pytest.fixture
async def timed(desk_with, clock: MovableClock) -> AsyncIterator[Desk]:
    async with desk_with(clock) as opened:
        yield opened


async def scanned(desk: Desk, response: Any) -> dict[str, Any]:
    """The uploaded file once the scan pass has run (no scanner configured: it is marked clean)."""
    assert response.status_code == 201, response.text
    assert await desk.app.state.services.attachments.scan() == 1
    async with desk.app.state.services.database.engine.connect() as conn:
        row = (
            await conn.execute(attachments.select().where(attachments.c.id == uuid.UUID(response.json()["id"])))
        ).one()
    return {"id": response.json()["id"], "scan_status": row.scan_status, "scan_detail": row.scan_detail}


async def link_of(desk: Desk, headers: dict[str, str], attachment_id: str) -> dict[str, Any]:
    response = await desk.http.post(f"{UPLOADS}/{attachment_id}/link", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def relative(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def test_a_clean_photo_is_served_inline_by_its_link_without_credentials(timed: Desk, auth, clock) -> None:
    attachment = await scanned(timed, await upload(timed, auth(Role.CUSTOMER), "坏了的杯子.png", PNG, "image/png"))
    assert (attachment["scan_status"], attachment["scan_detail"]) == ("clean", "not scanned: no scanner is configured")

    link = await link_of(timed, auth(Role.CUSTOMER), attachment["id"])
    served = await timed.http.get(relative(link["url"]))

    assert link["url"].startswith(f"http://test{UPLOADS}/{attachment['id']}/content?expires=")
    assert link["expires_at"] == (clock.now() + timedelta(seconds=300)).replace(microsecond=0).isoformat().replace(
        "+00:00", "Z"
    )
    assert served.status_code == 200
    assert served.content == PNG
    assert served.headers["content-type"] == "image/png"
    assert served.headers["content-length"] == str(len(PNG))
    assert served.headers["content-disposition"] == (
        f"inline; filename=\"_____.png\"; filename*=UTF-8''{quote('坏了的杯子.png', safe='')}"
    )
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert served.headers["cache-control"] == "private, no-store"


async def test_a_document_is_served_as_an_attachment_only(timed: Desk, auth) -> None:
    attachment = await scanned(timed, await raw_upload(timed, auth(Role.AGENT), "report.pdf", PDF, "application/pdf"))

    link = await link_of(timed, auth(Role.AGENT), attachment["id"])
    served = await timed.http.get(relative(link["url"]))

    assert served.status_code == 200
    assert served.content == PDF
    assert served.headers["content-type"] == "application/pdf"
    assert served.headers["content-disposition"] == "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"


async def test_a_pending_file_gets_no_link(timed: Desk, auth) -> None:
    pending = (await upload(timed, auth(Role.CUSTOMER), "a.jpg", JPEG, "image/jpeg")).json()

    response = await timed.http.post(f"{UPLOADS}/{pending['id']}/link", headers=auth(Role.CUSTOMER))

    problem_fields(response, 409, "attachment_pending_scan")
    assert response.json()["scan_status"] == "pending"


async def test_an_expired_link_is_refused(timed: Desk, auth, clock: MovableClock) -> None:
    attachment = await scanned(timed, await upload(timed, auth(Role.CUSTOMER), "a.jpg", JPEG, "image/jpeg"))
    url = relative((await link_of(timed, auth(Role.CUSTOMER), attachment["id"]))["url"])

    clock.advance(timedelta(seconds=299))
    still = await timed.http.get(url)
    clock.advance(timedelta(seconds=1))
    expired = await timed.http.get(url)

    assert still.status_code == 200
    problem_fields(expired, 403, "link_expired")


async def test_a_tampered_link_is_refused(timed: Desk, auth) -> None:
    first = await scanned(timed, await upload(timed, auth(Role.CUSTOMER), "a.jpg", JPEG, "image/jpeg"))
    second = await scanned(timed, await upload(timed, auth(Role.CUSTOMER), "b.png", PNG, "image/png"))
    link = urlsplit((await link_of(timed, auth(Role.CUSTOMER), first["id"]))["url"])
    query = {key: values[0] for key, values in parse_qs(link.query).items()}
    signature = query["signature"]
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]

    cases = [
        f"{link.path}?expires={int(query['expires']) + 3600}&signature={signature}",  # a longer life
        f"{link.path}?expires={query['expires']}&signature={flipped}",
        f"{link.path}?expires={query['expires']}&signature=",
        f"{UPLOADS}/{second['id']}/content?expires={query['expires']}&signature={signature}",  # another file
    ]
    for url in cases:
        problem_fields(await timed.http.get(url), 403, "link_invalid")
    missing = await timed.http.get(f"{link.path}?expires={query['expires']}")
    problem_fields(missing, 422, "validation_failed")


async def test_a_link_to_a_file_found_infected_meanwhile_serves_nothing(timed: Desk, auth) -> None:
    attachment = await scanned(timed, await upload(timed, auth(Role.CUSTOMER), "a.jpg", JPEG, "image/jpeg"))
    url = relative((await link_of(timed, auth(Role.CUSTOMER), attachment["id"]))["url"])
    async with timed.app.state.services.database.engine.begin() as conn:
        await conn.execute(
            update(attachments)
            .where(attachments.c.id == uuid.UUID(attachment["id"]))
            .values(scan_status="infected", scan_detail="rescanned: Win.Test.EICAR_HDB-1")
        )

    served = await timed.http.get(url)
    link = await timed.http.post(f"{UPLOADS}/{attachment['id']}/link", headers=auth(Role.CUSTOMER))

    problem_fields(served, 409, "attachment_infected")
    problem_fields(link, 409, "attachment_infected")


async def test_a_signed_link_to_no_attachment_is_404(timed: Desk, auth) -> None:
    attachment = await scanned(timed, await upload(timed, auth(Role.CUSTOMER), "a.jpg", JPEG, "image/jpeg"))
    url = relative((await link_of(timed, auth(Role.CUSTOMER), attachment["id"]))["url"])
    async with timed.app.state.services.database.engine.begin() as conn:
        await conn.execute(attachments.delete())

    problem_fields(await timed.http.get(url), 404, "attachment_not_found")


async def test_a_customer_gets_no_link_to_another_customers_file(timed: Desk, auth) -> None:
    attachment = await scanned(timed, await upload(timed, auth(Role.CUSTOMER), "a.jpg", JPEG, "image/jpeg"))

    foreign = await timed.http.post(
        f"{UPLOADS}/{attachment['id']}/link", headers=auth(Role.CUSTOMER, customer_no="C-2")
    )
    staff = await timed.http.post(f"{UPLOADS}/{attachment['id']}/link", headers=auth(Role.MANAGER))

    problem_fields(foreign, 404, "attachment_not_found")
    assert staff.status_code == 200
