"""Customers: ERP/CRM upserts, ETags and preconditions, and the customer's own view."""

from __future__ import annotations

from app.domain.principal import Role
from tests.factories import contract_body, customer_body, put, seed_reference_data


async def test_first_put_creates_the_customer_with_an_etag(client, auth):
    response = await client.put("/v1/customers/C-1", json=customer_body(), headers=auth(Role.INTEGRATION))

    assert response.status_code == 201
    assert response.headers["etag"] == '"1"'
    assert response.json()["level"] == "vip"
    fetched = await client.get("/v1/customers/C-1", headers=auth(Role.AGENT))
    assert fetched.json()["name"] == "张伟"
    assert fetched.headers["etag"] == '"1"'


async def test_repeating_a_put_changes_nothing_and_a_change_bumps_the_version(client, auth):
    headers = auth(Role.INTEGRATION)
    await put(client, headers, "/v1/customers/C-1", customer_body())

    same = await client.put("/v1/customers/C-1", json=customer_body(), headers=headers)
    changed = await client.put("/v1/customers/C-1", json=customer_body(level="gold"), headers=headers)

    assert (same.status_code, same.json()["version"]) == (200, 1)
    assert (changed.status_code, changed.json()["version"], changed.headers["etag"]) == (200, 2, '"2"')


async def test_stale_if_match_is_refused_and_nothing_is_written(client, auth):
    headers = auth(Role.INTEGRATION)
    await put(client, headers, "/v1/customers/C-1", customer_body())
    await put(client, headers, "/v1/customers/C-1", customer_body(level="gold"))

    stale = await client.put("/v1/customers/C-1", json=customer_body(name="X"), headers={**headers, "If-Match": '"1"'})

    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    assert stale.json()["code"] == "etag_mismatch"
    assert (await client.get("/v1/customers/C-1", headers=headers)).json()["name"] == "张伟"


async def test_current_if_match_is_accepted(client, auth):
    headers = auth(Role.INTEGRATION)
    created = await put(client, headers, "/v1/customers/C-1", customer_body())

    response = await client.put(
        "/v1/customers/C-1", json=customer_body(name="New"), headers={**headers, "If-Match": created.headers["etag"]}
    )

    assert response.status_code == 200
    assert response.json()["name"] == "New"


async def test_if_none_match_star_only_creates(client, auth):
    headers = {**auth(Role.INTEGRATION), "If-None-Match": "*"}
    first = await client.put("/v1/customers/C-1", json=customer_body(), headers=headers)
    second = await client.put("/v1/customers/C-1", json=customer_body(name="Other"), headers=headers)

    assert first.status_code == 201
    assert (second.status_code, second.json()["code"]) == (412, "already_exists")


async def test_if_match_on_a_missing_customer_is_refused_and_creates_nothing(client, auth):
    headers = auth(Role.INTEGRATION)
    response = await client.put("/v1/customers/C-9", json=customer_body(), headers={**headers, "If-Match": '"1"'})

    assert response.status_code == 412
    assert (await client.get("/v1/customers/C-9", headers=headers)).status_code == 404


async def test_bad_fields_are_each_named(client, auth):
    body = customer_body(level="platinum", phone="not a phone", nickname="x")
    response = await client.put("/v1/customers/C-1", json=body, headers=auth(Role.INTEGRATION))

    assert response.status_code == 422
    pointers = {error["pointer"] for error in response.json()["errors"]}
    assert pointers == {"#/level", "#/phone", "#/nickname"}


async def test_a_malformed_business_key_is_refused(client, auth):
    response = await client.put("/v1/customers/bad%20key", json=customer_body(), headers=auth(Role.INTEGRATION))

    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == "customer_no"


async def test_customers_may_read_only_themselves(client, auth):
    await seed_reference_data(client, auth)

    own = await client.get("/v1/customers/C-1", headers=auth(Role.CUSTOMER, customer_no="C-1"))
    foreign = await client.get("/v1/customers/C-2", headers=auth(Role.CUSTOMER, customer_no="C-1"))

    assert own.status_code == 200
    assert (foreign.status_code, foreign.json()["code"]) == (404, "customer_not_found")


async def test_only_integrations_and_admins_upsert(client, auth):
    for role in (Role.CUSTOMER, Role.AGENT, Role.REVIEWER, Role.MANAGER):
        response = await client.put("/v1/customers/C-1", json=customer_body(), headers=auth(role))
        assert (response.status_code, response.json()["code"]) == (403, "role_not_allowed")
    assert (await client.put("/v1/customers/C-1", json=customer_body(), headers=auth(Role.ADMIN))).status_code == 201
    assert (await client.get("/v1/customers", headers=auth(Role.AGENT))).json()["items"][0]["customer_no"] == "C-1"


async def test_overview_shows_the_customers_orders_and_contracts(client, auth):
    await seed_reference_data(client, auth)
    await put(client, auth(Role.INTEGRATION), "/v1/contracts/SC-1", contract_body("C-1"))

    response = await client.get("/v1/customers/C-1/overview", headers=auth(Role.CUSTOMER, customer_no="C-1"))

    body = response.json()
    assert response.status_code == 200
    assert [o["order_no"] for o in body["recent_orders"]] == ["SO-C-1"]
    assert [c["contract_no"] for c in body["contracts"]] == ["SC-1"]
    assert body["more_orders_cursor"] is None


async def test_overview_of_another_customer_answers_404(client, auth):
    await seed_reference_data(client, auth)

    response = await client.get("/v1/customers/C-2/overview", headers=auth(Role.CUSTOMER, customer_no="C-1"))

    assert response.status_code == 404


async def test_a_phone_fits_its_column_or_is_refused(client, auth):
    headers = auth(Role.INTEGRATION)
    longest = "+" + "8" * 31  # 32 characters: the stored width

    kept = await client.put("/v1/customers/C-P", json=customer_body(phone=longest), headers=headers)
    refused = await client.put("/v1/customers/C-Q", json=customer_body(phone=longest + "8"), headers=headers)

    assert kept.status_code == 201, kept.text
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["pointer"] == "#/phone"
