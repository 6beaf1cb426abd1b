"""Retention with a moved clock and a real local store in the test's own directory: an abandoned upload is deleted
with its bytes, bytes another live upload shares stay, a held file stays; attached files go the configured days after
their records finished, unless held or still on an open record."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from app.domain.clock import SystemClock
from app.domain.principal import Role
from tests.api.test_attachments import Desk
from tests.api.test_attachments import desk_with as desk_with  # the fixture, shared
from tests.conftest import MovableClock
from tests.factories import act, open_ticket, png, run_scans, seed_service_desk, upload_file


@pytest.fixture
async def timed(app, desk_with, clock: MovableClock) -> AsyncIterator[Desk]:
    """A desk on the suite's database (`app`: its tables are emptied after the test) that deletes abandoned uploads
    after 24 hours."""
    async with desk_with(clock, attachment_unattached_hours=24) as opened:
        await seed_service_desk(opened.http, _Auth(opened))
        yield opened


@pytest.fixture
async def retaining(app, desk_with, clock: MovableClock) -> AsyncIterator[Desk]:
    """Likewise, keeping attached files 30 days after their records finished."""
    async with desk_with(clock, attachment_retention_days=30) as opened:
        await seed_service_desk(opened.http, _Auth(opened))
        yield opened


class _Auth:
    """`auth(role, …)` headers signed by the desk's own app."""

    def __init__(self, desk: Desk) -> None:
        self._desk = desk

    def __call__(self, role: Role, *, sub: str | None = None, customer_no: str | None = None) -> dict[str, str]:
        if role is Role.CUSTOMER:
            customer_no = customer_no or "C-1"
        services = self._desk.app.state.services
        token = services.tokens.issue(
            subject=sub or f"{role.value}-1",
            roles=[role],
            customer_no=customer_no,
            business_lines=(),
            now=SystemClock().now(),  # the token's own time is real; the moved clock stays within its life
            ttl=timedelta(days=400),
        )
        return {"Authorization": f"Bearer {token}"}


def _stored(desk: Desk, data: bytes) -> bool:
    digest = hashlib.sha256(data).hexdigest()
    return any(digest in path for path in desk.blobs())


async def _row(desk: Desk, attachment_id: str) -> Any:
    return next(row for row in await desk.rows() if row.id == uuid.UUID(attachment_id))


async def _retention(desk: Desk) -> int:
    return int(await desk.app.state.services.attachment_retention.run())


async def test_an_abandoned_upload_goes_with_its_bytes_shared_bytes_and_held_files_stay(timed: Desk, clock) -> None:
    auth = _Auth(timed)
    agent, admin = auth(Role.AGENT), auth(Role.ADMIN)
    abandoned = await upload_file(timed.http, agent, data=png(1))
    shared_orphan = await upload_file(timed.http, agent, data=png(2))
    shared_kept = await upload_file(timed.http, agent, data=png(2), customer_no="C-1")
    held = await upload_file(timed.http, agent, data=png(3))
    await open_ticket(timed.http, auth, attachments=[{"id": shared_kept}])
    hold = await timed.http.put(f"/v1/attachments/{held}/legal-hold", json={"legal_hold": True}, headers=admin)
    clock.advance(timedelta(hours=23))
    young = await upload_file(timed.http, agent, data=png(4))
    assert await _retention(timed) == 0  # nothing is 24 hours old yet
    clock.advance(timedelta(hours=2))

    await _retention(timed)

    assert hold.status_code == 200 and hold.json()["legal_hold"] is True
    assert (await _row(timed, abandoned)).deleted_at == clock.now()
    assert not _stored(timed, png(1))
    assert (await _row(timed, shared_orphan)).deleted_at is not None
    assert _stored(timed, png(2))  # the attached upload still has these bytes
    assert (await _row(timed, shared_kept)).deleted_at is None
    assert (await _row(timed, held)).deleted_at is None and _stored(timed, png(3))
    assert (await _row(timed, young)).deleted_at is None and _stored(timed, png(4))
    gone = await timed.http.get(f"/v1/attachments/{abandoned}", headers=agent)
    assert gone.status_code == 404
    await run_scans(timed.app)  # a deleted file, pending when it went, is not scanned (its bytes are gone)
    assert (await _row(timed, abandoned)).scan_attempts == 0
    assert (await _row(timed, held)).scan_status == "clean"
    assert await _retention(timed) == 0  # a second pass finds nothing more


