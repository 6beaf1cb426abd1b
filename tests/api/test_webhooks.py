"""Outbound webhooks to a real local receiver: subscriptions, Standard Webhooks signatures, retries on the
schedule, 410 Gone, dead letters, manual retry, replay and secret rotation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from standardwebhooks import Webhook

from app.domain.principal import Role
from app.main import create_app
from bench.receiver import Receiver
from tests.conftest import MovableClock, client_for, make_settings
from tests.factories import iso, open_ticket, seed_service_desk

LOCAL = {"webhook_allowed_hosts": "127.0.0.1", "webhook_retry_schedule": "0,5,300"}


@pytest.fixture
async def hooks(database_url: str, clock: MovableClock) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An app whose webhooks may reach 127.0.0.1, on a clock the test moves."""
    app = create_app(make_settings(database_url, **LOCAL), clock=clock)
    async with client_for(app) as http:
        yield app, http


async def _endpoint(http: httpx.AsyncClient, headers: dict[str, str], url: str, **body: Any) -> dict[str, Any]:
    response = await http.post(
        "/v1/webhook-endpoints", json={"url": url, "event_types": ["*"], **body}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _deliveries(http, headers, endpoint) -> list[dict[str, Any]]:
    response = await http.get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries?limit=100", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def _verified(secret: str, request) -> dict[str, Any]:
    return Webhook(secret).verify(request.body.decode(), request.headers)


def _signed_by(secret: str, request) -> bool:
    """Whether one of the request's signatures is the secret's (at any time: the test's clock may run ahead)."""
    at = datetime.fromtimestamp(int(request.headers["webhook-timestamp"]), UTC)
    expected = Webhook(secret).sign(request.headers["webhook-id"], at, request.body.decode())
    return expected in request.headers["webhook-signature"].split(" ")


async def test_events_arrive_signed_with_type_timestamp_sequence_and_data(hooks, auth):
    app, http = hooks
    erp = auth(Role.INTEGRATION)
    async with Receiver() as receiver:
        endpoint = await _endpoint(http, erp, receiver.url, event_types=["ticket.*"])
        assert endpoint["secret"].startswith("whsec_")
        await seed_service_desk(http, auth)
        ticket = await open_ticket(http, auth)
        await http.post(f"/v1/tickets/{ticket['id']}/actions/claim", json={}, headers=auth(Role.AGENT))

        sent = await app.state.services.webhooks.dispatch()

    assert sent > 0
    bodies = [_verified(endpoint["secret"], r) for r in receiver.received]
    assert [b["type"] for b in bodies] == ["ticket.created", "ticket.claim"]
    assert bodies[0]["data"]["number"] == ticket["number"]
    assert bodies[0]["sequence"] < bodies[1]["sequence"]
    assert {r.headers["webhook-id"] for r in receiver.received} == {
        d["event_id"] for d in await _deliveries(http, erp, endpoint)
    }
    shown = (await http.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=erp)).json()
    assert "secret" not in shown
    delivered = await _deliveries(http, erp, endpoint)
    assert {d["status"] for d in delivered} == {"succeeded"}
    assert delivered[0]["tries"][0]["status_code"] == 204


async def test_only_subscribed_types_are_delivered(hooks, auth):
    app, http = hooks
    async with Receiver() as receiver:
        await _endpoint(http, auth(Role.INTEGRATION), receiver.url, event_types=["after_sales.*"])
        await seed_service_desk(http, auth)
        await open_ticket(http, auth)
        await app.state.services.webhooks.dispatch()
    assert receiver.received == []


async def test_failures_are_retried_on_the_schedule_until_they_succeed(hooks, auth, clock):
    app, http = hooks
    answers = iter([500, 503])
    async with Receiver(answer=lambda _r: next(answers, 204)) as receiver:
        endpoint = await _endpoint(http, auth(Role.INTEGRATION), receiver.url, event_types=["ticket.created"])
        await seed_service_desk(http, auth)
        await open_ticket(http, auth)
        dispatch = app.state.services.webhooks.dispatch

        await dispatch()
        assert await dispatch() == 0  # the next try waits 5 s
        clock.advance(timedelta(seconds=6))
        await dispatch()
        clock.advance(timedelta(seconds=200))
        assert await dispatch() == 0  # then 5 minutes
        clock.advance(timedelta(seconds=101))
        await dispatch()

    delivery = (await _deliveries(http, auth(Role.INTEGRATION), endpoint))[0]
    assert delivery["status"] == "succeeded" and delivery["attempts"] == 3
    assert [t["status_code"] for t in delivery["tries"]] == [500, 503, 204]
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1


