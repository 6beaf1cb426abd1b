"""The inbox (站内消息): who hears of which ticket action, the order they read it in, and reading it."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest
from sqlalchemy import select

from app.domain.notifications import NotificationKind, Subject
from app.domain.principal import Role
from app.persistence.tables import notifications, outbox
from app.persistence.unit_of_work import SqlUnitOfWorkFactory
from app.services.notifications import notify
from app.web.pagination import encode_cursor
from tests.conftest import client_for
from tests.factories import act, agent_body, open_ticket, put, seed_service_desk

INBOX = "/v1/me/notifications"


@pytest.fixture
async def desk(client, auth):
    """Group east: agent-1 (supervisor manager-1), agent-2 and manager-1, plus an inactive agent-3; agent-4 in
    group west."""
    await seed_service_desk(client, auth)
    admin = auth(Role.ADMIN)
    await put(client, admin, "/v1/groups/west", {"name": "华西维修组"})
    await put(client, admin, "/v1/agents/agent-3", agent_body(name="赵工", active=False))
    await put(client, admin, "/v1/agents/agent-4", agent_body(name="钱工", groups=["west"]))


def staff(auth, sub: str) -> dict[str, str]:
    return auth(Role.MANAGER if sub.startswith("manager") else Role.AGENT, sub=sub)


async def inbox(client, headers, **params):
    response = await client.get(INBOX, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def recipients_of(client, auth, ticket, *, among=("agent-1", "agent-2", "agent-3", "agent-4", "manager-1")):
    """{user: [kinds]} of the notifications about `ticket` in each user's inbox."""
    found = {}
    for sub in among:
        items = (await inbox(client, staff(auth, sub)))["items"]
        kinds = [n["kind"] for n in items if n["subject"]["id"] == ticket["id"]]
        if kinds:
            found[sub] = kinds
    return found


async def test_assigning_a_ticket_notifies_the_new_assignee_and_not_the_manager_who_assigned(client, auth, desk):
    ticket = await open_ticket(client, auth)

    response = await act(client, staff(auth, "manager-1"), ticket, "assign", assignee="agent-1")

    assert response.status_code == 200, response.text
    assert await recipients_of(client, auth, ticket) == {"agent-1": ["assignment"]}
    (item,) = (await inbox(client, staff(auth, "agent-1")))["items"]
    assert item["subject"] == {"type": "ticket", "id": ticket["id"], "ref": ticket["number"]}
    assert item["title"] == f"工单 {ticket['number']} 已派给您"
    assert (item["unread"], item["read_at"], item["data"]["actor"]) == (True, None, "manager-1")


async def test_titles_follow_the_callers_accept_language(client, auth, desk):
    ticket = await open_ticket(client, auth)
    await act(client, staff(auth, "manager-1"), ticket, "assign", assignee="agent-1")

    english = await inbox(client, {**staff(auth, "agent-1"), "Accept-Language": "en-GB,zh;q=0.5"})

    assert english["items"][0]["title"] == f"Ticket {ticket['number']} has been assigned to you"


async def test_claiming_a_ticket_notifies_nobody(client, auth, desk):
    ticket = await open_ticket(client, auth)

    await act(client, staff(auth, "agent-1"), ticket, "claim")

    assert await recipients_of(client, auth, ticket) == {}


async def test_a_transfer_to_an_agent_notifies_that_agent(client, auth, desk):
    ticket = await open_ticket(client, auth)
    await act(client, staff(auth, "agent-1"), ticket, "claim")

    await act(client, staff(auth, "agent-1"), ticket, "transfer", assignee="agent-2", reason="需要专业技能")

    assert await recipients_of(client, auth, ticket) == {"agent-2": ["transfer"]}


async def test_a_transfer_to_a_groups_pool_notifies_its_active_members_only(client, auth, desk):
    ticket = await open_ticket(client, auth)
    await act(client, staff(auth, "agent-1"), ticket, "claim")

    response = await act(client, staff(auth, "agent-1"), ticket, "transfer", group="east", reason="下班")

    assert response.json()["status"] == "new"
    assert await recipients_of(client, auth, ticket) == {"agent-2": ["transfer"], "manager-1": ["transfer"]}
    item = (await inbox(client, staff(auth, "agent-2")))["items"][0]
    assert item["title"] == f"工单 {ticket['number']} 已转入华东维修组待领取池"
    assert item["data"]["group"] == "east"


async def test_an_escalation_reaches_the_assignee_and_their_supervisor(client, auth, desk):
    ticket = await open_ticket(client, auth)
    await act(client, staff(auth, "agent-1"), ticket, "claim")

    response = await act(client, staff(auth, "agent-2"), ticket, "escalate", reason="客户投诉升级")

    assert response.status_code == 200, response.text
    assert await recipients_of(client, auth, ticket) == {"agent-1": ["escalation"], "manager-1": ["escalation"]}
    item = (await inbox(client, staff(auth, "manager-1")))["items"][0]
    assert (item["data"]["escalation_level"], item["title"]) == (1, f"工单 {ticket['number']} 已升级至 1 级")


