"""Knowledge base search over HTTP on both databases: two-character and one-character Chinese, English words and
their longer forms, Traditional and full-width queries, phrases, ranking (title over tags over body), filters, what
customers may find, keyset pages, and bad queries refused naming the parameter."""

from __future__ import annotations

import pytest

from app.domain.principal import Role
from tests.api.kb import ARTICLES, act, article_body, publish
from tests.problems import problem_fields

SEARCH = "/v1/kb/search"


async def titles(client, headers, **params) -> list[str]:
    response = await client.get(SEARCH, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [hit["article"]["title"] for hit in response.json()["items"]]


@pytest.fixture
async def corpus(client, auth):
    await publish(client, auth, title="退款多久到账", body="审核通过后原路退回。", tags=["到账"], category="退款")
    await publish(
        client,
        auth,
        title="如何申请换货",
        body="收到商品七天内可以申请换货，运费由我们承担。",
        tags=[],
        category="换货",
    )
    await publish(
        client,
        auth,
        title="Refund timeline",
        body="Refunds reach your card in 3-7 days.",
        tags=["refund"],
        language="en",
        category="refund",
        product_lines=["phone"],
    )
    await publish(
        client, auth, title="物流查询", body="订单发货后可查看物流；如需退款请先拒收。", tags=[], category="物流"
    )
    await publish(
        client, auth, title="内部：退款审核口径", body="超过 500 元需主管审核。", visibility="internal", category="退款"
    )


async def test_two_and_one_character_chinese_queries_find_articles(client, auth, corpus):
    agent = auth(Role.AGENT)
    # both titles hold 退款 (a tie: the most recently published first), then the body that holds it
    assert await titles(client, agent, q="退款") == ["内部：退款审核口径", "退款多久到账", "物流查询"]
    one = await titles(client, agent, q="退")
    assert set(one) == {"退款多久到账", "内部：退款审核口径", "物流查询"}
    assert await titles(client, agent, q="换") == ["如何申请换货"]


async def test_english_words_match_their_longer_forms_and_any_case(client, auth, corpus):
    assert await titles(client, auth(Role.AGENT), q="REFUND") == ["Refund timeline"]
    assert await titles(client, auth(Role.AGENT), q="refunds card") == ["Refund timeline"]


async def test_traditional_and_full_width_queries_fold_to_the_same_search(client, auth, corpus):
    agent = auth(Role.AGENT)
    assert await titles(client, agent, q="換貨") == ["如何申请换货"]
    assert await titles(client, agent, q="ＲＥＦＵＮＤ") == ["Refund timeline"]


async def test_a_chinese_run_is_a_phrase_not_its_characters_apart(client, auth, corpus):
    # 退 and 款 both occur in 物流查询 only as 退款; 款退 occurs nowhere.
    assert await titles(client, auth(Role.AGENT), q="款退") == []
    assert await titles(client, auth(Role.AGENT), q="退款 拒收") == ["物流查询"]


async def test_title_ranks_over_tags_over_body(client, auth):
    await publish(client, auth, title="运费说明", body="退换货运费", tags=[])
    await publish(client, auth, title="售后政策", body="政策", tags=["运费"])
    await publish(client, auth, title="运费险", body="说明", tags=[])
    # title and body, then title alone (though newer than it), then tags
    assert await titles(client, auth(Role.AGENT), q="运费") == ["运费说明", "运费险", "售后政策"]


async def test_customers_find_public_articles_only_and_staff_internal_too(client, auth, corpus):
    assert "内部：退款审核口径" not in await titles(client, auth(Role.CUSTOMER), q="审核")
    assert "内部：退款审核口径" in await titles(client, auth(Role.AGENT), q="审核")
    asked_for_internal = await titles(client, auth(Role.CUSTOMER), q="审核", visibility="internal")
    assert asked_for_internal == ["退款多久到账"]


async def test_filters_narrow_the_hits(client, auth, corpus):
    agent = auth(Role.AGENT)
    assert await titles(client, agent, q="退款", category="物流") == ["物流查询"]
    assert await titles(client, agent, q="refund", language="zh-CN") == []
    assert await titles(client, agent, q="refund", product_line="phone") == ["Refund timeline"]
    assert await titles(client, agent, q="refund", product_line="tv") == []


async def test_hits_carry_a_highlighted_escaped_snippet(client, auth):
    await publish(client, auth, title="屏幕<碎了>", body="屏幕碎裂可以申请保修", tags=[])
    [hit] = (await client.get(SEARCH, params={"q": "屏幕"}, headers=auth(Role.AGENT))).json()["items"]
    assert "<mark>屏幕</mark>" in hit["snippet"] and "&lt;碎了&gt;" in hit["snippet"]


async def test_archived_and_unpublished_articles_are_not_found(client, auth):
    agent, manager = auth(Role.AGENT), auth(Role.MANAGER)
    article = await publish(client, auth, title="以旧换新")
    await client.post(ARTICLES, json=article_body(title="以旧换新草稿"), headers=agent)
    assert await titles(client, agent, q="以旧换新") == ["以旧换新"]
    await act(client, manager, article, "archive")
    assert await titles(client, agent, q="以旧换新") == []


async def test_search_pages_by_keyset(client, auth):
    for n in range(5):
        await publish(client, auth, title=f"保修政策 {n}", body="保修")
    first = (await client.get(SEARCH, params={"q": "保修", "limit": 2}, headers=auth(Role.AGENT))).json()
    rest = (
        await client.get(
            SEARCH, params={"q": "保修", "limit": 10, "cursor": first["next_cursor"]}, headers=auth(Role.AGENT)
        )
    ).json()
    seen = [h["article"]["id"] for h in first["items"] + rest["items"]]
    assert len(seen) == len(set(seen)) == 5 and rest["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"q": ""}, "q"),
        ({"q": "退" * 1000}, "q"),
        ({"q": "？！…，。"}, "q"),
        ({}, "q"),
        ({"q": "退款", "colour": "red"}, "colour"),
        ({"q": "退款", "language": "fr"}, "language"),
        ({"q": "退款", "visibility": "secret"}, "visibility"),
    ],
)
async def test_bad_queries_are_refused_naming_the_parameter(client, auth, params, named):
    response = await client.get(SEARCH, params=params, headers=auth(Role.AGENT))
    assert named in problem_fields(response, 422, "validation_failed")
