"""Knowledge base articles over HTTP: the draft → review → published → archived workflow with its approver and
buttons, versions kept while the live one stays live, ETags, what customers may read, sanitised HTML, and bad input
refused with nothing written."""

from __future__ import annotations

import pytest

from app.domain.principal import Role
from tests.api.kb import ARTICLES, act, article_body, publish
from tests.problems import problem_fields


def actions(article: dict) -> set[str]:
    return {a["action"] for a in article["available_actions"]}


async def test_an_article_goes_from_draft_through_review_to_published(client, auth):
    agent, manager = auth(Role.AGENT), auth(Role.MANAGER)
    created = await client.post(ARTICLES, json=article_body(), headers=agent)
    assert created.status_code == 201, created.text
    draft = created.json()
    assert created.headers["Location"] == f"{ARTICLES}/{draft['id']}"
    assert (draft["status"], draft["version_number"], draft["live_version"]) == ("draft", 1, None)
    assert actions(draft) == {"edit", "submit"}
    submitted = await act(client, agent, draft, "submit")
    assert submitted["status"] == "in_review"
    manager_view = (await client.get(f"{ARTICLES}/{draft['id']}", headers=manager)).json()
    assert actions(manager_view) == {"edit", "approve", "reject", "archive"}
    published = await act(client, manager, submitted, "approve")
    assert (published["status"], published["live_version"], published["approved_by"]) == ("published", 1, "manager-1")
    assert published["published_at"].endswith("Z")


async def test_an_approver_never_approves_a_version_they_wrote(client, auth):
    manager = auth(Role.MANAGER)
    draft = (await client.post(ARTICLES, json=article_body(), headers=manager)).json()
    submitted = await act(client, manager, draft, "submit")
    assert "approve" not in actions(submitted)
    refused = await client.post(f"{ARTICLES}/{draft['id']}/actions/approve", json={}, headers=manager)
    problem_fields(refused, 409, "action_not_allowed")
    assert (await client.get(f"{ARTICLES}/{draft['id']}", headers=manager)).json()["status"] == "in_review"


async def test_agents_cannot_approve(client, auth):
    agent = auth(Role.AGENT)
    draft = (await client.post(ARTICLES, json=article_body(), headers=agent)).json()
    await act(client, agent, draft, "submit")
    refused = await client.post(f"{ARTICLES}/{draft['id']}/actions/approve", json={}, headers=auth(Role.AGENT, sub="b"))
    problem_fields(refused, 403, "action_forbidden")


async def test_editing_a_published_article_puts_a_new_version_in_review_while_the_old_stays_live(client, auth):
    agent, manager, customer = auth(Role.AGENT), auth(Role.MANAGER), auth(Role.CUSTOMER)
    article = await publish(client, auth)
    path = f"{ARTICLES}/{article['id']}"
    edited = await client.patch(
        path, json={"title": "退款到账时间说明"}, headers={**agent, "If-Match": f'"{article_version(article)}"'}
    )
    assert edited.status_code == 200, edited.text
    assert (edited.json()["status"], edited.json()["version_number"], edited.json()["live_version"]) == (
        "in_review",
        2,
        1,
    )
    live = (await client.get(path, headers=customer)).json()
    assert (live["title"], live["version_number"]) == ("退款多久到账？", 1)
    await act(client, manager, edited.json(), "approve")
    assert (await client.get(path, headers=customer)).json()["title"] == "退款到账时间说明"
    versions = (await client.get(f"{path}/versions", headers=agent)).json()["items"]
    assert [(v["number"], v["author"]) for v in versions] == [(2, "agent-1"), (1, "agent-1")]
    assert versions[1]["body"] == article["body"]


def article_version(article: dict) -> int:
    """The ETag a test read last: each action answers the next version."""
    return {"draft": 1, "in_review": 2, "published": 3}[article["status"]]


