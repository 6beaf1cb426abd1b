"""Files attached to records by id: each id checked (the caller's, the record's customer's, live, not infected, a
purpose the place takes, within the record's limit) in the record's own transaction; snapshots on the record, a link
row per attachment; customers reach files only through public links on their own records."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update

from app.domain.principal import Role
from app.persistence.tables import attachment_links, attachments
from tests.conftest import client_for
from tests.factories import (
    PDF_BYTES,
    act,
    iso,
    open_ticket,
    png,
    put,
    run_scans,
    seed_service_desk,
    ticket_body,
    unpicked_order_body,
    upload_file,
)
from tests.problems import problem_fields


@pytest.fixture
async def desk(client, auth):
    await seed_service_desk(client, auth)


async def _links(app: Any) -> list[Any]:
    async with app.state.services.database.engine.connect() as conn:
        return list(await conn.execute(select(attachment_links).order_by(attachment_links.c.linked_at)))


async def _set(app: Any, attachment_id: str, **values: Any) -> None:
    async with app.state.services.database.engine.begin() as conn:
        await conn.execute(update(attachments).where(attachments.c.id == uuid.UUID(attachment_id)).values(**values))


async def _tickets(client, auth) -> int:
    return len((await client.get("/v1/tickets?limit=100", headers=auth(Role.ADMIN))).json()["items"])


async def test_a_customer_opens_a_ticket_with_their_photo_and_it_is_linked_publicly(app, client, auth, desk):
    photo = await upload_file(client, auth(Role.CUSTOMER), name="异响.png")

    response = await client.post(
        "/v1/tickets", json=ticket_body(customer_no=None, attachments=[{"id": photo}]), headers=auth(Role.CUSTOMER)
    )

    assert response.status_code == 201, response.text
    [snapshot] = response.json()["attachments"]
    assert (snapshot["id"], snapshot["name"], snapshot["content_type"]) == (photo, "异响.png", "image/png")
    assert snapshot["external_url"] is None and "url" not in snapshot
    [link] = await _links(app)
    assert (str(link.attachment_id), link.subject_type, str(link.subject_id)) == (
        photo,
        "ticket",
        response.json()["id"],
    )
    assert (link.public, link.timeline_entry_id, link.linked_by) == (True, None, "customer-1")
    metadata = (await client.get(f"/v1/attachments/{photo}", headers=auth(Role.CUSTOMER))).json()
    assert metadata["attached_at"] is not None


async def test_another_customers_upload_is_not_found_by_its_field_and_nothing_is_written(app, client, auth, desk):
    theirs = await upload_file(client, auth(Role.CUSTOMER, customer_no="C-2"))
    mine = await upload_file(client, auth(Role.CUSTOMER))
    body = ticket_body(customer_no=None, attachments=[{"id": mine}, {"id": theirs}])

    response = await client.post("/v1/tickets", json=body, headers=auth(Role.CUSTOMER))

    assert problem_fields(response, 404, "attachment_not_found") == {"#/attachments/1/id"}
    assert await _tickets(client, auth) == 0
    assert await _links(app) == []


async def test_staff_cannot_put_one_customers_file_on_another_customers_record(app, client, auth, desk):
    for_c2 = await upload_file(client, auth(Role.AGENT), customer_no="C-2")
    ticket = await open_ticket(client, auth)  # C-1's

    response = await client.post(
        f"/v1/tickets/{ticket['id']}/comments",
        json={"body": "见附件", "attachments": [{"id": for_c2}]},
        headers=auth(Role.AGENT),
    )

    assert problem_fields(response, 404, "attachment_not_found") == {"#/attachments/0/id"}
    assert await _links(app) == []


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"deleted_at": "now"}, 404, "attachment_not_found"),
        ({"scan_status": "infected"}, 409, "attachment_infected"),
    ],
)
async def test_a_deleted_or_infected_file_cannot_be_attached(app, client, auth, desk, change, status, code):
    photo = await upload_file(client, auth(Role.AGENT), customer_no="C-1")
    ticket = await open_ticket(client, auth)
    values = {k: (app.state.services.clock.now() if v == "now" else v) for k, v in change.items()}
    await _set(app, photo, **values)

    response = await client.post(
        f"/v1/tickets/{ticket['id']}/comments",
        json={"body": "x", "attachments": [{"id": photo}]},
        headers=auth(Role.AGENT),
    )

    assert problem_fields(response, status, code) == {"#/attachments/0/id"}
    timeline = (await client.get(f"/v1/tickets/{ticket['id']}/timeline", headers=auth(Role.AGENT))).json()["items"]
    assert [e["kind"] for e in timeline if e["kind"] == "comment"] == []


@pytest.mark.parametrize(
    ("attachments", "pointer"),
    [
        ([{"id": "not-a-uuid"}], "#/attachments/0/id"),
        ([{"id": 42}], "#/attachments/0/id"),
        ([{"id": str(uuid.uuid4()), "url": "https://x/y"}], "#/attachments/0/url"),
        ({"id": str(uuid.uuid4())}, "#/attachments"),
        (["a-string"], "#/attachments/0"),
    ],
)
async def test_attachments_of_the_wrong_json_type_are_named(client, auth, desk, attachments, pointer):
    ticket = await open_ticket(client, auth)

    response = await client.post(
        f"/v1/tickets/{ticket['id']}/comments", json={"body": "x", "attachments": attachments}, headers=auth(Role.AGENT)
    )

    assert pointer in problem_fields(response, 422, "validation_failed")


async def test_the_same_id_twice_is_refused(client, auth, desk):
    photo = await upload_file(client, auth(Role.AGENT))
    ticket = await open_ticket(client, auth)

    response = await client.post(
        f"/v1/tickets/{ticket['id']}/comments",
        json={"body": "x", "attachments": [{"id": photo}, {"id": photo}]},
        headers=auth(Role.AGENT),
    )

    assert problem_fields(response, 422, "validation_failed") == {"#/attachments/1/id"}


async def test_a_record_holds_at_most_the_configured_number_of_files(app_with, auth, desk):
    async with client_for(app_with(attachments_per_record=2)) as http:
        agent = auth(Role.AGENT)
        files = [await upload_file(http, agent, data=png(n)) for n in range(3)]
        ticket = (
            await http.post("/v1/tickets", json=ticket_body(attachments=[{"id": files[0]}]), headers=agent)
        ).json()
        comments = f"/v1/tickets/{ticket['id']}/comments"

        second = await http.post(comments, json={"body": "x", "attachments": [{"id": files[1]}]}, headers=agent)
        third = await http.post(comments, json={"body": "y", "attachments": [{"id": files[2]}]}, headers=agent)

    assert second.status_code == 201, second.text
    assert problem_fields(third, 422, "too_many_attachments") == {"#/attachments"}


async def test_internal_note_files_never_reach_the_customer_public_reply_files_do(app, client, auth, desk):
    agent, customer = auth(Role.AGENT), auth(Role.CUSTOMER)
    manual = await upload_file(client, agent, name="说明书.pdf", data=PDF_BYTES, content_type="application/pdf")
    note = await upload_file(client, agent, data=png(1), customer_no="C-1")
    ticket = await open_ticket(client, auth)
    comments = f"/v1/tickets/{ticket['id']}/comments"
    await client.post(comments, json={"body": "请参考说明书", "attachments": [{"id": manual}]}, headers=agent)
    internal = {"body": "内部: 疑似人为损坏", "visibility": "internal", "attachments": [{"id": note}]}
    assert (await client.post(comments, json=internal, headers=agent)).status_code == 201
    await run_scans(app)

    seen = (await client.get(f"/v1/tickets/{ticket['id']}/timeline", headers=customer)).json()["items"]
    shared = [a["id"] for entry in seen for a in entry["attachments"]]
    manual_read = await client.get(f"/v1/attachments/{manual}", headers=customer)
    manual_link = await client.post(f"/v1/attachments/{manual}/link", headers=customer)
    note_read = await client.get(f"/v1/attachments/{note}", headers=customer)
    note_link = await client.post(f"/v1/attachments/{note}/link", headers=customer)
    other = await client.post(f"/v1/attachments/{manual}/link", headers=auth(Role.CUSTOMER, customer_no="C-2"))
    staff_note = await client.post(f"/v1/attachments/{note}/link", headers=agent)

    assert shared == [manual]
    assert (manual_read.status_code, manual_link.status_code) == (200, 200)
    assert (note_read.status_code, note_link.status_code) == (404, 404)
    assert other.status_code == 404  # a public link on someone else's ticket reaches no one else
    assert staff_note.status_code == 200
    links = {str(link.attachment_id): link.public for link in await _links(app)}
    assert links == {manual: True, note: False}


async def test_a_task_reports_files_are_staff_only(app, client, auth, desk):
    agent = auth(Role.AGENT, sub="agent-1")
    ticket = await open_ticket(client, auth)
    await act(client, auth(Role.MANAGER), ticket, "assign", assignee="agent-1")
    due = "2099-01-01T00:00:00Z"
    task = await client.post(
        f"/v1/tickets/{ticket['id']}/tasks",
        json={"title": "上门检测", "due_at": due, "assignee": "agent-1"},
        headers=agent,
    )
    assert task.status_code == 201, task.text
    task_id = task.json()["id"]
    await client.post(f"/v1/tasks/{task_id}/actions/start", json={}, headers=agent)
    photo = await upload_file(client, agent, customer_no="C-1")
    report = {
        "result": "更换风机",
        "completed_at": iso(datetime.now(UTC)),
        "hours_worked": "1.50",
        "attachments": [{"id": photo}],
    }

    response = await client.post(f"/v1/tasks/{task_id}/actions/report", json=report, headers=agent)
    await run_scans(app)

    assert response.status_code == 200, response.text
    assert [a["id"] for a in response.json()["attachments"]] == [photo]
    [link] = await _links(app)
    assert (link.subject_type, str(link.subject_id), link.public) == ("task", task_id, False)
    assert (await client.post(f"/v1/attachments/{photo}/link", headers=auth(Role.CUSTOMER))).status_code == 404


async def test_a_customer_reaches_a_file_staff_attached_to_their_after_sales_order(app, client, auth, desk):
    agent, customer = auth(Role.AGENT), auth(Role.CUSTOMER)
    await put(client, auth(Role.INTEGRATION), "/v1/orders/SO-UNPICKED", unpicked_order_body())
    label = await upload_file(client, agent, name="退货单.pdf", data=PDF_BYTES, content_type="application/pdf")
    unlinked = await upload_file(client, agent, data=png(3))
    body = {"order_no": "SO-UNPICKED", "type": "refund", "reason_code": "changed_mind", "attachments": [{"id": label}]}
    created = await client.post("/v1/after-sales", json=body, headers=agent)
    await run_scans(app)

    mine = await client.post(f"/v1/attachments/{label}/link", headers=customer)
    other = await client.get(f"/v1/attachments/{label}", headers=auth(Role.CUSTOMER, customer_no="C-2"))
    not_linked = await client.get(f"/v1/attachments/{unlinked}", headers=customer)

    assert created.status_code == 201, created.text
    assert [a["id"] for a in created.json()["attachments"]] == [label]
    assert mine.status_code == 200 and "/content?expires=" in mine.json()["url"]
    assert (other.status_code, not_linked.status_code) == (404, 404)
