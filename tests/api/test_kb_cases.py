"""Solved cases over HTTP: an article drafted from a resolved ticket (never its internal notes), refused for an
unresolved, foreign or unknown ticket, and articles linked to the tickets they solved, seen by staff only."""

from __future__ import annotations

import pytest

from app.domain.principal import Role
from tests.api.kb import ARTICLES, publish
from tests.factories import act, open_ticket, seed_service_desk
from tests.problems import problem_fields

FROM_TICKET = f"{ARTICLES}/from-ticket"
SECRET = "INTERNAL-MARKER-7f3a"


@pytest.fixture
async def desk(client, auth):
    await seed_service_desk(client, auth)


async def resolved_ticket(client, auth, **overrides):
    agent = auth(Role.AGENT)
    ticket = await open_ticket(client, auth, fault_description="风机异响", category="noise", **overrides)
    for action, body in (("claim", {}), ("start", {})):
        assert (await act(client, agent, ticket, action, **body)).status_code == 200
    note = {"body": f"客户情绪激动 {SECRET}", "visibility": "internal"}
    assert (await client.post(f"/v1/tickets/{ticket['id']}/comments", json=note, headers=agent)).status_code == 201
    resolved = await act(
        client, agent, ticket, "resolve", solution="更换风机后异响消失", internal_note=f"成本 {SECRET}"
    )
    assert resolved.status_code == 200, resolved.text
    return resolved.json()


async def test_a_draft_from_a_resolved_ticket_carries_its_problem_and_solution_but_no_internal_note(client, auth, desk):
    agent = auth(Role.AGENT)
    ticket = await resolved_ticket(client, auth)
    created = await client.post(FROM_TICKET, json={"ticket_id": ticket["number"]}, headers=agent)
    assert created.status_code == 201, created.text
    article = created.json()
    assert (article["status"], article["visibility"], article["source_ticket_id"]) == (
        "draft",
        "internal",
        ticket["id"],
    )
    assert (article["title"], article["category"], article["tags"]) == ("净化器异响", "noise", ["noise"])
    assert (article["business_line"], article["product_lines"]) == ("home", ["home"])
    assert "开机后有明显异响" in article["body"] and "风机异响" in article["body"]
    assert "## 解决方案" in article["body"] and "更换风机后异响消失" in article["body"]
    stored = (await client.get(f"{ARTICLES}/{article['id']}/versions", headers=agent)).text
    assert SECRET not in stored and SECRET not in created.text
    linked = (await client.get(f"/v1/tickets/{ticket['id']}/kb-articles", headers=agent)).json()["items"]
    assert [(a["article_id"], a["linked_by"]) for a in linked] == [(article["id"], "agent-1")]


async def test_the_callers_title_language_and_visibility_win(client, auth, desk):
    ticket = await resolved_ticket(client, auth)
    body = {"ticket_id": ticket["id"], "title": "Noise fixed", "language": "en", "visibility": "public"}
    article = (await client.post(FROM_TICKET, json=body, headers=auth(Role.AGENT))).json()
    assert (article["title"], article["language"], article["visibility"]) == ("Noise fixed", "en", "public")
    assert "## Solution" in article["body"]


async def test_an_unresolved_ticket_is_a_conflict_and_nothing_is_written(client, auth, desk):
    agent = auth(Role.AGENT)
    ticket = await open_ticket(client, auth)
    refused = await client.post(FROM_TICKET, json={"ticket_id": ticket["id"]}, headers=agent)
    problem_fields(refused, 409, "ticket_not_resolved")
    assert refused.json()["current_state"] == "new"
    assert (await client.get(ARTICLES, headers=agent)).json()["items"] == []


