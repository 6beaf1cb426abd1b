"""Readers and articles over HTTP: a read of a live article counts a view (staff see the count and sort by it),
one helpful / not-helpful vote per reader that may be changed or withdrawn, search following the votes, and votes
refused on what the caller may not read or nobody reads."""

from __future__ import annotations

import pytest

from app.domain.principal import Role
from tests.api.kb import ARTICLES, act, article_body, publish
from tests.problems import problem_fields

SEARCH = "/v1/kb/search"


async def read(client, headers, article, **params):
    response = await client.get(f"{ARTICLES}/{article['id']}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def vote(client, headers, article, helpful):
    return await client.put(f"{ARTICLES}/{article['id']}/vote", json={"helpful": helpful}, headers=headers)


async def test_reads_of_a_live_article_count_views_that_staff_alone_see(client, auth):
    agent, customer = auth(Role.AGENT), auth(Role.CUSTOMER)
    article = await publish(client, auth)
    assert (await read(client, customer, article))["views"] is None
    await read(client, customer, article)
    assert (await read(client, agent, article))["views"] == 3
    await client.get(f"{ARTICLES}/{article['id']}/versions", headers=agent)
    await client.get(ARTICLES, headers=agent)
    assert (await read(client, agent, article))["views"] == 4


async def test_a_draft_read_by_staff_counts_no_view(client, auth):
    agent = auth(Role.AGENT)
    draft = (await client.post(ARTICLES, json=article_body(), headers=agent)).json()
    await read(client, agent, draft)
    assert (await read(client, agent, draft))["views"] == 0


async def test_staff_list_the_most_read_first_by_keyset_and_customers_may_not(client, auth):
    agent, customer = auth(Role.AGENT), auth(Role.CUSTOMER)
    articles = [await publish(client, auth, title=f"文章 {n}") for n in range(3)]
    for article, reads in zip(articles, (2, 5, 1), strict=True):
        for _ in range(reads):
            await read(client, customer, article)
    first = (await client.get(ARTICLES, params={"sort": "-views", "limit": 2}, headers=agent)).json()
    rest = (
        await client.get(ARTICLES, params={"sort": "-views", "limit": 2, "cursor": first["next_cursor"]}, headers=agent)
    ).json()
    assert [(a["title"], a["views"]) for a in first["items"] + rest["items"]] == [
        ("文章 1", 5),
        ("文章 0", 2),
        ("文章 2", 1),
    ]
    refused = await client.get(ARTICLES, params={"sort": "-views"}, headers=customer)
    assert problem_fields(refused, 422, "validation_failed") == {"sort"}
    assert problem_fields(await client.get(ARTICLES, params={"sort": "views"}, headers=agent), 422, "validation_failed")


async def test_one_vote_per_reader_changed_and_withdrawn_keeps_exact_tallies(client, auth):
    customer, other, agent = auth(Role.CUSTOMER), auth(Role.CUSTOMER, sub="c-2", customer_no="C-2"), auth(Role.AGENT)
    article = await publish(client, auth)
    cast = await vote(client, customer, article, True)
    assert cast.status_code == 200, cast.text
    assert (cast.json()["helpful"], cast.json()["helpful_votes"], cast.json()["unhelpful_votes"]) == (True, 1, 0)
    assert (await vote(client, customer, article, True)).json()["helpful_votes"] == 1
    assert (await vote(client, other, article, False)).json()["unhelpful_votes"] == 1
    assert (await vote(client, agent, article, True)).json()["helpful_votes"] == 2
    changed = (await vote(client, customer, article, False)).json()
    assert (changed["helpful_votes"], changed["unhelpful_votes"]) == (1, 2)
    withdrawn = await client.delete(f"{ARTICLES}/{article['id']}/vote", headers=other)
    assert withdrawn.status_code == 200
    assert (withdrawn.json()["helpful"], withdrawn.json()["helpful_votes"], withdrawn.json()["unhelpful_votes"]) == (
        None,
        1,
        1,
    )
    again = (await client.delete(f"{ARTICLES}/{article['id']}/vote", headers=other)).json()
    assert (again["helpful_votes"], again["unhelpful_votes"]) == (1, 1)
    seen = await read(client, customer, article)
    assert (seen["helpful_votes"], seen["unhelpful_votes"]) == (1, 1)


async def test_search_ranks_by_helpful_minus_unhelpful_votes(client, auth):
    agent = auth(Role.AGENT)
    plain = await publish(client, auth, title="退款说明", body="原路退回。", tags=[])
    voted = await publish(client, auth, title="退款指南", body="原路退回。", tags=[])
    # equal text: the most recently published first, until votes lift the other
    titles = [
        h["article"]["title"] for h in (await client.get(SEARCH, params={"q": "退款"}, headers=agent)).json()["items"]
    ]
    assert titles == ["退款指南", "退款说明"]
    for n in range(2):
        await vote(client, auth(Role.CUSTOMER, sub=f"c{n}", customer_no=f"C-{n}"), plain, True)
    await vote(client, auth(Role.CUSTOMER, sub="c9", customer_no="C-9"), voted, True)
    hits = (await client.get(SEARCH, params={"q": "退款"}, headers=agent)).json()["items"]
    assert [(h["article"]["title"], h["score"]) for h in hits] == [("退款说明", 102), ("退款指南", 101)]
    await vote(client, auth(Role.CUSTOMER, sub="c0", customer_no="C-0"), plain, False)
    await vote(client, auth(Role.CUSTOMER, sub="c1", customer_no="C-1"), plain, False)
    hits = (await client.get(SEARCH, params={"q": "退款"}, headers=agent)).json()["items"]
    assert [(h["article"]["title"], h["score"]) for h in hits] == [("退款指南", 101), ("退款说明", 100)]


async def test_a_republished_article_keeps_its_votes_in_search(client, auth):
    agent, manager = auth(Role.AGENT), auth(Role.MANAGER)
    article = await publish(client, auth, title="退款说明", tags=[])
    await vote(client, auth(Role.CUSTOMER), article, True)
    edited = await client.patch(f"{ARTICLES}/{article['id']}", json={"body": "原路退回，1-3 天。"}, headers=agent)
    await act(client, manager, edited.json(), "approve")
    hits = (await client.get(SEARCH, params={"q": "退款说明"}, headers=agent)).json()["items"]
    assert [h["score"] for h in hits] == [101]


async def test_votes_only_on_live_articles_the_caller_may_read(client, auth):
    agent, manager, customer = auth(Role.AGENT), auth(Role.MANAGER), auth(Role.CUSTOMER)
    internal = await publish(client, auth, visibility="internal")
    problem_fields(await vote(client, customer, internal, True), 404, "article_not_found")
    draft = (await client.post(ARTICLES, json=article_body(), headers=agent)).json()
    problem_fields(await vote(client, agent, draft, True), 409, "article_not_live")
    problem_fields(await vote(client, customer, draft, True), 404, "article_not_found")
    archived = await act(client, manager, await publish(client, auth), "archive")
    refused = await vote(client, agent, archived, True)
    problem_fields(refused, 409, "article_not_live")
    assert refused.json()["current_state"] == "archived"
    problem_fields(await vote(client, auth(Role.INTEGRATION), internal, True), 403, "role_not_allowed")
    assert (await read(client, agent, internal))["helpful_votes"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"helpful": "yes"}, "#/helpful"),
        ({"helpful": 1}, "#/helpful"),
        ({}, "#/helpful"),
        ({"helpful": True, "x": 1}, "#/x"),
    ],
)
async def test_bad_votes_are_refused_and_nothing_is_counted(client, auth, body, field):
    article = await publish(client, auth)
    refused = await client.put(f"{ARTICLES}/{article['id']}/vote", json=body, headers=auth(Role.CUSTOMER))
    assert field in problem_fields(refused, 422, "validation_failed")
    seen = await read(client, auth(Role.AGENT), article)
    assert (seen["helpful_votes"], seen["unhelpful_votes"]) == (0, 0)
