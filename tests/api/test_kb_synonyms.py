"""Synonym groups over HTTP on both databases: admins write them, terms folded as search folds them, a term in one
group at most (409 naming it), bad groups refused naming the term, and search finding an article by a synonym of the
word typed (English ↔ Chinese, Traditional, a misspelling) while the word itself still ranks first."""

from __future__ import annotations

import pytest

from app.domain.principal import Role
from tests.api.kb import publish
from tests.problems import problem_fields

SYNONYMS = "/v1/kb/synonyms"
SEARCH = "/v1/kb/search"


async def create(client, auth, terms) -> dict:
    response = await client.post(SYNONYMS, json={"terms": terms}, headers=auth(Role.ADMIN))
    assert response.status_code == 201, response.text
    return response.json()


async def titles(client, headers, q) -> list[str]:
    response = await client.get(SEARCH, params={"q": q}, headers=headers)
    assert response.status_code == 200, response.text
    return [hit["article"]["title"] for hit in response.json()["items"]]


async def test_a_group_is_stored_folded_and_read_back(client, auth):
    group = await create(client, auth, ["退貨", "退回", "ＲＥＴＵＲＮ"])
    assert group["terms"] == ["退货", "退回", "return"]
    read = await client.get(f"{SYNONYMS}/{group['id']}", headers=auth(Role.AGENT))
    assert read.status_code == 200 and read.json() == group and read.headers["ETag"] == '"1"'
    listed = (await client.get(SYNONYMS, headers=auth(Role.AGENT))).json()
    assert [g["id"] for g in listed["items"]] == [group["id"]]


async def test_only_admins_write_groups(client, auth):
    for role in (Role.MANAGER, Role.AGENT, Role.CUSTOMER):
        response = await client.post(SYNONYMS, json={"terms": ["退款", "refund"]}, headers=auth(role))
        assert response.status_code == 403
    assert (await client.get(SYNONYMS, headers=auth(Role.CUSTOMER))).status_code == 403
    assert (await client.get(SYNONYMS, headers=auth(Role.ADMIN))).json()["items"] == []


async def test_a_term_of_another_group_is_a_conflict_naming_it_and_nothing_is_written(client, auth):
    first = await create(client, auth, ["退款", "refund"])
    response = await client.post(SYNONYMS, json={"terms": ["退钱", "REFUND"]}, headers=auth(Role.ADMIN))
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "synonym_term_taken" and "'refund'" in response.json()["detail"]
    assert [g["id"] for g in (await client.get(SYNONYMS, headers=auth(Role.ADMIN))).json()["items"]] == [first["id"]]
    # the group itself may keep its terms when it is replaced
    replaced = await client.put(
        f"{SYNONYMS}/{first['id']}", json={"terms": ["退款", "refund", "退钱"]}, headers=auth(Role.ADMIN)
    )
    assert replaced.status_code == 200 and replaced.json()["version"] == 2


@pytest.mark.parametrize(
    ("terms", "named"),
    [
        (["退款"], "#/terms"),
        ([f"t{n}" for n in range(21)], "#/terms"),
        (["退款", ""], "#/terms/1"),
        (["退款", "x" * 33], "#/terms/1"),
        (["退款", "？！…"], "#/terms/1"),
        (["退款", "refund money"], "#/terms/1"),
        (["退款", "退款申请-quick"], "#/terms/1"),
        (["退款", "退款"], "#/terms/1"),
        (["refund", "REFUND"], "#/terms/1"),
        (["退款", 12], "#/terms/1"),
    ],
)
async def test_bad_groups_are_refused_naming_the_term(client, auth, terms, named):
    response = await client.post(SYNONYMS, json={"terms": terms}, headers=auth(Role.ADMIN))
    assert named in problem_fields(response, 422, "validation_failed")
    assert (await client.get(SYNONYMS, headers=auth(Role.ADMIN))).json()["items"] == []


async def test_unknown_fields_and_wrong_types_are_refused(client, auth):
    admin = auth(Role.ADMIN)
    assert "#/colour" in problem_fields(
        await client.post(SYNONYMS, json={"terms": ["a1", "b1"], "colour": 1}, headers=admin), 422, "validation_failed"
    )
    assert "#/terms" in problem_fields(
        await client.post(SYNONYMS, json={"terms": "退款 refund"}, headers=admin), 422, "validation_failed"
    )


async def test_replace_is_guarded_by_its_etag_and_delete_removes_it(client, auth):
    admin = auth(Role.ADMIN)
    group = await create(client, auth, ["退货", "退回"])
    path = f"{SYNONYMS}/{group['id']}"
    stale = await client.put(path, json={"terms": ["退货", "退还"]}, headers={**admin, "If-Match": '"7"'})
    assert stale.status_code == 412
    assert (await client.get(path, headers=admin)).json()["terms"] == ["退货", "退回"]
    assert (await client.delete(path, headers={**admin, "If-Match": '"1"'})).status_code == 204
    assert (await client.get(path, headers=admin)).status_code == 404
    assert (await client.put(path, json={"terms": ["退货", "退还"]}, headers=admin)).status_code == 404


async def test_search_finds_articles_by_a_synonym_and_ranks_the_word_itself_first(client, auth):
    await publish(client, auth, title="退款多久到账", body="审核通过后原路退回。", tags=[])
    await publish(client, auth, title="Refund timeline", body="Refunds reach your card.", tags=[], language="en")
    agent = auth(Role.AGENT)
    assert await titles(client, agent, "refund") == ["Refund timeline"]
    await create(client, auth, ["refund", "退款", "refnd"])
    assert await titles(client, agent, "refund") == ["Refund timeline", "退款多久到账"]
    assert await titles(client, agent, "退款") == ["退款多久到账", "Refund timeline"]
    assert await titles(client, agent, "退款 card") == ["Refund timeline"]
    assert set(await titles(client, agent, "refnd")) == {"Refund timeline", "退款多久到账"}


async def test_a_deleted_group_no_longer_expands_queries(client, auth):
    await publish(client, auth, title="退货流程", body="寄回商品。", tags=[])
    group = await create(client, auth, ["退货", "退回"])
    agent = auth(Role.AGENT)
    assert await titles(client, agent, "退回") == ["退货流程"]
    await client.delete(f"{SYNONYMS}/{group['id']}", headers={**auth(Role.ADMIN), "If-Match": '"1"'})
    assert await titles(client, agent, "退回") == []


async def test_a_synonym_hit_is_marked_in_the_snippet(client, auth):
    await publish(client, auth, title="退货流程", body="寄回商品即可退货。", tags=[])
    await create(client, auth, ["退货", "退回"])
    [hit] = (await client.get(SEARCH, params={"q": "退回"}, headers=auth(Role.AGENT))).json()["items"]
    assert "<mark>退货</mark>" in hit["snippet"]