async def test_a_stale_etag_is_refused_and_nothing_is_written(client, auth):
    agent = auth(Role.AGENT)
    created = await client.post(ARTICLES, json=article_body(), headers=agent)
    etag = created.headers["ETag"]
    await act(client, agent, created.json(), "edit", body="新的正文")
    stale = await client.patch(
        f"{ARTICLES}/{created.json()['id']}", json={"title": "x"}, headers={**agent, "If-Match": etag}
    )
    problem_fields(stale, 412, "etag_mismatch")
    versions = (await client.get(f"{ARTICLES}/{created.json()['id']}/versions", headers=agent)).json()["items"]
    assert len(versions) == 2


async def test_an_archived_article_is_not_edited_and_leaves_customers_view(client, auth):
    manager, customer = auth(Role.MANAGER), auth(Role.CUSTOMER)
    article = await publish(client, auth)
    archived = await act(client, manager, article, "archive")
    assert archived["status"] == "archived"
    assert archived["available_actions"] == []
    refused = await client.patch(f"{ARTICLES}/{article['id']}", json={"title": "x"}, headers=auth(Role.AGENT))
    problem_fields(refused, 409, "action_not_allowed")
    problem_fields(await client.get(f"{ARTICLES}/{article['id']}", headers=customer), 404, "article_not_found")


async def test_customers_read_only_published_public_articles(client, auth):
    agent, customer = auth(Role.AGENT), auth(Role.CUSTOMER)
    public = await publish(client, auth)
    internal = await publish(client, auth, visibility="internal", title="内部：退款审核口径")
    draft = (await client.post(ARTICLES, json=article_body(title="草稿"), headers=agent)).json()
    for hidden in (internal, draft):
        problem_fields(await client.get(f"{ARTICLES}/{hidden['id']}", headers=customer), 404, "article_not_found")
    seen = (await client.get(f"{ARTICLES}/{public['id']}", headers=customer)).json()
    assert seen["available_actions"] == [] and seen["author"] is None and seen["created_by"] is None
    listed = (await client.get(ARTICLES, headers=customer)).json()["items"]
    assert [a["id"] for a in listed] == [public["id"]]
    staff = (await client.get(ARTICLES, headers=agent)).json()["items"]
    assert {a["id"] for a in staff} == {public["id"], internal["id"], draft["id"]}
    problem_fields(await client.post(ARTICLES, json=article_body(), headers=customer), 403, "role_not_allowed")


async def test_staff_lists_filter_and_page_by_keyset(client, auth):
    agent = auth(Role.AGENT)
    ids = []
    for n in range(5):
        body = article_body(
            title=f"文章 {n}", category="物流" if n % 2 else "退款", language="zh-CN" if n < 4 else "en"
        )
        ids.append((await client.post(ARTICLES, json=body, headers=agent)).json()["id"])
    first = (await client.get(ARTICLES, params={"limit": 2}, headers=agent)).json()
    second = (await client.get(ARTICLES, params={"limit": 2, "cursor": first["next_cursor"]}, headers=agent)).json()
    assert [a["id"] for a in first["items"] + second["items"]] == ids[::-1][:4]
    by_category = (await client.get(ARTICLES, params={"category": "物流"}, headers=agent)).json()["items"]
    assert {a["id"] for a in by_category} == {ids[1], ids[3]}
    english = (await client.get(ARTICLES, params={"language": "en"}, headers=agent)).json()["items"]
    assert [a["id"] for a in english] == [ids[4]]
    drafts = (await client.get(ARTICLES, params={"status": "published"}, headers=agent)).json()["items"]
    assert drafts == []
    assert problem_fields(
        await client.get(ARTICLES, params={"status": "gone"}, headers=agent), 422, "validation_failed"
    ) == {"status"}