async def test_unknown_foreign_or_out_of_scope_tickets_are_not_found(client, auth, desk):
    ticket = await resolved_ticket(client, auth)  # SKU-1: business line "home"
    scoped = auth(Role.AGENT, sub="scoped", business_lines=("phones",))
    for headers, ref in (
        (auth(Role.AGENT), "T-2026-999999"),
        (auth(Role.AGENT), "018f0000-0000-7000-8000-000000000000"),
        (scoped, ticket["id"]),
    ):
        problem_fields(
            await client.post(FROM_TICKET, json={"ticket_id": ref}, headers=headers), 404, "ticket_not_found"
        )
    problem_fields(
        await client.post(FROM_TICKET, json={"ticket_id": ticket["id"]}, headers=auth(Role.CUSTOMER)),
        403,
        "role_not_allowed",
    )
    assert (await client.get(ARTICLES, headers=auth(Role.AGENT))).json()["items"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "#/ticket_id"),
        ({"ticket_id": "x", "author": "me"}, "#/author"),
        ({"ticket_id": "x", "language": "fr"}, "#/language"),
    ],
)
async def test_bad_draft_requests_are_refused(client, auth, desk, body, field):
    refused = await client.post(FROM_TICKET, json=body, headers=auth(Role.AGENT))
    assert field in problem_fields(refused, 422, "validation_failed")


async def test_staff_link_articles_to_tickets_idempotently_and_list_both_ways(client, auth, desk):
    agent, other = auth(Role.AGENT), auth(Role.AGENT, sub="agent-2")
    article = await publish(client, auth)
    first, second = await open_ticket(client, auth), await open_ticket(client, auth)
    path = f"{ARTICLES}/{article['id']}/tickets"
    made = await client.put(f"{path}/{first['number']}", headers=agent)
    assert made.status_code == 201, made.text
    assert (made.json()["ticket_id"], made.json()["linked_by"]) == (first["id"], "agent-1")
    again = await client.put(f"{path}/{first['id']}", headers=other)
    assert again.status_code == 200 and again.json() == made.json()
    assert (await client.put(f"{path}/{second['id']}", headers=other)).status_code == 201
    page = (await client.get(path, params={"limit": 1}, headers=agent)).json()
    rest = (await client.get(path, params={"limit": 1, "cursor": page["next_cursor"]}, headers=agent)).json()
    assert [t["number"] for t in page["items"] + rest["items"]] == [second["number"], first["number"]]
    assert rest["next_cursor"] is None
    assert (await client.delete(f"{path}/{second['id']}", headers=agent)).status_code == 204
    assert (await client.delete(f"{path}/{second['id']}", headers=agent)).status_code == 204
    assert [t["ticket_id"] for t in (await client.get(path, headers=agent)).json()["items"]] == [first["id"]]
    on_ticket = (await client.get(f"/v1/tickets/{first['id']}/kb-articles", headers=agent)).json()["items"]
    assert [(a["article_id"], a["title"], a["status"]) for a in on_ticket] == [
        (article["id"], article["title"], "published")
    ]


async def test_customers_never_see_links_and_unknown_tickets_are_named(client, auth, desk):
    agent, customer = auth(Role.AGENT), auth(Role.CUSTOMER)
    article = await publish(client, auth)
    ticket = await open_ticket(client, auth)
    path = f"{ARTICLES}/{article['id']}/tickets"
    assert (await client.put(f"{path}/{ticket['id']}", headers=agent)).status_code == 201
    problem_fields(await client.get(path, headers=customer), 403, "role_not_allowed")
    problem_fields(
        await client.get(f"/v1/tickets/{ticket['id']}/kb-articles", headers=customer), 403, "role_not_allowed"
    )
    problem_fields(await client.put(f"{path}/{ticket['id']}", headers=customer), 403, "role_not_allowed")
    missing = await client.put(f"{path}/T-2026-999999", headers=agent)
    problem_fields(missing, 404, "ticket_not_found")
    assert "T-2026-999999" in missing.json()["detail"]
    unknown_article = f"{ARTICLES}/018f0000-0000-7000-8000-000000000000/tickets/{ticket['id']}"
    problem_fields(await client.put(unknown_article, headers=agent), 404, "article_not_found")
    assert len((await client.get(path, headers=agent)).json()["items"]) == 1
