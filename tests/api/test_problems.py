"""Every error is an RFC 9457 problem document with a stable code, and bad input writes nothing."""

from __future__ import annotations

import json

from app.domain.principal import Role
from tests.conftest import client_for
from tests.factories import customer_body, order_body, product_body, put

PROBLEM = "application/problem+json"


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert (body["status"], body["code"], body["type"]) == (status, code, f"/problems/{code}")
    assert body["title"] and body["detail"]
    return body


async def test_unknown_path_is_a_404_problem(client):
    assert_problem(await client.get("/v1/nowhere"), 404, "route_not_found")


async def test_wrong_method_is_a_405_problem_with_allow(client, auth):
    response = await client.delete("/v1/customers/C-1", headers=auth(Role.ADMIN))

    assert_problem(response, 405, "method_not_allowed")
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "PUT"}


async def test_invalid_json_is_a_422_problem(client, auth):
    response = await client.put(
        "/v1/products/SKU-1", content=b"{not json", headers={**auth(Role.ADMIN), "content-type": "application/json"}
    )

    body = assert_problem(response, 422, "validation_failed")
    assert "not valid JSON" in body["errors"][0]["detail"]


async def test_wrong_types_and_missing_fields_are_each_named(client, auth):
    response = await client.put("/v1/products/SKU-1", json={"warranty_months": "many"}, headers=auth(Role.ADMIN))

    body = assert_problem(response, 422, "validation_failed")
    assert {e["pointer"] for e in body["errors"]} == {"#/name", "#/warranty_months"}


async def test_oversize_body_is_a_413_problem_and_nothing_is_written(app_with, auth):
    async with client_for(app_with(max_body_bytes=2048)) as client:
        big = product_body(name="x" * 200, model="y" * 3000)
        response = await client.put("/v1/products/SKU-1", json=big, headers=auth(Role.ADMIN))
        assert_problem(response, 413, "payload_too_large")
        assert (await client.get("/v1/products/SKU-1", headers=auth(Role.ADMIN))).status_code == 404


async def test_oversize_streamed_body_without_length_is_a_413_problem(app_with, auth):
    async def chunks():
        for _ in range(4):
            yield b" " * 1024

    async with client_for(app_with(max_body_bytes=2048)) as client:
        response = await client.put(
            "/v1/products/SKU-1", content=chunks(), headers={**auth(Role.ADMIN), "content-type": "application/json"}
        )
        assert_problem(response, 413, "payload_too_large")


async def test_change_without_if_match_is_a_428_problem_when_required(app_with, auth):
    async with client_for(app_with(require_if_match=True)) as client:
        headers = auth(Role.ADMIN)
        created = await client.put("/v1/products/SKU-1", json=product_body(), headers=headers)
        refused = await client.put("/v1/products/SKU-1", json=product_body(name="B"), headers=headers)
        allowed = await client.put(
            "/v1/products/SKU-1", json=product_body(name="B"), headers={**headers, "If-Match": created.headers["etag"]}
        )

    assert created.status_code == 201
    assert_problem(refused, 428, "if_match_required")
    assert allowed.status_code == 200


async def test_too_many_requests_is_a_429_problem_with_retry_after(app_with, auth):
    async with client_for(app_with(rate_limit_per_minute=2)) as client:
        headers = auth(Role.AGENT)
        answers = [await client.get("/v1/me", headers=headers) for _ in range(3)]
        other_caller = await client.get("/v1/me", headers=auth(Role.AGENT, sub="someone-else"))

    assert [a.status_code for a in answers[:2]] == [200, 200]
    assert_problem(answers[2], 429, "rate_limited")
    assert int(answers[2].headers["retry-after"]) >= 1
    assert other_caller.status_code == 200


async def test_an_unexpected_error_is_a_500_problem_without_internals(app_with, capsys):
    app = app_with()

    async def explode() -> None:
        raise RuntimeError("SELECT secret_column FROM internals")

    app.add_api_route("/explode", explode)
    async with client_for(app) as client:
        response = await client.get("/explode", headers={"X-Request-ID": "req-500"})

    body = assert_problem(response, 500, "internal_error")
    assert "internals" not in response.text and "Traceback" not in response.text
    assert "req-500" in body["detail"]
    assert "unhandled_error" in capsys.readouterr().out


async def test_request_id_is_echoed_or_generated(client):
    echoed = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    generated = await client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})

    assert echoed.headers["x-request-id"] == "abc-123"
    assert len(generated.headers["x-request-id"]) == 32


async def test_log_lines_carry_the_request_id_and_never_the_token(client, auth, capsys):
    headers = {**auth(Role.ADMIN), "X-Request-ID": "trace-me"}
    await put(client, headers, "/v1/customers/C-1", customer_body())

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    request_lines = [line for line in lines if line.get("request_id") == "trace-me"]
    assert request_lines and request_lines[-1]["status"] == 201
    token = headers["Authorization"].split()[1]
    assert all(token not in json.dumps(line) for line in lines)


async def test_failed_order_upsert_leaves_no_partial_rows(client, auth):
    headers = auth(Role.ADMIN)
    await put(client, headers, "/v1/products/SKU-1", product_body())
    await put(client, headers, "/v1/customers/C-1", customer_body())
    body = order_body(
        lines=[{"sku": "SKU-1", "quantity": 1, "unit_price": 20000}, {"sku": "GONE", "quantity": 1, "unit_price": 0}]
    )

    assert (await client.put("/v1/orders/SO-1", json=body, headers=headers)).status_code == 422
    assert (await client.get("/v1/orders", headers=headers)).json()["items"] == []