async def test_business_line_scope_hides_other_lines(client, auth):
    agent = auth(Role.AGENT)
    other = (await client.post(ARTICLES, json=article_body(business_line="appliances"), headers=agent)).json()
    scoped = auth(Role.AGENT, sub="scoped", business_lines=("phones",))
    problem_fields(await client.get(f"{ARTICLES}/{other['id']}", headers=scoped), 404, "article_not_found")
    assert (await client.get(ARTICLES, headers=scoped)).json()["items"] == []


async def test_markdown_renders_as_sanitised_html_on_request(client, auth):
    body = "# 步骤\n\n<script>alert(1)</script> [点我](javascript:alert(1)) <img src=x onerror=alert(1)>\n\n**重启**"
    article = await publish(client, auth, body=body)
    plain = (await client.get(f"{ARTICLES}/{article['id']}", headers=auth(Role.CUSTOMER))).json()
    assert plain["body_html"] is None and plain["body"] == body
    html = (
        await client.get(f"{ARTICLES}/{article['id']}", params={"render": "html"}, headers=auth(Role.CUSTOMER))
    ).json()
    assert "<h1>步骤</h1>" in html["body_html"] and "<strong>重启</strong>" in html["body_html"]
    assert "<script" not in html["body_html"] and "<img" not in html["body_html"]
    assert "javascript:" not in html["body_html"].replace("[点我](javascript:alert(1))", "")


async def test_a_translation_links_an_article_in_the_other_language(client, auth):
    agent = auth(Role.AGENT)
    original = (await client.post(ARTICLES, json=article_body(), headers=agent)).json()
    english = article_body(title="How long does a refund take?", language="en", translation_of=original["id"])
    translated = await client.post(ARTICLES, json=english, headers=agent)
    assert translated.status_code == 201 and translated.json()["translation_of"] == original["id"]
    same = await client.post(ARTICLES, json=article_body(translation_of=original["id"]), headers=agent)
    assert problem_fields(same, 422, "validation_failed") == {"#/translation_of"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (article_body(body="长" * 50_001), "#/body"),
        (article_body(title=""), "#/title"),
        (article_body(visibility="secret"), "#/visibility"),
        (article_body(tags=["ok", "<bad>"]), "#/tags/1"),
        (article_body(language="fr"), "#/language"),
        ({**article_body(), "author": "x"}, "#/author"),
    ],
)
async def test_bad_articles_are_refused_and_nothing_is_written(client, auth, body, field):
    agent = auth(Role.AGENT)
    assert field in problem_fields(await client.post(ARTICLES, json=body, headers=agent), 422, "validation_failed")
    assert (await client.get(ARTICLES, headers=agent)).json()["items"] == []


async def test_an_empty_or_oversized_edit_is_refused(client, auth):
    agent = auth(Role.AGENT)
    article = (await client.post(ARTICLES, json=article_body(), headers=agent)).json()
    path = f"{ARTICLES}/{article['id']}"
    problem_fields(await client.patch(path, json={}, headers=agent), 422, "validation_failed")
    too_long = await client.patch(path, json={"body": "x" * 50_001}, headers=agent)
    assert problem_fields(too_long, 422, "validation_failed") == {"#/body"}
    assert len((await client.get(f"{path}/versions", headers=agent)).json()["items"]) == 1


async def test_a_rejected_version_goes_back_to_its_author_with_a_reason(client, auth):
    agent, manager = auth(Role.AGENT), auth(Role.MANAGER)
    draft = (await client.post(ARTICLES, json=article_body(), headers=agent)).json()
    submitted = await act(client, agent, draft, "submit")
    no_reason = await client.post(f"{ARTICLES}/{draft['id']}/actions/reject", json={}, headers=manager)
    problem_fields(no_reason, 422, "validation_failed")
    rejected = await act(client, manager, submitted, "reject", reason="补充银行卡到账时间")
    assert rejected["status"] == "draft"


async def test_unknown_articles_are_not_found(client, auth):
    missing = f"{ARTICLES}/018f0000-0000-7000-8000-000000000000"
    problem_fields(await client.get(missing, headers=auth(Role.AGENT)), 404, "article_not_found")
