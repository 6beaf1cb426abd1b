"""Ticket list filters: each answers exactly its tickets, in keyset pages, and a combination no index serves is
refused with a 422 that names the parameters (the same on SQLite as on PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from app.domain.principal import Role
from app.domain.tickets import OPEN_STATES, UNSTATED_READS
from app.workflows.ticket import TICKET
from tests.factories import act, iso, open_ticket, seed_service_desk


@pytest.fixture
async def desk(client, auth):
    await seed_service_desk(client, auth)


async def _all_pages(client: httpx.AsyncClient, headers: dict[str, str], query: str) -> list[dict[str, Any]]:
    """Every ticket of the list, two a page, following next_cursor."""
    found: list[dict[str, Any]] = []
    cursor = ""
    while True:
        response = await client.get(f"/v1/tickets?{query}&limit=2{cursor}", headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        found += body["items"]
        if body["next_cursor"] is None:
            return found
        cursor = f"&cursor={body['next_cursor']}"


def _problem_fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_failed"
    return sorted(error["parameter"] for error in body["errors"])


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("channel=app&priority=high", ["channel", "priority"]),
        ("assignee=agent-1&type=repair", ["assignee", "type"]),
        ("group=east&tag=noise", ["group", "tag"]),
        ("q=异响", ["q"]),
        ("tag=noise&status=new", ["tag"]),
        ("created_from=2026-01-01T00:00:00Z&status=new", ["created_from"]),
        ("created_to=2026-01-01T00:00:00Z&channel=app", ["created_to"]),
        ("created_from=2026-01-01T00:00:00Z&sort=updated", ["created_from"]),
        ("updated_from=2026-01-01T00:00:00Z", ["updated_from"]),
        ("channel=app&sort=updated", ["channel"]),
        ("tag=noise&sort=updated", ["tag"]),
        ("channel=app&channel=web&channel=email", ["channel"]),
        (
            "priority=low&priority=high&priority=urgent&status=completed&"
            + "&".join(f"status={s}" for s in OPEN_STATES),
            ["priority"],
        ),
    ],
)
async def test_a_combination_no_index_serves_is_refused_naming_its_parameters(client, auth, desk, query, fields):
    response = await client.get(f"/v1/tickets?{query}", headers=auth(Role.AGENT))

    assert _problem_fields(response) == fields


async def test_with_customer_no_any_filter_narrows_that_customers_tickets(client, auth, desk):
    mine = await open_ticket(client, auth, channel="web", title="滤网异响")
    await open_ticket(client, auth, channel="web", title="滤网异响", customer_no="C-2", order_no="SO-C-2")
    await open_ticket(client, auth, channel="app", title="滤网异响")

    found = await _all_pages(
        client, auth(Role.AGENT), "customer_no=C-1&channel=web&priority=normal&q=滤网&created_from=2000-01-01T00:00:00Z"
    )

    assert [t["id"] for t in found] == [mine["id"]]


async def test_a_customer_searches_the_text_of_their_own_tickets_only(client, auth, desk):
    mine = await open_ticket(client, auth, description="滤网有焦味")
    await open_ticket(client, auth, description="滤网有焦味", customer_no="C-2", order_no="SO-C-2")
    await open_ticket(client, auth, description="开机异响")

    found = await _all_pages(client, auth(Role.CUSTOMER), "q=焦味")

    assert [t["id"] for t in found] == [mine["id"]]


async def test_a_channel_filter_pages_through_every_state_newest_first(client, auth, desk):
    agent = auth(Role.AGENT, sub="agent-1")
    by_app = [await open_ticket(client, auth, channel="app") for _ in range(5)]
    await open_ticket(client, auth, channel="web")
    for ticket in by_app[1::2]:
        assert (await act(client, agent, ticket, "claim")).status_code == 200

    found = await _all_pages(client, agent, "channel=app")

    assert [t["id"] for t in found] == [t["id"] for t in reversed(by_app)]


async def test_several_channels_and_states_are_read_together_once_each(client, auth, desk):
    agent = auth(Role.AGENT, sub="agent-1")
    tickets = [await open_ticket(client, auth, channel=c) for c in ("app", "web", "wechat", "app", "web")]
    assert (await act(client, agent, tickets[3], "claim")).status_code == 200

    found = await _all_pages(client, agent, "channel=app&channel=web&status=new&status=assigned")

    assert [t["id"] for t in found] == [tickets[i]["id"] for i in (4, 3, 1, 0)]


async def test_a_tag_lists_its_tickets_newest_first(client, auth, desk):
    tagged = [await open_ticket(client, auth, tags=["noise", "smell"]) for _ in range(3)]
    await open_ticket(client, auth, tags=["smell"])

    found = await _all_pages(client, auth(Role.AGENT), "tag=noise")

    assert [t["id"] for t in found] == [t["id"] for t in reversed(tagged)]


async def test_a_created_range_selects_by_the_time_a_ticket_was_created(timed_client, auth, clock):
    await seed_service_desk(timed_client, auth)
    start = clock.now()
    created = []
    for _ in range(5):
        created.append(await open_ticket(timed_client, auth))
        clock.advance(timedelta(days=1))

    found = await _all_pages(
        timed_client,
        auth(Role.AGENT),
        f"created_from={iso(start + timedelta(hours=12))}&created_to={iso(start + timedelta(days=3, hours=12))}",
    )

    assert [t["id"] for t in found] == [created[3]["id"], created[2]["id"], created[1]["id"]]


async def test_an_updated_range_lists_by_latest_change(timed_client, auth, clock):
    await seed_service_desk(timed_client, auth)
    start = clock.now()
    first, second = await open_ticket(timed_client, auth), await open_ticket(timed_client, auth)
    clock.advance(timedelta(days=1))
    assert (await act(timed_client, auth(Role.AGENT, sub="agent-1"), first, "claim")).status_code == 200

    found = await _all_pages(
        timed_client, auth(Role.AGENT), f"sort=updated&updated_from={iso(start + timedelta(hours=1))}"
    )

    assert [t["id"] for t in found] == [first["id"]]
    assert second["id"] not in [t["id"] for t in found]


def test_a_filter_without_status_is_read_once_per_ticket_state():
    assert len(TICKET.states) == UNSTATED_READS


async def test_three_channels_are_read_with_the_states_named(client, auth, desk):
    tickets = [await open_ticket(client, auth, channel=c) for c in ("app", "web", "email", "wechat")]

    found = await _all_pages(client, auth(Role.AGENT), "channel=app&channel=web&channel=email&status=new")

    assert [t["id"] for t in found] == [t["id"] for t in reversed(tickets[:3])]
