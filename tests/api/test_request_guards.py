"""Malformed protocol input is named as such: a precondition that is not an entity tag list is a 400 (not a 412
"changed"), a JSON body in anything but UTF-8 is a 415 (not parsed by guessing its encoding), and a scalar query
parameter given twice is a 422 (not silently the last)."""

from __future__ import annotations

import json

import pytest

from app.domain.principal import Role
from tests.api.test_after_sales import AUTO_REVIEW
from tests.api.test_ticket_auto_close import RULES as AUTO_CLOSE
from tests.factories import product_body

PRODUCT = "/v1/products/SKU-1"


@pytest.fixture
async def product(client, auth) -> str:
    created = await client.put(PRODUCT, json=product_body(), headers=auth(Role.INTEGRATION))
    assert created.status_code == 201, created.text
    return created.headers["etag"]


@pytest.mark.parametrize("header", ["If-Match", "If-None-Match"])
@pytest.mark.parametrize("value", ["1", "abc", '"1', '1"', '"1",', '"1" "2"', "W/1", '*, "1"', "", '"a b"'])
async def test_a_malformed_precondition_is_a_400_naming_the_header(client, auth, product, header, value):
    response = await client.put(PRODUCT, json=product_body(name="B"), headers={**auth(Role.INTEGRATION), header: value})

    assert response.status_code == 400, response.text
    assert response.json()["code"] == "malformed_precondition"
    assert response.json()["errors"] == [{"detail": response.json()["errors"][0]["detail"], "header": header}]
    assert (await client.get(PRODUCT, headers=auth(Role.AGENT))).json()["name"] == product_body()["name"]


@pytest.mark.parametrize("value", ['W/"1"', '"999"', '"x-1"', '"999", W/"1"'])
async def test_a_well_formed_precondition_naming_no_current_version_is_a_412(client, auth, product, value):
    response = await client.put(
        PRODUCT, json=product_body(name="B"), headers={**auth(Role.INTEGRATION), "If-Match": value}
    )

    assert response.status_code == 412, response.text
    assert response.json()["code"] == "etag_mismatch"


@pytest.mark.parametrize("value", ['"1"', ' "7" , "1" ', "*"])
async def test_a_precondition_list_naming_the_current_version_or_star_lets_the_change_through(
    client, auth, product, value
):
    assert product == '"1"'
    response = await client.put(
        PRODUCT, json=product_body(name="B"), headers={**auth(Role.INTEGRATION), "If-Match": value}
    )

    assert response.status_code == 200, response.text


BODY = json.dumps(product_body(), ensure_ascii=False)
ENCODED = {
    "utf-16": BODY.encode("utf-16"),  # with its byte order mark
    "utf-16-le": BODY.encode("utf-16-le"),
    "utf-16-be": BODY.encode("utf-16-be"),
    "utf-32": BODY.encode("utf-32"),
    "utf-32-le": BODY.encode("utf-32-le"),
    "utf-8 with a byte order mark": BODY.encode("utf-8-sig"),
}


@pytest.mark.parametrize("encoding", ENCODED)
@pytest.mark.parametrize("content_type", ["application/json", None])
async def test_a_json_body_not_in_utf8_is_refused_with_415_and_nothing_is_written(client, auth, encoding, content_type):
    headers = {**auth(Role.INTEGRATION), **({"Content-Type": content_type} if content_type else {})}

    response = await client.put(PRODUCT, content=ENCODED[encoding], headers=headers)

    assert response.status_code == 415, response.text
    assert response.json()["code"] == "unsupported_encoding"
    assert "UTF-8" in response.json()["detail"]
    assert (await client.get(PRODUCT, headers=auth(Role.AGENT))).status_code == 404


@pytest.mark.parametrize("charset", ["utf-16", "UTF-32", "latin-1", "iso-8859-1", "gbk"])
async def test_a_json_body_declared_in_another_charset_is_refused_with_415_naming_content_type(client, auth, charset):
    headers = {**auth(Role.INTEGRATION), "Content-Type": f"application/json; charset={charset}"}

    response = await client.put(PRODUCT, content=BODY.encode(), headers=headers)

    assert response.status_code == 415, response.text
    assert response.json()["code"] == "unsupported_charset"
    assert response.json()["errors"][0]["header"] == "Content-Type"


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/json; charset=UTF-8"])
async def test_a_utf8_json_body_is_taken_with_or_without_its_charset(client, auth, content_type):
    response = await client.put(
        PRODUCT, content=BODY.encode(), headers={**auth(Role.INTEGRATION), "Content-Type": content_type}
    )

    assert response.status_code == 201, response.text
    assert response.json()["name"] == product_body()["name"]


async def test_a_utf16_body_is_refused_on_an_idempotent_post_too(client, auth):
    """The Idempotency-Key middleware reads the body before the route: the guard applies there as well."""
    headers = {**auth(Role.AGENT), "Idempotency-Key": "k-utf16", "Content-Type": "application/json"}

    response = await client.post("/v1/tickets", content=json.dumps({"title": "x"}).encode("utf-16"), headers=headers)

    assert response.status_code == 415, response.text
    assert response.json()["code"] == "unsupported_encoding"


@pytest.mark.parametrize(
    "path", ["/v1/tickets?limit=5&limit=50", "/v1/after-sales?limit=5&limit=50", "/v1/me/notifications?limit=1&limit=2"]
)
async def test_a_scalar_query_parameter_given_twice_is_a_422_naming_it(client, auth, path):
    response = await client.get(path, headers=auth(Role.MANAGER))

    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [{"detail": "given more than once; it takes one value", "parameter": "limit"}]


async def test_a_repeatable_parameter_may_repeat_and_a_stranger_hears_only_that_they_are_unknown(client, auth):
    repeated = await client.get("/v1/tickets?status=new&status=assigned", headers=auth(Role.MANAGER))
    stranger = await client.get("/v1/tickets?limit=5&limit=50")

    assert repeated.status_code == 200, repeated.text
    assert stranger.status_code == 401, stranger.text


SETTINGS = [
    ("/v1/settings/auto-review", AUTO_REVIEW),
    (
        "/v1/settings/approval-chains/task_hours",
        {"levels": [{"name": "经理", "approvers": "role", "ids": ["manager"]}]},
    ),
    ("/v1/settings/ticket-auto-close", AUTO_CLOSE),
]


@pytest.mark.parametrize(("path", "body"), SETTINGS, ids=[path for path, _ in SETTINGS])
async def test_a_settings_document_takes_the_etag_it_answered_before_its_first_save(client, auth, path, body):
    manager = auth(Role.MANAGER)
    read = await client.get(path, headers=manager)

    first = await client.put(path, json=body, headers={**manager, "If-Match": read.headers["etag"]})
    again = await client.put(path, json=body, headers={**manager, "If-Match": read.headers["etag"]})

    assert (read.status_code, first.status_code) == (200, 200), first.text
    assert again.status_code == 412, again.text  # the defaults' ETag is stale once the document is saved
