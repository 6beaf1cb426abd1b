"""Products, service contracts and keyset pages."""

from __future__ import annotations

from app.domain.principal import Role
from tests.factories import contract_body, customer_body, product_body, put


async def test_products_page_through_without_gaps_or_repeats(client, auth):
    headers = auth(Role.INTEGRATION)
    for n in range(25):
        await put(client, headers, f"/v1/products/SKU-{n:02d}", product_body())

    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 10, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/products", params=params, headers=auth(Role.CUSTOMER))).json()
        seen += [p["sku"] for p in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert pages == 3
    assert seen == [f"SKU-{n:02d}" for n in reversed(range(25))]


async def test_page_parameters_are_checked(client, auth):
    headers = auth(Role.AGENT)
    for params, name in (
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"cursor": "!!"}, "cursor"),
        ({"cursor": "WyJ4Il0"}, "cursor"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "10.0"}, "limit"),
        ({"limit": "1e1"}, "limit"),
        ({"limit": "+10"}, "limit"),
        ({"limit": "１０"}, "limit"),  # full-width digits
    ):
        response = await client.get("/v1/products", params=params, headers=headers)
        assert response.status_code == 422, params
        assert response.json()["errors"][0]["parameter"] == name


async def test_products_filter_by_line(client, auth):
    headers = auth(Role.INTEGRATION)
    await put(client, headers, "/v1/products/TV-1", product_body(product_line="tv"))
    await put(client, headers, "/v1/products/AC-1", product_body(product_line="ac"))

    page = (await client.get("/v1/products", params={"product_line": "tv"}, headers=headers)).json()

    assert [p["sku"] for p in page["items"]] == ["TV-1"]


async def test_unknown_product_answers_404(client, auth):
    response = await client.get("/v1/products/NOPE", headers=auth(Role.AGENT))

    assert (response.status_code, response.json()["code"]) == (404, "product_not_found")


async def _customers_and_product(client, headers):
    await put(client, headers, "/v1/products/SKU-1", product_body())
    await put(client, headers, "/v1/customers/C-1", customer_body())
    await put(client, headers, "/v1/customers/C-2", customer_body())


async def test_contract_rules_name_the_field(client, auth):
    headers = auth(Role.INTEGRATION)
    await _customers_and_product(client, headers)
    cases = {
        "#/ends_on": contract_body(ends_on="2025-01-01"),
        "#/skus/1": contract_body(skus=["SKU-1", "NOPE"]),
        "#/customer_no": contract_body("C-404"),
        "#/sla_level": contract_body(sla_level="gold"),
    }
    for pointer, body in cases.items():
        response = await client.put("/v1/contracts/SC-1", json=body, headers=headers)
        assert response.status_code == 422, pointer
        assert pointer in {e["pointer"] for e in response.json()["errors"]}, response.json()


async def test_a_contracts_customer_cannot_change_and_customers_see_only_theirs(client, auth):
    headers = auth(Role.INTEGRATION)
    await _customers_and_product(client, headers)
    await put(client, headers, "/v1/contracts/SC-1", contract_body("C-1"))

    moved = await client.put("/v1/contracts/SC-1", json=contract_body("C-2"), headers=headers)
    own = await client.get("/v1/contracts/SC-1", headers=auth(Role.CUSTOMER, customer_no="C-1"))
    foreign = await client.get("/v1/contracts/SC-1", headers=auth(Role.CUSTOMER, customer_no="C-2"))
    listed = await client.get("/v1/contracts", headers=auth(Role.CUSTOMER, customer_no="C-2"))

    assert (moved.status_code, moved.json()["code"]) == (409, "contract_customer_changed")
    assert own.status_code == 200 and foreign.status_code == 404
    assert listed.json()["items"] == []