async def test_a_delivery_that_fails_every_try_is_dead_lettered_and_can_be_retried(hooks, auth, clock):
    app, http = hooks
    failing = True
    async with Receiver(answer=lambda _r: 500 if failing else 200) as receiver:
        erp = auth(Role.INTEGRATION)
        endpoint = await _endpoint(http, erp, receiver.url, event_types=["ticket.created"])
        await seed_service_desk(http, auth)
        await open_ticket(http, auth)
        for _ in range(3):
            await app.state.services.webhooks.dispatch()
            clock.advance(timedelta(minutes=10))
        dead = (await _deliveries(http, erp, endpoint))[0]
        assert (dead["status"], dead["attempts"], dead["next_attempt_at"]) == ("dead", 3, None)

        failing = False
        retried = await http.post(f"/v1/webhook-deliveries/{dead['id']}/retry", headers=erp)
        assert retried.status_code == 200 and retried.json()["status"] == "pending"
        await app.state.services.webhooks.dispatch()

    assert (await _deliveries(http, erp, endpoint))[0]["status"] == "succeeded"
    assert len(receiver.received) == 4


async def test_410_gone_disables_the_endpoint_until_it_is_enabled_again(hooks, auth):
    app, http = hooks
    erp = auth(Role.INTEGRATION)
    async with Receiver(answer=lambda _r: 410) as receiver:
        endpoint = await _endpoint(http, erp, receiver.url, event_types=["ticket.*"])
        await seed_service_desk(http, auth)
        await open_ticket(http, auth)
        await app.state.services.webhooks.dispatch()
        gone = (await http.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=erp)).json()
        assert (gone["enabled"], gone["disabled_reason"]) == (False, "the endpoint answered 410 Gone")
        await open_ticket(http, auth)
        await app.state.services.webhooks.dispatch()
        assert len(receiver.received) == 1

        enabled = await http.patch(
            f"/v1/webhook-endpoints/{endpoint['id']}",
            json={"enabled": True},
            headers={**erp, "If-Match": f'"{gone["version"]}"'},
        )
    assert enabled.json()["enabled"] is True and enabled.json()["disabled_reason"] is None


