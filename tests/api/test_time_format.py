"""Every time the service writes in JSON is RFC 3339 in UTC with `Z`: response models, timeline payloads,
notifications, webhook deliveries and the webhook bodies themselves, whatever offset the client sent."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from app.domain.principal import Role
from app.main import create_app
from bench.receiver import Receiver
from tests.conftest import client_for, make_settings
from tests.factories import act, open_ticket, seed_service_desk, seed_shop

DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
SHANGHAI_TIME = "2030-01-01T08:00:00+08:00"


def _times(document: Any, where: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(document, dict):
        for key, value in document.items():
            yield from _times(value, f"{where}/{key}")
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from _times(value, f"{where}/{index}")
    elif isinstance(document, str) and DATE_TIME.match(document):
        yield where, document


@pytest.fixture
async def hooks(app: FastAPI, database_url: str) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An app (same database as `app`, emptied after the test) whose webhooks may reach 127.0.0.1."""
    hooked = create_app(make_settings(database_url, webhook_allowed_hosts="127.0.0.1"))
    async with client_for(hooked) as http:
        yield hooked, http


async def test_every_time_written_in_json_is_utc_with_z(hooks, auth):
    app, http = hooks
    erp, agent, manager = auth(Role.INTEGRATION), auth(Role.AGENT), auth(Role.MANAGER, sub="manager-1")
    answers: dict[str, Any] = {}
    async with Receiver() as receiver:
        endpoint = await http.post(
            "/v1/webhook-endpoints", json={"url": receiver.url, "event_types": ["*"]}, headers=erp
        )
        await seed_service_desk(http, auth)
        await seed_shop(http, auth)
        ticket = await open_ticket(http, auth, expected_by=SHANGHAI_TIME)
        answers["ticket created"] = ticket
        patched = await http.patch(
            f"/v1/tickets/{ticket['id']}",
            json={"expected_by": "2030-01-02T09:30:00+08:00"},
            headers=agent,
        )
        answers["ticket patched"] = patched.json()
        answers["ticket assigned"] = (await act(http, manager, ticket, "assign", assignee="agent-1")).json()
        answers["ticket read"] = (await http.get(f"/v1/tickets/{ticket['id']}", headers=agent)).json()
        answers["tickets"] = (await http.get("/v1/tickets", headers=agent)).json()
        answers["timeline"] = (await http.get(f"/v1/tickets/{ticket['id']}/timeline", headers=agent)).json()
        refund = await http.post(
            "/v1/after-sales",
            json={"order_no": "SO-UNPICKED", "type": "refund", "reason_code": "changed_mind"},
            headers=auth(Role.CUSTOMER),
        )
        answers["after-sales created"] = refund.json()
        answers["after-sales timeline"] = (
            await http.get(f"/v1/after-sales/{refund.json()['id']}/timeline", headers=agent)
        ).json()
        answers["order"] = (await http.get("/v1/orders/SO-C-1", headers=agent)).json()
        answers["notifications"] = (
            await http.get("/v1/me/notifications", headers=auth(Role.AGENT, sub="agent-1"))
        ).json()
        await app.state.services.webhooks.dispatch()
        answers["deliveries"] = (
            await http.get(f"/v1/webhook-endpoints/{endpoint.json()['id']}/deliveries?limit=100", headers=erp)
        ).json()
        answers["webhook bodies"] = [orjson.loads(request.body) for request in receiver.received]

    assert patched.status_code == 200 and refund.status_code == 201, (patched.text, refund.text)
    found = {f"{name}{where}": value for name, answer in answers.items() for where, value in _times(answer)}
    assert len(found) > 50, "the walk found the times it is meant to check"
    assert answers["ticket read"]["expected_by"] == "2030-01-02T01:30:00Z"
    assert {where: value for where, value in found.items() if not value.endswith("Z")} == {}
    assert answers["webhook bodies"] and all(body["timestamp"].endswith("Z") for body in answers["webhook bodies"])
