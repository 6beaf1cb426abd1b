"""A ticket's suggested articles and type-ahead titles over HTTP on both databases: the ticket's words ORed and
ranked by how many an article holds, its product line boosted, synonyms used; what customers get; foreign tickets not
found; bad parameters refused naming them."""

from __future__ import annotations

import pytest

from app.domain.principal import Role
from tests.api.kb import publish
from tests.factories import open_ticket, seed_reference_data
from tests.problems import problem_fields

SUGGEST = "/v1/kb/suggest"


def suggestions_of(ticket: dict) -> str:
    return f"/v1/tickets/{ticket['id']}/suggestions"


async def suggested(client, headers, ticket, **params) -> list[str]:
    response = await client.get(suggestions_of(ticket), params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [hit["article"]["title"] for hit in response.json()["items"]]


@pytest.fixture
async def desk(client, auth):
    await seed_reference_data(client, auth)
    await publish(client, auth, title="退款多久到账", body="退款审核通过后原路退回，1-3 个工作日到账。", tags=["退款"])
    await publish(client, auth, title="如何申请换货", body="收到商品七天内可以申请换货。", tags=["换货"])
    await publish(client, auth, title="净化器异响怎么办", body="检查滤网是否安装到位。", tags=["异响"])
    await publish(
        client, auth, title="内部：退款审核口径", body="退款超过 500 元需主管审核。", visibility="internal", tags=[]
    )


async def test_a_ticket_about_a_refund_finds_the_refund_article_first(client, auth, desk):
    ticket = await open_ticket(
        client, auth, title="申请退款一直没到账", description="我上周申请了退款，到现在还没有到账，请帮我查一下。"
    )
    found = await suggested(client, auth(Role.AGENT), ticket)
    assert found[0] == "退款多久到账"
    assert "如何申请换货" not in found[:2]


async def test_long_ticket_text_still_finds_articles_by_some_of_its_words(client, auth, desk):
    ticket = await open_ticket(
        client,
        auth,
        title="净化器用了两个月突然出问题",
        description="开机以后风扇一直有很大的异响，晚上根本没法睡觉，家里老人小孩都受影响，已经试过重启也没有用。",
    )
    assert (await suggested(client, auth(Role.AGENT), ticket))[0] == "净化器异响怎么办"


async def test_the_tickets_product_line_lifts_articles_written_for_it(client, auth, desk):
    await publish(client, auth, title="异响排查", body="异响多为风扇。", tags=[], product_lines=["home"])
    await publish(client, auth, title="异响处理", body="异响多为风扇。", tags=[], product_lines=["office"])
    ticket = await open_ticket(client, auth, title="异响", description="有异响")  # SKU-1 is of product line home
    found = await suggested(client, auth(Role.AGENT), ticket)
    assert found.index("异响排查") < found.index("异响处理")


async def test_synonyms_of_the_tickets_words_find_articles_too(client, auth, desk):
    ticket = await open_ticket(client, auth, title="想退钱", description="东西不想要了")
    assert "退款多久到账" not in await suggested(client, auth(Role.AGENT), ticket)
    created = await client.post("/v1/kb/synonyms", json={"terms": ["退钱", "退款"]}, headers=auth(Role.ADMIN))
    assert created.status_code == 201
    assert (await suggested(client, auth(Role.AGENT), ticket))[0] == "退款多久到账"


async def test_the_customer_gets_public_articles_for_their_own_ticket_and_staff_internal_ones_too(client, auth, desk):
    ticket = await open_ticket(client, auth, title="退款审核", description="退款审核要多久")
    assert "内部：退款审核口径" in await suggested(client, auth(Role.AGENT), ticket)
    mine = await suggested(client, auth(Role.CUSTOMER, customer_no="C-1"), ticket)
    assert mine and "内部：退款审核口径" not in mine


async def test_a_foreign_or_unknown_ticket_is_not_found(client, auth, desk):
    ticket = await open_ticket(client, auth, title="退款", description="退款")
    other = await client.get(suggestions_of(ticket), headers=auth(Role.CUSTOMER, customer_no="C-2"))
    assert other.status_code == 404 and other.json()["code"] == "ticket_not_found"
    # SKU-1's product line `home` is the ticket's business line
    elsewhere = await client.get(suggestions_of(ticket), headers=auth(Role.AGENT, business_lines=("b2b",)))
    assert elsewhere.status_code == 404
    unknown = await client.get("/v1/tickets/T-2026-999999/suggestions", headers=auth(Role.AGENT))
    assert unknown.status_code == 404


async def test_limit_bounds_the_suggestions(client, auth, desk):
    ticket = await open_ticket(client, auth, title="退款 换货 异响", description="退款 换货 异响")
    assert len(await suggested(client, auth(Role.AGENT), ticket, limit=1)) == 1
    assert len(await suggested(client, auth(Role.AGENT), ticket)) == 4


@pytest.mark.parametrize(
    ("params", "named"), [({"limit": 0}, "limit"), ({"limit": 21}, "limit"), ({"limit": "x"}, "limit"), ({"q": 1}, "q")]
)
async def test_bad_suggestion_parameters_are_refused_naming_them(client, auth, desk, params, named):
    ticket = await open_ticket(client, auth, title="退款", description="退款")
    response = await client.get(suggestions_of(ticket), params=params, headers=auth(Role.AGENT))
    assert named in problem_fields(response, 422, "validation_failed")


async def typed(client, headers, q, **params) -> list[str]:
    response = await client.get(SUGGEST, params={"q": q, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


async def test_type_ahead_completes_a_partial_chinese_run_and_a_latin_prefix(client, auth, desk):
    await publish(client, auth, title="Refund timeline", body="Cards take 3-7 days.", tags=[], language="en")
    await publish(client, auth, title="Return a parcel", body="Print the label.", tags=[], language="en")
    agent = auth(Role.AGENT)
    assert await typed(client, agent, "退款多") == ["退款多久到账"]
    assert await typed(client, agent, "REF") == ["Refund timeline"]
    assert set(await typed(client, agent, "re")) == {"Refund timeline", "Return a parcel"}
    # the title as written, not folded; the body is not a title
    assert await typed(client, agent, "原路") == []


async def test_type_ahead_puts_titles_that_start_with_the_text_first(client, auth, desk):
    assert await typed(client, auth(Role.AGENT), "退款") == ["退款多久到账", "内部：退款审核口径"]


async def test_customers_type_ahead_public_articles_only(client, auth, desk):
    assert await typed(client, auth(Role.CUSTOMER), "退款") == ["退款多久到账"]


async def test_type_ahead_is_at_most_ten_titles(client, auth):
    for n in range(12):
        await publish(client, auth, title=f"保修政策{n}", body="保修", tags=[])
    assert len(await typed(client, auth(Role.AGENT), "保修")) == 10


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"q": ""}, "q"),
        ({"q": "退" * 1000}, "q"),
        ({"q": "？！…"}, "q"),
        ({}, "q"),
        ({"q": "退", "limit": 5}, "limit"),
        ({"q": "退", "language": "fr"}, "language"),
    ],
)
async def test_bad_type_ahead_queries_are_refused_naming_the_parameter(client, auth, params, named):
    response = await client.get(SUGGEST, params=params, headers=auth(Role.AGENT))
    assert named in problem_fields(response, 422, "validation_failed")
