"""Searches that find nothing, counted for the managers' report on both databases: one row per folded query and
business line, most frequent first, a range by last seen, keyset pages; stored folded; never failing the search."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.domain.clock import rfc3339
from app.domain.principal import Role
from tests.api.kb import publish
from tests.problems import problem_fields

SEARCH, MISSES = "/v1/kb/search", "/v1/kb/search-misses"


async def search(client, headers, q, **params) -> list:
    response = await client.get(SEARCH, params={"q": q, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def misses(client, auth, **params) -> list[tuple[str, int]]:
    response = await client.get(MISSES, params=params, headers=auth(Role.MANAGER))
    assert response.status_code == 200, response.text
    return [(m["query"], m["count"]) for m in response.json()["items"]]


async def test_searches_that_find_nothing_are_counted_folded_most_frequent_first(client, auth):
    await publish(client, auth, title="退款多久到账")
    customer = auth(Role.CUSTOMER)
    for q in ("以旧换新", "以舊換新！", "ＶＩＰ 会员", "vip   会员？", "以旧换新"):
        assert await search(client, customer, q) == []
    assert await search(client, customer, "退款") != []
    assert await misses(client, auth) == [("以旧换新", 3), ("vip 会员", 2)]
    [first] = (await client.get(MISSES, params={"limit": 1}, headers=auth(Role.ADMIN))).json()["items"]
    assert first["business_line"] is None and first["first_seen"] <= first["last_seen"]


async def test_suggest_and_later_pages_are_not_misses(client, auth):
    assert (await client.get("/v1/kb/suggest", params={"q": "以旧"}, headers=auth(Role.AGENT))).status_code == 200
    assert await misses(client, auth) == []


async def test_misses_are_kept_per_business_line_and_read_within_the_managers_lines(client, auth):
    await search(client, auth(Role.AGENT, business_lines=("home",)), "以旧换新")
    await search(client, auth(Role.AGENT, business_lines=("office",)), "以旧换新")
    await search(client, auth(Role.CUSTOMER), "上门安装")
    everything = await client.get(MISSES, headers=auth(Role.ADMIN))
    assert sorted((m["query"], m["business_line"]) for m in everything.json()["items"]) == [
        ("上门安装", None), ("以旧换新", "home"), ("以旧换新", "office"),
    ]  # fmt: skip
    home = await client.get(MISSES, headers=auth(Role.MANAGER, business_lines=("home",)))
    assert sorted((m["query"], m["business_line"]) for m in home.json()["items"]) == [
        ("上门安装", None), ("以旧换新", "home"),
    ]  # fmt: skip


async def test_the_range_is_by_last_seen_and_pages_by_keyset(client, auth, timed_client, clock):
    agent = auth(Role.AGENT)
    for n in range(3):
        await search(timed_client, agent, f"缺口 {n}")
    clock.advance(timedelta(days=2))
    await search(timed_client, agent, "缺口 0")
    since = rfc3339(clock.now() - timedelta(days=1))
    assert await misses(client, auth, **{"from": since}) == [("缺口 0", 2)]
    assert await misses(client, auth, to=since) == [("缺口 2", 1), ("缺口 1", 1)]
    first = (await client.get(MISSES, params={"limit": 2}, headers=auth(Role.MANAGER))).json()
    rest = (
        await client.get(MISSES, params={"limit": 2, "cursor": first["next_cursor"]}, headers=auth(Role.MANAGER))
    ).json()
    assert [m["query"] for m in first["items"] + rest["items"]] == ["缺口 0", "缺口 2", "缺口 1"]
    assert rest["next_cursor"] is None


async def test_a_failed_count_never_fails_the_search(client, auth, app, monkeypatch):
    async def broken(*_args, **_kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("app.persistence.kb_search_misses.SqlSearchMissRepository.record", broken)
    assert await search(client, auth(Role.AGENT), "以旧换新") == []
    monkeypatch.undo()
    assert await misses(client, auth) == []


async def test_only_managers_and_admins_read_the_report(client, auth):
    for role in (Role.AGENT, Role.CUSTOMER):
        assert (await client.get(MISSES, headers=auth(role))).status_code == 403


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-12-02T00:00:00Z", "to": "2026-12-01T00:00:00Z"}, "to"),
        ({"colour": "red"}, "colour"),
        ({"limit": 101}, "limit"),
    ],
)
async def test_bad_report_parameters_are_refused_naming_them(client, auth, params, named):
    response = await client.get(MISSES, params=params, headers=auth(Role.MANAGER))
    assert named in problem_fields(response, 422, "validation_failed")
