"""Liveness, readiness and metrics."""

from __future__ import annotations

from app.domain.principal import Role
from tests.conftest import client_for, make_settings
from tests.databases import sqlite_url


async def test_healthz_answers_without_touching_anything(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}


async def test_readyz_reports_the_schema_at_head(client):
    response = await client.get("/readyz")

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ready" and body["schema_revision"] == body["expected_revision"]


async def test_readyz_is_503_on_an_unmigrated_database(tmp_path):
    from app.main import create_app

    async with client_for(create_app(make_settings(sqlite_url(tmp_path)))) as client:
        response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["status"] == "not_ready" and response.json()["schema_revision"] is None


async def test_readyz_is_503_when_the_database_is_unreachable():
    from app.main import create_app

    app = create_app(make_settings("postgresql+asyncpg://nobody@127.0.0.1:1/none"))
    async with client_for(app) as client:
        response = await client.get("/readyz")

    assert (response.status_code, response.json()["database"]) == (503, "unreachable")


async def test_metrics_count_requests_by_route_template_and_status(client, auth):
    await client.get("/v1/customers/C-404", headers=auth(Role.AGENT))

    text = (await client.get("/metrics")).text

    assert 'route="/v1/customers/{customer_no}",status="404"' in text
    assert "http_request_duration_seconds_bucket" in text