async def test_an_assignee_escalating_their_own_ticket_notifies_only_the_supervisor(client, auth, desk):
    ticket = await open_ticket(client, auth)
    await act(client, staff(auth, "agent-1"), ticket, "claim")

    await act(client, staff(auth, "agent-1"), ticket, "escalate", reason="需要主管介入")

    assert await recipients_of(client, auth, ticket) == {"manager-1": ["escalation"]}


async def test_escalating_an_unassigned_ticket_notifies_its_groups_active_members(client, auth, desk):
    ticket = await open_ticket(client, auth, group_key="east")

    await act(client, staff(auth, "agent-1"), ticket, "escalate", reason="客户投诉升级")

    assert await recipients_of(client, auth, ticket) == {"agent-2": ["escalation"], "manager-1": ["escalation"]}


async def test_an_urge_that_raises_the_escalation_level_notifies_as_an_escalation(app_with, auth, desk):
    async with client_for(app_with(urge_min_interval_seconds=0, urge_escalate_after=2)) as client:
        ticket = await open_ticket(client, auth)
        await act(client, staff(auth, "agent-1"), ticket, "claim")
        customer = auth(Role.CUSTOMER)

        await act(client, customer, ticket, "urge")
        after_one = await recipients_of(client, auth, ticket)
        second = await act(client, customer, ticket, "urge")

        assert second.json()["urge_count"] == 2, second.text
        assert after_one == {}
        assert await recipients_of(client, auth, ticket) == {"agent-1": ["escalation"], "manager-1": ["escalation"]}
        item = (await inbox(client, {**staff(auth, "agent-1"), "Accept-Language": "en"}))["items"][0]
        assert item["title"] == f"The customer keeps urging ticket {ticket['number']}; it was escalated to level 1"


async def test_a_customer_reply_notifies_the_assignee(client, auth, desk):
    ticket = await open_ticket(client, auth)
    agent = staff(auth, "agent-1")
    await act(client, agent, ticket, "claim")
    await act(client, agent, ticket, "start")
    await act(client, agent, ticket, "request_info", question="请提供噪音视频")

    response = await act(client, auth(Role.CUSTOMER), ticket, "customer_reply", message="视频已上传")

    assert response.status_code == 200, response.text
    assert await recipients_of(client, auth, ticket) == {"agent-1": ["customer_reply"]}


async def test_the_inbox_lists_unread_first_then_newest_with_the_unread_count(client, auth, desk):
    manager = staff(auth, "manager-1")
    tickets = [await open_ticket(client, auth) for _ in range(3)]
    for ticket in tickets:
        await act(client, manager, ticket, "assign", assignee="agent-1")
    agent = staff(auth, "agent-1")
    oldest, middle, newest = (await inbox(client, agent))["items"][::-1]
    await client.post(f"{INBOX}/{middle['id']}/read", headers=agent)

    everything = await inbox(client, agent)
    unread_only = await inbox(client, agent, unread="true")
    walked, cursor = [], None
    while True:
        page = await inbox(client, agent, limit=1, **({"cursor": cursor} if cursor else {}))
        walked += [n["id"] for n in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert [n["id"] for n in everything["items"]] == [newest["id"], oldest["id"], middle["id"]]
    assert [n["unread"] for n in everything["items"]] == [True, True, False]
    assert [n["id"] for n in unread_only["items"]] == [newest["id"], oldest["id"]]
    assert (everything["unread_count"], unread_only["unread_count"], page["unread_count"]) == (2, 2, 2)
    assert walked == [n["id"] for n in everything["items"]]


async def test_marking_a_notification_read_twice_answers_the_same_notification(client, auth, desk):
    ticket = await open_ticket(client, auth)
    await act(client, staff(auth, "manager-1"), ticket, "assign", assignee="agent-1")
    agent = staff(auth, "agent-1")
    (item,) = (await inbox(client, agent))["items"]

    first = await client.post(f"{INBOX}/{item['id']}/read", headers=agent)
    second = await client.post(f"{INBOX}/{item['id']}/read", headers=agent)

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["unread"] is False
    assert first.json()["read_at"] is not None
    assert second.json() == first.json()
    assert (await inbox(client, agent))["unread_count"] == 0


async def test_someone_elses_notification_is_not_found(client, auth, desk):
    ticket = await open_ticket(client, auth)
    await act(client, staff(auth, "manager-1"), ticket, "assign", assignee="agent-1")
    (item,) = (await inbox(client, staff(auth, "agent-1")))["items"]

    theirs = await client.post(f"{INBOX}/{item['id']}/read", headers=staff(auth, "agent-2"))
    unknown = await client.post(f"{INBOX}/{uuid4()}/read", headers=staff(auth, "agent-2"))

    assert (theirs.status_code, theirs.json()["code"]) == (404, "notification_not_found")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "notification_not_found")
    assert (await inbox(client, staff(auth, "agent-1")))["unread_count"] == 1