async def test_a_released_hold_lets_retention_take_the_file(timed: Desk, clock) -> None:
    auth = _Auth(timed)
    held = await upload_file(timed.http, auth(Role.AGENT), data=png(5))
    url = f"/v1/attachments/{held}/legal-hold"
    await timed.http.put(url, json={"legal_hold": True}, headers=auth(Role.ADMIN))
    clock.advance(timedelta(hours=30))
    assert await _retention(timed) == 0

    released = await timed.http.put(url, json={"legal_hold": False}, headers=auth(Role.ADMIN))

    assert released.status_code == 200, released.text
    assert released.json()["legal_hold"] is False
    await _retention(timed)
    assert (await _row(timed, held)).deleted_at is not None and not _stored(timed, png(5))
    again = await timed.http.put(url, json={"legal_hold": True}, headers=auth(Role.ADMIN))
    assert (again.status_code, again.json()["code"]) == (404, "attachment_not_found")


async def test_attached_files_go_the_configured_days_after_their_records_finished(retaining: Desk, clock) -> None:
    auth = _Auth(retaining)
    agent, admin = auth(Role.AGENT), auth(Role.ADMIN)
    finished_only = await upload_file(retaining.http, agent, data=png(6), customer_no="C-1")
    also_open = await upload_file(retaining.http, agent, data=png(7), customer_no="C-1")
    held = await upload_file(retaining.http, agent, data=png(8), customer_no="C-1")
    files = [{"id": finished_only}, {"id": also_open}, {"id": held}]
    done = await open_ticket(retaining.http, auth, attachments=files)
    still_open = await open_ticket(retaining.http, auth)
    note = {"body": "同一张照片", "attachments": [{"id": also_open}]}
    assert (await retaining.http.post(f"/v1/tickets/{still_open['id']}/comments", json=note, headers=agent)).is_success
    assert (await act(retaining.http, agent, done, "cancel", reason="客户撤回")).status_code == 200
    await retaining.http.put(f"/v1/attachments/{held}/legal-hold", json={"legal_hold": True}, headers=admin)
    clock.advance(timedelta(days=29))
    assert await _retention(retaining) == 0
    clock.advance(timedelta(days=2))

    await _retention(retaining)

    assert (await _row(retaining, finished_only)).deleted_at is not None and not _stored(retaining, png(6))
    assert (await _row(retaining, also_open)).deleted_at is None
    assert (await _row(retaining, held)).deleted_at is None
    ticket = (await retaining.http.get(f"/v1/tickets/{done['id']}", headers=agent)).json()
    assert [a["id"] for a in ticket["attachments"]] == [finished_only, also_open, held]  # the snapshot stays


@pytest.mark.parametrize(
    ("role", "body", "status"),
    [
        (Role.MANAGER, {"legal_hold": True}, 403),
        (Role.CUSTOMER, {"legal_hold": True}, 403),
        (Role.ADMIN, {"legal_hold": "yes"}, 422),
        (Role.ADMIN, {"legal_hold": 1}, 422),
        (Role.ADMIN, {}, 422),
        (Role.ADMIN, {"legal_hold": True, "until": "2030-01-01"}, 422),
    ],
)
async def test_only_admins_set_a_legal_hold_and_only_as_a_boolean(timed: Desk, role, body, status) -> None:
    auth = _Auth(timed)
    file = await upload_file(timed.http, auth(Role.AGENT), data=png(9))

    response = await timed.http.put(f"/v1/attachments/{file}/legal-hold", json=body, headers=auth(role))

    assert response.status_code == status, response.text
    assert (await _row(timed, file)).legal_hold is False


async def test_a_legal_hold_on_an_unknown_file_is_not_found(timed: Desk) -> None:
    response = await timed.http.put(
        f"/v1/attachments/{uuid.uuid4()}/legal-hold", json={"legal_hold": True}, headers=_Auth(timed)(Role.ADMIN)
    )

    assert (response.status_code, response.json()["code"]) == (404, "attachment_not_found")