async def test_a_rotated_secret_signs_beside_the_old_one_for_a_day(hooks, auth, clock):
    app, http = hooks
    erp = auth(Role.INTEGRATION)
    async with Receiver() as receiver:
        endpoint = await _endpoint(http, erp, receiver.url, event_types=["ticket.created"])
        rotated = (await http.post(f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret", headers=erp)).json()
        assert rotated["secret"] != endpoint["secret"]
        await seed_service_desk(http, auth)
        await open_ticket(http, auth)
        await app.state.services.webhooks.dispatch()
        clock.advance(timedelta(hours=25))
        await open_ticket(http, auth)
        await app.state.services.webhooks.dispatch()

    first, second = receiver.received
    assert len(first.headers["webhook-signature"].split(" ")) == 2
    assert _signed_by(endpoint["secret"], first) and _signed_by(rotated["secret"], first)
    assert len(second.headers["webhook-signature"].split(" ")) == 1
    assert _signed_by(rotated["secret"], second) and not _signed_by(endpoint["secret"], second)


async def test_replay_sends_a_time_range_again_including_events_before_the_endpoint(hooks, auth, clock):
    app, http = hooks
    erp = auth(Role.INTEGRATION)
    await seed_service_desk(http, auth)
    await open_ticket(http, auth)
    await open_ticket(http, auth)
    await app.state.services.webhooks.dispatch()  # nobody subscribed yet
    async with Receiver() as receiver:
        endpoint = await _endpoint(http, erp, receiver.url, event_types=["ticket.created"])
        body = {"from": iso(clock.now() - timedelta(hours=1)), "to": iso(clock.now() + timedelta(minutes=1))}
        replayed = await http.post(f"/v1/webhook-endpoints/{endpoint['id']}/replay", json=body, headers=erp)
        assert replayed.json() == {"queued": 2}
        await app.state.services.webhooks.dispatch()
        again = await http.post(f"/v1/webhook-endpoints/{endpoint['id']}/replay", json=body, headers=erp)
        assert again.json() == {"queued": 2}
        await app.state.services.webhooks.dispatch()
        bad = await http.post(
            f"/v1/webhook-endpoints/{endpoint['id']}/replay", json={**body, "to": body["from"]}, headers=erp
        )
    assert len(receiver.received) == 4 and len({r.headers["webhook-id"] for r in receiver.received}) == 2
    assert bad.status_code == 422


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://10.1.2.3/hook", "not a public address"),
        ("http://192.168.1.10/hook", "not a public address"),
        ("http://169.254.169.254/latest/meta-data", "metadata"),
        ("http://[::1]:8080/hook", "not a public address"),
        ("http://localhost:9000/hook", "not a public address"),
        ("ftp://files.example.com/hook", "https://"),
        ("https://user:secret@hooks.example.com/x", "credentials"),
        ("https://no-such-host.invalid/hook", "does not resolve"),
    ],
)
async def test_urls_into_private_networks_are_refused(client, auth, url, reason):
    response = await client.post(
        "/v1/webhook-endpoints", json={"url": url, "event_types": ["*"]}, headers=auth(Role.ADMIN)
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["pointer"] == "#/url"
    assert reason in response.json()["errors"][0]["detail"]


async def test_the_allow_list_never_opens_cloud_metadata(app_with, auth):
    async with client_for(app_with(webhook_allowed_hosts="169.254.0.0/16,127.0.0.1")) as http:
        response = await http.post(
            "/v1/webhook-endpoints",
            json={"url": "http://169.254.169.254/", "event_types": ["*"]},
            headers=auth(Role.ADMIN),
        )
    assert response.status_code == 422


async def test_unknown_event_types_and_bad_bodies_are_refused(hooks, auth):
    _app, http = hooks
    admin = auth(Role.ADMIN)
    for event_types in (["tickets.*"], ["ticket.nope"], [], ["Ticket.*"], ["ticket.**"]):
        response = await http.post(
            "/v1/webhook-endpoints", json={"url": "http://127.0.0.1:1/x", "event_types": event_types}, headers=admin
        )
        assert response.status_code == 422, (event_types, response.text)
    extra = await http.post(
        "/v1/webhook-endpoints",
        json={"url": "http://127.0.0.1:1/x", "event_types": ["*"], "secret": "mine"},
        headers=admin,
    )
    assert extra.status_code == 422
    types = (await http.get("/v1/webhook-event-types", headers=admin)).json()
    assert "ticket.created" in types and "after_sales.refund_requested" in types


async def test_endpoints_belong_to_the_integration_that_registered_them(hooks, auth):
    _app, http = hooks
    mine = await _endpoint(http, auth(Role.INTEGRATION, sub="erp"), "http://127.0.0.1:1/x")
    other = auth(Role.INTEGRATION, sub="crm")
    assert (await http.get(f"/v1/webhook-endpoints/{mine['id']}", headers=other)).status_code == 404
    assert (await http.get("/v1/webhook-endpoints", headers=other)).json()["items"] == []
    assert (await http.get(f"/v1/webhook-endpoints/{mine['id']}/deliveries", headers=other)).status_code == 404
    assert (await http.get(f"/v1/webhook-endpoints/{mine['id']}", headers=auth(Role.ADMIN))).status_code == 200
    for role in (Role.AGENT, Role.MANAGER, Role.CUSTOMER):
        assert (await http.get("/v1/webhook-endpoints", headers=auth(role))).status_code == 403
    unknown = "/v1/webhook-deliveries/00000000-0000-7000-8000-000000000000/retry"
    assert (await http.post(unknown, headers=auth(Role.ADMIN))).status_code == 404


async def test_the_secret_is_never_logged(hooks, auth, capsys):
    _app, http = hooks
    endpoint = await _endpoint(http, auth(Role.ADMIN), "http://127.0.0.1:1/x")
    rotated = (
        await http.post(f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret", headers=auth(Role.ADMIN))
    ).json()
    logged = capsys.readouterr()
    for secret in (endpoint["secret"], rotated["secret"]):
        assert secret not in logged.out + logged.err
    assert orjson.loads(orjson.dumps(rotated))["secret"] == rotated["secret"]