async def test_read_all_marks_every_unread_notification_of_mine_only(client, auth, desk):
    manager = staff(auth, "manager-1")
    for assignee in ("agent-1", "agent-1", "agent-2"):
        await act(client, manager, await open_ticket(client, auth), "assign", assignee=assignee)
    agent = staff(auth, "agent-1")

    first = await client.post(f"{INBOX}/read-all", headers=agent)
    again = await client.post(f"{INBOX}/read-all", headers=agent)

    assert (first.status_code, first.json(), again.json()) == (200, {"marked_read": 2}, {"marked_read": 0})
    assert (await inbox(client, agent))["unread_count"] == 0
    assert (await inbox(client, staff(auth, "agent-2")))["unread_count"] == 1


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.INTEGRATION])
async def test_customers_and_integrations_have_no_inbox(client, auth, role):
    headers = auth(role)

    answers = [
        await client.get(INBOX, headers=headers),
        await client.post(f"{INBOX}/{uuid4()}/read", headers=headers),
        await client.post(f"{INBOX}/read-all", headers=headers),
    ]

    assert [(r.status_code, r.json()["code"]) for r in answers] == [(403, "role_not_allowed")] * 3


SOME_ID = UUID("01936d2e-7c4a-7c1e-9a51-3f0e4b2d8a10")


@pytest.mark.parametrize(
    "cursor",
    ["!!", "WyJ4Il0", encode_cursor(()), encode_cursor((SOME_ID,)), encode_cursor(("x", SOME_ID))],
    ids=["not-base64", "unknown-tag", "empty", "one-key", "wrong-types"],
)
async def test_a_cursor_this_list_did_not_issue_is_a_422(client, auth, cursor):
    response = await client.get(INBOX, params={"cursor": cursor}, headers=auth(Role.AGENT))

    problem = response.json()
    assert (response.status_code, problem["code"]) == (422, "invalid_cursor")
    assert problem["errors"][0]["parameter"] == "cursor"


async def test_each_notification_is_also_an_outbox_event_for_gateways(app, client, auth, desk):
    ticket = await open_ticket(client, auth)
    await act(client, staff(auth, "agent-1"), ticket, "claim")
    await act(client, staff(auth, "agent-1"), ticket, "transfer", group="east", reason="下班")

    async with app.state.services.database.engine.connect() as conn:
        rows = (await conn.execute(select(notifications.c.id, notifications.c.recipient))).all()
        events = (
            await conn.execute(
                select(outbox.c.aggregate_id, outbox.c.aggregate_type, outbox.c.payload).where(
                    outbox.c.type == "notification.created"
                )
            )
        ).all()

    assert {(row.id, row.recipient) for row in rows} == {
        (event.aggregate_id, event.payload["recipient"]) for event in events
    }
    assert len(events) == 2
    assert {event.aggregate_type for event in events} == {"notification"}
    assert all(event.payload["subject"]["ref"] == ticket["number"] for event in events)
    assert all(event.payload["title"]["en"].startswith(f"Ticket {ticket['number']}") for event in events)


async def test_a_dedupe_key_makes_a_notification_happen_once(app, client, auth):
    uow = SqlUnitOfWorkFactory(app.state.services.database)
    now = app.state.services.clock.now()
    subject = Subject("task", uuid4(), "K-2026-000001")
    title = {"zh-CN": "任务即将到期", "en": "A task is due soon"}

    async def remind(recipients, dedupe_key):
        async with uow.write() as tx:
            created = await notify(
                tx,
                recipients=recipients,
                kind=NotificationKind.TASK_DUE_SOON,
                subject=subject,
                title=title,
                now=now,
                dedupe_key=dedupe_key,
            )
            await tx.commit()
        return created

    single = [await remind(["agent-1"], "task:1:due_soon") for _ in range(2)]
    several = [await remind(["agent-1", "agent-2"], "task:2:due_soon") for _ in range(2)]

    assert (single, several) == ([1, 0], [2, 0])
    assert (await inbox(client, staff(auth, "agent-1")))["unread_count"] == 2
    async with app.state.services.database.engine.connect() as conn:
        keys = set((await conn.execute(select(notifications.c.dedupe_key))).scalars())
        events = (await conn.execute(select(outbox.c.id).where(outbox.c.type == "notification.created"))).all()
    assert keys == {"task:1:due_soon", "task:2:due_soon:agent-1", "task:2:due_soon:agent-2"}
    assert len(events) == 3


async def test_notify_skips_the_actor_missing_and_repeated_recipients(app):
    uow = SqlUnitOfWorkFactory(app.state.services.database)

    async with uow.write() as tx:
        created = await notify(
            tx,
            recipients=["agent-1", None, "agent-1", "agent-2"],
            kind=NotificationKind.APPROVAL_NEEDED,
            subject=Subject("approval", uuid4(), "AP-1"),
            title={"zh-CN": "待审批", "en": "Approval needed"},
            now=app.state.services.clock.now(),
            actor="agent-2",
        )
        await tx.commit()

    assert created == 1
    async with app.state.services.database.engine.connect() as conn:
        assert list((await conn.execute(select(notifications.c.recipient))).scalars()) == ["agent-1"]
