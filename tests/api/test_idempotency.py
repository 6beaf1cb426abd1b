"""Idempotency-Key on POSTs: a retry answers the first answer again and writes nothing twice; keys belong to their
caller, are refused for a different request or while the first still runs, and expire."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import Table, func, select

from app.domain.idempotency import ABANDONED_AFTER, IdempotentRequest, fingerprint
from app.domain.principal import Role
from app.main import create_app
from app.persistence.tables import after_sales_orders, idempotency_keys, outbox, tickets, timeline
from app.workers.jobs import jobs
from tests.conftest import MovableClock, client_for, make_settings
from tests.factories import (
    open_ticket,
    seed_service_desk,
    seed_shop,
    ticket_body,
)

KEY = "8e03978e-40d5-43e8-bc93-6894a57f9324"


def keyed(headers: dict[str, str], key: str = KEY) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


async def count(app, table: Table) -> int:
    async with app.state.services.database.engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(table))).scalar_one()


async def written(app) -> tuple[int, int, int]:
    return (await count(app, tickets), await count(app, timeline), await count(app, outbox))


@pytest.fixture
async def desk(client, auth):
    await seed_service_desk(client, auth)


async def test_a_retried_ticket_intake_replays_the_first_answer_and_opens_no_second_ticket(app, client, auth, desk):
    headers = keyed(auth(Role.AGENT))
    first = await client.post("/v1/tickets", json=ticket_body(), headers=headers)
    after_first = await written(app)

    again = await client.post("/v1/tickets", json=ticket_body(), headers=headers)

    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    assert (again.status_code, again.content) == (201, first.content)
    assert again.headers["idempotent-replayed"] == "true"
    for header in ("location", "etag", "content-type"):
        assert again.headers[header] == first.headers[header], header
    assert again.headers["x-request-id"] != first.headers["x-request-id"]
    assert await written(app) == after_first
    assert after_first[0] == 1


async def test_a_retried_refund_reserves_the_money_once(app, client, auth):
    await seed_shop(client, auth)
    refund = {"order_no": "SO-UNPICKED", "type": "refund", "reason_code": "changed_mind"}
    customer = keyed(auth(Role.CUSTOMER))

    first = await client.post("/v1/after-sales", json=refund, headers=customer)
    outbox_after_first = await count(app, outbox)
    again = await client.post("/v1/after-sales", json=refund, headers=customer)

    assert (first.status_code, again.status_code) == (201, 201), first.text
    assert (again.content, again.headers["location"]) == (first.content, first.headers["location"])
    assert again.headers["idempotent-replayed"] == "true"
    assert await count(app, after_sales_orders) == 1
    assert await count(app, outbox) == outbox_after_first
    eligibility = (await client.get("/v1/orders/SO-UNPICKED/eligibility", headers=auth(Role.AGENT))).json()
    assert eligibility["refundable_amount"] == 0


async def test_the_same_key_for_a_different_request_is_refused(app, client, auth, desk):
    headers = keyed(auth(Role.AGENT))
    await client.post("/v1/tickets", json=ticket_body(), headers=headers)

    other_body = await client.post("/v1/tickets", json=ticket_body(title="另一个问题"), headers=headers)
    other_query = await client.post("/v1/tickets?x=1", json=ticket_body(), headers=headers)

    for response in (other_body, other_query):
        problem = response.json()
        assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
        assert problem["code"] == "idempotency_key_reused"
        assert [error["header"] for error in problem["errors"]] == ["Idempotency-Key"]
    assert await count(app, tickets) == 1


async def test_keys_belong_to_their_caller(app, client, auth, desk):
    created = await client.post(
        "/v1/api-keys", json={"name": "im-bot", "roles": ["integration"]}, headers=auth(Role.ADMIN)
    )
    bot = keyed({"X-API-Key": created.json()["key"]})

    by_agent_1 = await client.post("/v1/tickets", json=ticket_body(), headers=keyed(auth(Role.AGENT, sub="agent-1")))
    by_agent_2 = await client.post("/v1/tickets", json=ticket_body(), headers=keyed(auth(Role.AGENT, sub="agent-2")))
    by_bot = await client.post("/v1/tickets", json=ticket_body(), headers=bot)
    bot_again = await client.post("/v1/tickets", json=ticket_body(), headers=bot)

    assert [r.status_code for r in (by_agent_1, by_agent_2, by_bot)] == [201, 201, 201]
    assert not any("idempotent-replayed" in r.headers for r in (by_agent_1, by_agent_2, by_bot))
    assert len({r.json()["id"] for r in (by_agent_1, by_agent_2, by_bot)}) == 3
    assert (bot_again.json()["id"], bot_again.headers["idempotent-replayed"]) == (by_bot.json()["id"], "true")
    assert await count(app, tickets) == 3


async def test_a_client_error_is_replayed_too_even_when_the_request_would_now_succeed(app, client, auth, desk):
    ticket = await open_ticket(client, auth)
    agent = auth(Role.AGENT, sub="agent-1")
    path = f"/v1/tickets/{ticket['id']}/actions/start"
    too_early = await client.post(path, json={}, headers=keyed(agent))
    claimed = await client.post(f"/v1/tickets/{ticket['id']}/actions/claim", json={}, headers=agent)

    again = await client.post(path, json={}, headers=keyed(agent))

    assert (too_early.status_code, too_early.json()["code"], claimed.status_code) == (409, "action_not_allowed", 200)
    assert (again.status_code, again.content, again.headers["idempotent-replayed"]) == (409, too_early.content, "true")
    assert again.headers["content-type"] == "application/problem+json"
    current = (await client.get(f"/v1/tickets/{ticket['id']}", headers=agent)).json()
    assert current["status"] == "assigned"


@pytest.mark.parametrize(
    "key",
    ["", "k" * 256, "clé".encode(), "tab\tinside", "del\x7f"],
    ids=["empty", "too-long", "not-ascii", "control-char", "delete-char"],
)
async def test_a_malformed_key_is_a_422_naming_the_header(app, client, auth, desk, key):
    response = await client.post(
        "/v1/tickets", json=ticket_body(), headers={**auth(Role.AGENT), "Idempotency-Key": key}
    )

    problem = response.json()
    assert (response.status_code, response.headers["content-type"]) == (422, "application/problem+json")
    assert problem["code"] == "validation_failed" and "x-request-id" in response.headers
    assert [set(error) for error in problem["errors"]] == [{"header", "detail"}]
    assert problem["errors"][0]["header"] == "Idempotency-Key"
    assert (await count(app, tickets), await count(app, idempotency_keys)) == (0, 0)


async def test_the_longest_key_is_accepted(app, client, auth, desk):
    headers = keyed(auth(Role.AGENT), "~" * 255)

    first = await client.post("/v1/tickets", json=ticket_body(), headers=headers)
    again = await client.post("/v1/tickets", json=ticket_body(), headers=headers)

    assert (first.status_code, again.headers["idempotent-replayed"]) == (201, "true")


async def test_without_the_header_nothing_is_kept(app, client, auth, desk):
    first = await client.post("/v1/tickets", json=ticket_body(), headers=auth(Role.AGENT))
    second = await client.post("/v1/tickets", json=ticket_body(), headers=auth(Role.AGENT))

    assert (first.status_code, second.status_code) == (201, 201)
    assert "idempotent-replayed" not in second.headers
    assert (await count(app, tickets), await count(app, idempotency_keys)) == (2, 0)


async def test_an_unauthenticated_request_with_a_key_answers_401_and_keeps_nothing(app, client, desk):
    bad_token = {"Authorization": "Bearer not-a-token"}

    anonymous = await client.post("/v1/tickets", json=ticket_body(), headers=keyed({}))
    forged = await client.post("/v1/tickets", json=ticket_body(), headers=keyed(bad_token))

    assert (anonymous.status_code, forged.status_code) == (401, 401)
    assert (await count(app, tickets), await count(app, idempotency_keys)) == (0, 0)


async def test_a_key_whose_first_request_still_runs_answers_409(app, client, auth, desk):
    body = client.build_request("POST", "/v1/tickets", json=ticket_body()).content
    running = IdempotentRequest("agent-1", KEY, "POST", "/v1/tickets", fingerprint("POST", "/v1/tickets", "", body))
    assert await app.state.services.idempotency.begin(running) is None

    json_headers = {**auth(Role.AGENT), "Content-Type": "application/json"}

    response = await client.post("/v1/tickets", content=body, headers=keyed(json_headers))

    assert (response.status_code, response.json()["code"]) == (409, "idempotency_key_in_flight")
    assert response.headers["content-type"] == "application/problem+json"
    assert await count(app, tickets) == 0


async def test_a_server_error_frees_the_key_for_a_retry(app, client, auth, desk, monkeypatch):
    async def broken(*_args, **_kwargs):
        raise RuntimeError("the database went away")

    headers = keyed(auth(Role.AGENT))
    with monkeypatch.context() as patch:
        patch.setattr(app.state.services.tickets, "create", broken)
        failed = await client.post("/v1/tickets", json=ticket_body(), headers=headers)
    kept_after_failure = await count(app, idempotency_keys)

    retried = await client.post("/v1/tickets", json=ticket_body(), headers=headers)

    assert (failed.status_code, failed.json()["code"], kept_after_failure) == (500, "internal_error", 0)
    assert retried.status_code == 201 and "idempotent-replayed" not in retried.headers
    assert await count(app, tickets) == 1


async def test_a_rate_limited_answer_is_not_kept(app_with, auth, desk):
    limited = app_with(rate_limit_per_minute=1)
    async with client_for(limited) as http:
        await http.post("/v1/tickets", json=ticket_body(), headers=auth(Role.AGENT))
        refused = await http.post("/v1/tickets", json=ticket_body(), headers=keyed(auth(Role.AGENT)))
        assert refused.status_code == 429
        assert await count(limited, idempotency_keys) == 0


async def test_the_body_cap_still_applies_with_a_key(app, client, auth, desk):
    async def large_body():
        for _ in range(2):
            yield b" " * 600_000

    response = await client.post("/v1/tickets", content=large_body(), headers=keyed(auth(Role.AGENT)))

    assert (response.status_code, response.json()["code"]) == (413, "payload_too_large")
    assert "x-request-id" in response.headers
    assert await count(app, idempotency_keys) == 0


async def test_an_expired_key_is_new_again(app, database_url, auth, desk):
    clock = MovableClock()
    async with client_for(create_app(make_settings(database_url), clock=clock)) as timed:
        headers = keyed(auth(Role.AGENT))
        first = await timed.post("/v1/tickets", json=ticket_body(), headers=headers)
        clock.advance(timedelta(hours=23))
        within = await timed.post("/v1/tickets", json=ticket_body(), headers=headers)
        clock.advance(timedelta(hours=1, seconds=1))
        after = await timed.post("/v1/tickets", json=ticket_body(), headers=headers)
        reused = await timed.post("/v1/tickets", json=ticket_body(), headers=headers)

    assert (first.status_code, within.headers["idempotent-replayed"]) == (201, "true")
    assert after.status_code == 201 and "idempotent-replayed" not in after.headers
    assert after.json()["id"] != first.json()["id"]
    assert reused.json()["id"] == after.json()["id"]
    assert await count(app, tickets) == 2


async def test_a_key_abandoned_by_a_dead_process_is_taken_over(app, database_url, auth, desk):
    clock = MovableClock()
    timed_app = create_app(make_settings(database_url), clock=clock)
    async with client_for(timed_app) as timed:
        body = timed.build_request("POST", "/v1/tickets", json=ticket_body()).content
        dead = IdempotentRequest("agent-1", KEY, "POST", "/v1/tickets", fingerprint("POST", "/v1/tickets", "", body))
        assert await timed_app.state.services.idempotency.begin(dead) is None  # and never finished
        headers = keyed({**auth(Role.AGENT), "Content-Type": "application/json"})
        waiting = await timed.post("/v1/tickets", content=body, headers=headers)
        clock.advance(ABANDONED_AFTER + timedelta(seconds=1))
        taken_over = await timed.post("/v1/tickets", content=body, headers=headers)

    assert waiting.status_code == 409
    assert taken_over.status_code == 201
    assert await count(app, tickets) == 1


async def test_the_purge_job_deletes_expired_keys_only(app, database_url, auth, desk):
    clock = MovableClock()
    timed_app = create_app(make_settings(database_url), clock=clock)
    purge = next(job for job in jobs(timed_app.state.services) if job.name == "idempotency_key_purge")
    async with client_for(timed_app) as timed:
        for key in ("old-1", "old-2"):
            await timed.post("/v1/tickets", json=ticket_body(), headers=keyed(auth(Role.AGENT), key))
        clock.advance(timedelta(hours=23))
        await timed.post("/v1/tickets", json=ticket_body(), headers=keyed(auth(Role.AGENT), "recent"))
        clock.advance(timedelta(hours=2))

        purged = await purge.run()
        again = await purge.run()

    assert (purged, again) == (2, 0)
    async with app.state.services.database.engine.connect() as conn:
        left = (await conn.execute(select(idempotency_keys.c.key))).scalars().all()
    assert left == ["recent"]


@pytest.mark.postgres_only
async def test_two_concurrent_first_requests_with_one_key_run_once(app, client, auth, desk):
    headers = keyed(auth(Role.AGENT))

    answers = await asyncio.gather(*(client.post("/v1/tickets", json=ticket_body(), headers=headers) for _ in range(2)))

    by_status = sorted(answers, key=lambda answer: answer.status_code)
    assert [a.status_code for a in by_status] == [201, 409]
    assert by_status[1].json()["code"] == "idempotency_key_in_flight"
    assert await count(app, tickets) == 1
