"""Every route declares who may call it; the role matrix holds for every operation."""

from __future__ import annotations

import base64
import re
import uuid

import pytest

from app.domain.principal import Role
from app.web.routes import api_routes, declared_roles, is_download_link, is_public_link, is_signed
from tests.conftest import client_for

OPEN_ROUTES = {"/healthz", "/readyz", "/metrics"}
SIGNED_ROUTES = {"/v1/inbound/{source}"}
"""Routes other systems call with a body signed by their source's secret (`Signed`) instead of a token and a role."""
LINK_ROUTES = {"/v1/surveys/{token}"}
"""Public survey links (`PublicLink`): the single-use token in the path authorizes a caller without credentials."""
DOWNLOAD_ROUTES = {"/v1/attachments/{attachment_id}/content"}
"""Attachment downloads (`SignedDownload`): the HMAC signature of the link in the query authorizes a caller."""
SAMPLE_PATH_VALUES = {"key_id": str(uuid.uuid4()), "source": "erp"}


def _operations(app):
    for route in api_routes(app):
        for method in sorted(route.methods):
            path = re.sub(r"\{(\w+)\}", lambda m: SAMPLE_PATH_VALUES.get(m.group(1), "C-1"), route.path_format)
            yield route, method, path


async def test_every_route_declares_its_permission_or_is_deliberately_open(app):
    undeclared = [route.path_format for route in api_routes(app) if declared_roles(route) is None]
    signed = {route.path_format for route in api_routes(app) if is_signed(route)}
    links = {route.path_format for route in api_routes(app) if is_public_link(route)}
    downloads = {route.path_format for route in api_routes(app) if is_download_link(route)}

    assert set(undeclared) == OPEN_ROUTES | SIGNED_ROUTES | LINK_ROUTES | DOWNLOAD_ROUTES
    assert signed == SIGNED_ROUTES
    assert links == LINK_ROUTES
    assert downloads == DOWNLOAD_ROUTES


async def test_every_protected_operation_refuses_anonymous_callers(app, client):
    for route, method, path in _operations(app):
        if route.path_format in OPEN_ROUTES | SIGNED_ROUTES | LINK_ROUTES | DOWNLOAD_ROUTES:
            continue
        response = await client.request(method, path, json={})
        assert response.status_code == 401, (method, path)
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_every_signed_operation_refuses_unsigned_callers_whatever_token_they_send(app, app_with, auth):
    secret = "whsec_" + base64.b64encode(b"erp-signing-key-for-the-route-audit").decode()
    async with client_for(app_with(inbound_secrets={"erp": secret})) as signed_app:
        for route, method, path in _operations(app):
            if route.path_format not in SIGNED_ROUTES:
                continue
            response = await signed_app.request(method, path, json={"type": "x", "data": {}}, headers=auth(Role.ADMIN))
            assert (response.status_code, response.json()["code"]) == (401, "invalid_signature"), (method, path)


@pytest.mark.parametrize("role", list(Role))
async def test_role_matrix(app, client, auth, role):
    """A role outside a route's permission gets 403 before anything else is looked at; inside, never 401/403."""
    for route, method, path in _operations(app):
        roles = declared_roles(route)
        if roles is None:
            continue
        response = await client.request(method, path, json={}, headers=auth(role))
        if role in roles:
            assert response.status_code not in (401, 403), (role, method, path, response.text)
        else:
            assert (response.status_code, response.json()["code"]) == (403, "role_not_allowed"), (role, method, path)


async def test_a_public_link_answers_without_credentials_and_refuses_to_be_answered_with_them(app, client, auth):
    for route, method, path in _operations(app):
        if route.path_format not in LINK_ROUTES:
            continue
        anonymous = await client.request(method, path, json={"csat": 5})
        assert (anonymous.status_code, anonymous.json()["code"]) == (404, "survey_not_found"), (method, path)
        if method == "POST":
            staff = await client.request(method, path, json={"csat": 5}, headers=auth(Role.ADMIN))
            assert (staff.status_code, staff.json()["code"]) == (403, "survey_staff_credentials"), path


async def test_open_operations_answer_without_credentials(client):
    for path in sorted(OPEN_ROUTES):
        assert (await client.get(path)).status_code == 200, path


async def test_a_download_link_refuses_whoever_holds_no_valid_signature_whatever_token_they_send(app, client, auth):
    for route, method, path in _operations(app):
        if route.path_format not in DOWNLOAD_ROUTES:
            continue
        path = path.replace("C-1", str(uuid.uuid4()))
        for headers in ({}, auth(Role.ADMIN)):
            response = await client.request(method, f"{path}?expires=9999999999&signature=x", headers=headers)
            assert (response.status_code, response.json()["code"]) == (403, "link_invalid"), (method, path)
