"""Bearer tokens and API keys: what is accepted, what is refused, and that secrets never leak."""

from __future__ import annotations

from datetime import timedelta

import jwt
from sqlalchemy import select

from app.domain.api_keys import split_key
from app.domain.clock import SystemClock
from app.domain.principal import Role
from app.persistence.tables import api_keys
from tests.conftest import TEST_SECRET


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _claims(**overrides):
    now = int(SystemClock().now().timestamp())
    return {"sub": "u1", "roles": ["agent"], "iss": "aftersales", "aud": "aftersales-api", "exp": now + 60, **overrides}


async def test_me_describes_the_token(client, auth):
    response = await client.get("/v1/me", headers=auth(Role.CUSTOMER, sub="zhang", customer_no="C-7"))

    assert response.json() == {
        "subject": "zhang",
        "roles": ["customer"],
        "customer_no": "C-7",
        "business_lines": [],
        "authenticated_by": "token",
    }


async def test_bad_tokens_are_401_problems(client):
    now = int(SystemClock().now().timestamp())
    cases = {
        "invalid_token": [
            "not-a-jwt",
            jwt.encode(_claims(), "another-secret-of-at-least-32-bytes!!"),
            jwt.encode(_claims(aud="someone-else"), TEST_SECRET),
            jwt.encode(_claims(roles=["superuser"]), TEST_SECRET),
            jwt.encode(_claims(roles=["customer"]), TEST_SECRET),
            jwt.encode(_claims(roles=["customer", "admin"], customer_no="C-1"), TEST_SECRET),
            jwt.encode({k: v for k, v in _claims().items() if k != "exp"}, TEST_SECRET),
            jwt.encode(_claims(), None, algorithm="none"),
        ],
        "token_expired": [jwt.encode(_claims(exp=now - 3600), TEST_SECRET)],
    }
    for code, tokens in cases.items():
        for token in tokens:
            response = await client.get("/v1/me", headers=_bearer(token))
            assert (response.status_code, response.json()["code"]) == (401, code), token
            assert token not in response.text


async def test_api_key_is_shown_once_and_authenticates(client, auth, app):
    created = await client.post(
        "/v1/api-keys", json={"name": "erp-sync", "roles": ["integration"]}, headers=auth(Role.ADMIN)
    )
    key = created.json()["key"]

    me = await client.get("/v1/me", headers={"X-API-Key": key})
    listed = await client.get("/v1/api-keys", headers=auth(Role.ADMIN))

    assert created.status_code == 201
    assert me.json()["roles"] == ["integration"] and me.json()["authenticated_by"] == "api_key"
    assert "key" not in listed.json()["items"][0]
    async with app.state.services.database.engine.connect() as conn:
        stored = (await conn.execute(select(api_keys))).one()
    key_id, secret = split_key(key)
    assert secret not in str(stored) and key_id in str(stored)


async def test_revoked_api_key_is_refused(client, auth):
    admin = auth(Role.ADMIN)
    created = (await client.post("/v1/api-keys", json={"name": "wms", "roles": ["integration"]}, headers=admin)).json()

    first = await client.post(f"/v1/api-keys/{created['id']}/revoke", headers=admin)
    again = await client.post(f"/v1/api-keys/{created['id']}/revoke", headers=admin)
    refused = await client.get("/v1/me", headers={"X-API-Key": created["key"]})

    assert first.json()["revoked_at"] is not None
    assert again.json()["revoked_at"] == first.json()["revoked_at"]
    assert (refused.status_code, refused.json()["code"]) == (401, "api_key_revoked")


async def test_api_key_roles_limit_what_it_may_do(client, auth):
    created = (
        await client.post("/v1/api-keys", json={"name": "reader", "roles": ["agent"]}, headers=auth(Role.ADMIN))
    ).json()

    response = await client.put(
        "/v1/products/SKU-1", json={"name": "x", "warranty_months": 1}, headers={"X-API-Key": created["key"]}
    )

    assert response.status_code == 403


async def test_forged_and_malformed_api_keys_are_refused(client, auth):
    created = (
        await client.post("/v1/api-keys", json={"name": "k", "roles": ["integration"]}, headers=auth(Role.ADMIN))
    ).json()
    forged = created["key"][:-4] + "AAAA"

    for key, code in ((forged, "invalid_api_key"), ("ak_short_x", "invalid_api_key"), ("garbage", "invalid_api_key")):
        response = await client.get("/v1/me", headers={"X-API-Key": key})
        assert (response.status_code, response.json()["code"]) == (401, code)


async def test_api_keys_cannot_carry_the_customer_role_or_unknown_roles(client, auth):
    admin = auth(Role.ADMIN)
    customer = await client.post("/v1/api-keys", json={"name": "k", "roles": ["customer"]}, headers=admin)
    unknown = await client.post("/v1/api-keys", json={"name": "k", "roles": ["root"]}, headers=admin)
    unknown_id = await client.post("/v1/api-keys/00000000-0000-0000-0000-000000000000/revoke", headers=admin)

    assert (customer.status_code, customer.json()["errors"][0]["pointer"]) == (422, "#/roles")
    assert (unknown.status_code, unknown.json()["errors"][0]["pointer"]) == (422, "#/roles/0")
    assert unknown_id.status_code == 404
    assert (await client.get("/v1/api-keys", headers=admin)).json()["items"] == []


async def test_token_helper_round_trips_through_the_codec(app):
    codec = app.state.services.tokens
    token = codec.issue(
        subject="s", roles=[Role.MANAGER], business_lines=["tv"], now=SystemClock().now(), ttl=timedelta(minutes=5)
    )

    principal = codec.verify(token)

    assert (principal.subject, principal.roles, principal.business_lines) == ("s", {Role.MANAGER}, {"tv"})
