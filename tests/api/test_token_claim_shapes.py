"""A validly signed token is still client input: every claim of the wrong shape is a 401, never a 500."""

from __future__ import annotations

import json

import jwt
import pytest

from app.domain.clock import SystemClock
from tests.conftest import TEST_SECRET

NOW = int(SystemClock().now().timestamp())


def _good() -> dict[str, object]:
    """The well-formed claims, expiring ten minutes after the test runs (not after the module was imported: a long
    suite would otherwise send an expired token)."""
    exp = int(SystemClock().now().timestamp()) + 600
    return {"sub": "u1", "roles": ["agent"], "iss": "aftersales", "aud": "aftersales-api", "exp": exp}


BAD_SHAPES = {
    "roles nested list": {"roles": [["admin"]]},
    "roles of objects": {"roles": [{"a": 1}]},
    "roles a string": {"roles": "admin"},
    "roles an object": {"roles": {"admin": True}},
    "roles of numbers": {"roles": [1]},
    "roles of null": {"roles": [None]},
    "roles empty": {"roles": []},
    "roles null": {"roles": None},
    "sub a number": {"sub": 42},
    "sub a list": {"sub": ["u1"]},
    "sub empty": {"sub": ""},
    "sub null": {"sub": None},
    "customer_no a number": {"roles": ["customer"], "customer_no": 10001},
    "customer_no a list": {"roles": ["customer"], "customer_no": ["C-1"]},
    "customer_no empty": {"roles": ["customer"], "customer_no": ""},
    "business_lines nested": {"business_lines": [["home"]]},
    "business_lines a string": {"business_lines": "home"},
    "business_lines of numbers": {"business_lines": [1, 2]},
    "business_lines an object": {"business_lines": {"home": 1}},
    "exp a string": {"exp": str(NOW + 600)},
    "exp a list": {"exp": [NOW + 600]},
    "exp null": {"exp": None},
    "iat a string": {"iat": "yesterday"},
    "nbf an object": {"nbf": {"at": NOW}},
    "aud a number": {"aud": 7},
    "aud a list of lists": {"aud": [["aftersales-api"]]},
    "iss a list": {"iss": ["aftersales"]},
    "iss a number": {"iss": 1},
    "jti a number": {"jti": 5},
}


def _signed(payload: bytes) -> str:
    """Signed as the service signs, but with the payload exactly as given (PyJWT's encoder refuses some shapes)."""
    return jwt.api_jws.encode(payload, TEST_SECRET, algorithm="HS256", headers={"typ": "JWT"})


@pytest.mark.parametrize("shape", BAD_SHAPES)
async def test_a_signed_token_with_a_badly_shaped_claim_is_refused_with_401(client, shape):
    token = _signed(json.dumps({**_good(), **BAD_SHAPES[shape]}).encode())

    response = await client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] in ("invalid_token", "token_expired")


@pytest.mark.parametrize(
    "payload", [b"[1, 2]", b'"a string"', b"null", b"42"], ids=["list", "string", "null", "number"]
)
async def test_a_signed_token_whose_payload_is_not_an_object_is_refused_with_401(client, payload):
    token = _signed(payload)

    response = await client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401, response.text


async def test_the_well_formed_token_these_cases_start_from_is_accepted(client):
    token = _signed(json.dumps(_good()).encode())

    response = await client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
