"""Satisfaction surveys on a clock the tests move: an invitation after a completed ticket or a successful after-sales
order, once the delay has passed (never for auto-completed, closed or cancelled tickets, one per resolution, NPS once
per customer and period); the public link read in both languages and answered once, with every bad answer refused
and nothing written; rate limits; and the settings document."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.domain.business_time import BusinessCalendar, hours, week
from app.domain.principal import Role
from app.main import create_app
from app.persistence.tables import outbox, surveys
from app.services.survey_invitations import SETTLE
from bench.receiver import Receiver
from tests.api.test_statement_counts import counted
from tests.conftest import MovableClock, client_for, make_settings
from tests.factories import act, auto_review_body, open_ticket, put, seed_service_desk, unpicked_order_body
from tests.problems import problem_fields

SETTINGS = "/v1/settings/surveys"
DELAY = timedelta(hours=2)
AFTER_DELAY = DELAY + SETTLE + timedelta(minutes=1)
LOW = {"csat": 2, "reasons": ["not_resolved", "slow_response"], "comment": "还是有异响"}


@pytest.fixture
async def desk(database_url: str, clock: MovableClock, auth) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app on the moved clock, with the service desk seeded (agent-1 reports to manager-1)."""
    app = create_app(make_settings(database_url), clock=clock)
    async with client_for(app) as http:
        await seed_service_desk(http, auth)
        yield app, http


async def completed(http: httpx.AsyncClient, auth, *, agent: str = "agent-1", **ticket: Any) -> dict[str, Any]:
    """A ticket `agent` claimed, worked, resolved and completed (已完成)."""
    opened = await open_ticket(http, auth, **ticket)
    worker = auth(Role.AGENT, sub=agent)
    for action, body in (("claim", {}), ("start", {}), ("resolve", {"solution": "更换风机"}), ("complete", {})):
        response = await act(http, worker, opened, action, **body)
        assert response.status_code == 200, response.text
    return response.json()


async def invitations(app: FastAPI) -> list[dict[str, Any]]:
    """The `survey.invited` events written so far, oldest first."""
    async with app.state.services.database.engine.connect() as conn:
        rows = await conn.execute(
            select(outbox.c.payload).where(outbox.c.type == "survey.invited").order_by(outbox.c.sequence)
        )
        return [row.payload for row in rows]


async def events(app: FastAPI, type_: str) -> list[dict[str, Any]]:
    async with app.state.services.database.engine.connect() as conn:
        rows = await conn.execute(select(outbox.c.payload).where(outbox.c.type == type_).order_by(outbox.c.sequence))
        return [row.payload for row in rows]


async def survey_rows(app: FastAPI) -> list[Any]:
    async with app.state.services.database.engine.connect() as conn:
        return list(await conn.execute(select(surveys).order_by(surveys.c.created_at, surveys.c.round)))


def token_of(invitation: dict[str, Any]) -> str:
    return invitation["link"].rsplit("/", 1)[1]


async def invite(app: FastAPI, clock: MovableClock) -> list[dict[str, Any]]:
    """Move past the delay, run the job once, and answer every invitation it has sent so far."""
    clock.advance(AFTER_DELAY)
    await app.state.services.surveys.run()
    return await invitations(app)


async def invited_link(app: FastAPI, http: httpx.AsyncClient, auth, clock: MovableClock, **ticket: Any) -> str:
    """The token of a newly completed ticket's invitation."""
    before = len(await invitations(app))
    await completed(http, auth, **ticket)
    sent = await invite(app, clock)
    assert len(sent) == before + 1
    return token_of(sent[-1])


async def put_settings(http: httpx.AsyncClient, auth, **changes: Any) -> httpx.Response:
    manager = auth(Role.MANAGER)
    current = await http.get(SETTINGS, headers=manager)
    body = {k: v for k, v in current.json().items() if k != "version"} | changes
    response = await http.put(SETTINGS, json=body, headers={**manager, "If-Match": current.headers["etag"]})
    assert response.status_code == 200, response.text
    return response


async def test_a_completed_ticket_invites_its_customer_once_the_delay_has_passed(desk, auth, clock):
    app, http = desk
    ticket = await completed(http, auth)
    job = app.state.services.surveys

    clock.advance(DELAY - timedelta(minutes=1))
    assert await job.run() == 1  # scheduled, not yet due
    assert await invitations(app) == []

    clock.advance(timedelta(minutes=1))
    assert await job.run() == 1  # sent
    [sent] = await invitations(app)

    assert sent["subject_type"] == "ticket" and sent["subject_id"] == ticket["id"]
    assert sent["number"] == ticket["number"] and sent["customer_no"] == "C-1"
    assert sent["link"].startswith("http://127.0.0.1:8000/v1/surveys/") and len(token_of(sent)) >= 43
    assert sent["nps_asked"] is True and sent["round"] == 1
    expires = datetime.fromisoformat(sent["expires_at"].replace("Z", "+00:00"))
    assert expires == clock.now() + timedelta(days=7)
    [row] = await survey_rows(app)
    assert row.token_digest != token_of(sent) and len(row.token_digest) == 64  # only the digest is kept
    assert await job.run() == 0
    assert len(await invitations(app)) == 1


async def test_the_invitation_reaches_the_gateways_subscribed_to_survey_events(database_url, clock, auth):
    app = create_app(make_settings(database_url, webhook_allowed_hosts="127.0.0.1"), clock=clock)
    async with client_for(app) as http, Receiver() as receiver:
        await seed_service_desk(http, auth)
        body = {"url": receiver.url, "event_types": ["survey.*"]}
        endpoint = await http.post("/v1/webhook-endpoints", json=body, headers=auth(Role.INTEGRATION, sub="sms"))
        assert endpoint.status_code == 201, endpoint.text
        ticket = await completed(http, auth)
        [sent] = await invite(app, clock)
        await app.state.services.webhooks.dispatch()

    # Signed at the moved clock's time, which standardwebhooks' verify would call too new: the body is read as sent.
    [delivered] = [json.loads(r.body) for r in receiver.received]
    assert receiver.received[0].headers["webhook-signature"].startswith("v1,")
    assert delivered["type"] == "survey.invited"
    assert delivered["data"]["link"] == sent["link"] and delivered["data"]["subject_id"] == ticket["id"]
    assert delivered["data"]["contact"] == {"name": None, "phone": None, "email": None}


async def test_auto_completed_closed_and_cancelled_tickets_invite_nobody(desk, auth, clock):
    app, http = desk
    pending = await open_ticket(http, auth)
    worker = auth(Role.AGENT, sub="agent-1")
    for action, body in (("claim", {}), ("start", {}), ("resolve", {"solution": "更换风机"})):
        assert (await act(http, worker, pending, action, **body)).status_code == 200
    closing = await open_ticket(http, auth)
    assert (await act(http, worker, closing, "close", reason="duplicate")).status_code == 200
    cancelled = await open_ticket(http, auth)
    assert (await act(http, auth(Role.CUSTOMER), cancelled, "cancel")).status_code == 200
    manager = auth(Role.MANAGER)
    rules = {"enabled": True, "default_days": 1, "by_type": {}}
    assert (await http.put("/v1/settings/ticket-auto-close", json=rules, headers=manager)).status_code == 200
    clock.advance(timedelta(days=1, minutes=1))
    assert await app.state.services.ticket_auto_close.run() == 1

    await invite(app, clock)

    assert await invitations(app) == []
    assert await survey_rows(app) == []


async def test_a_ticket_reopened_before_its_invitation_is_invited_for_its_new_resolution_only(desk, auth, clock):
    app, http = desk
    ticket = await completed(http, auth)
    worker = auth(Role.AGENT, sub="agent-1")
    clock.advance(SETTLE + timedelta(minutes=1))
    await app.state.services.surveys.run()  # the first completion is scheduled
    assert (await act(http, worker, ticket, "reopen", reason="仍有异响")).status_code == 200
    for action, body in (("start", {}), ("resolve", {"solution": "更换电机"}), ("complete", {})):
        assert (await act(http, worker, ticket, action, **body)).status_code == 200

    sent = await invite(app, clock)

    assert [s["subject_id"] for s in sent] == [ticket["id"]]
    rows = await survey_rows(app)
    assert [(r.status, r.skip_reason) for r in rows] == [("skipped", "ticket_completed_again"), ("sent", None)]


async def test_nps_is_asked_at_most_once_per_customer_in_the_period(desk, auth, clock):
    app, http = desk
    await completed(http, auth)
    await completed(http, auth)
    await completed(http, auth, customer_no="C-2")

    sent = await invite(app, clock)

    assert [(s["customer_no"], s["nps_asked"]) for s in sent] == [("C-1", True), ("C-1", False), ("C-2", True)]
    await put_settings(http, auth, nps_period_days=1)
    clock.advance(timedelta(days=1, hours=1))
    await completed(http, auth)
    assert (await invite(app, clock))[-1]["nps_asked"] is True


async def test_the_delay_counts_the_calendars_working_hours(desk, auth, clock):
    app, http = desk
    office = {
        "name": "办公时间",
        "time_zone": "Asia/Shanghai",
        "weekly": {day: [{"start": "09:00", "end": "12:00"}] for day in ("monday", "wednesday", "friday")},
    }
    await put(http, auth(Role.ADMIN), "/v1/business-calendars/cn-short", office)
    await put_settings(http, auth, calendar="cn-short", delay_minutes=240)
    ticket = await completed(http, auth)
    completed_at = datetime.fromisoformat(ticket["finished_at"].replace("Z", "+00:00"))
    morning = hours("09:00-12:00")
    calendar = BusinessCalendar("Asia/Shanghai", week(monday=morning, wednesday=morning, friday=morning))
    due = calendar.add(completed_at, 240 * 60)
    job = app.state.services.surveys

    clock.advance(due - clock.now() - timedelta(minutes=1))
    await job.run()
    assert await invitations(app) == []
    clock.advance(timedelta(minutes=1))
    await job.run()
    assert len(await invitations(app)) == 1


AUTO_REVIEW = auto_review_body()


async def refunded(http: httpx.AsyncClient, auth) -> dict[str, Any]:
    """A refund of C-1's unpicked order, approved at once (极速审核) and paid out: it finished well."""
    await http.put("/v1/settings/auto-review", json=AUTO_REVIEW, headers=auth(Role.MANAGER))
    await put(http, auth(Role.INTEGRATION), "/v1/orders/SO-UNPICKED", unpicked_order_body())
    body = {"order_no": "SO-UNPICKED", "type": "refund", "reason_code": "changed_mind"}
    refund = (await http.post("/v1/after-sales", json=body, headers=auth(Role.CUSTOMER))).json()
    payment = auth(Role.INTEGRATION, sub="payment-centre")
    for step in ("payment_accepted", "payment_succeeded"):
        response = await http.post(f"/v1/after-sales/{refund['id']}/actions/{step}", json={}, headers=payment)
        assert response.status_code == 200, response.text
    return response.json()


async def test_a_successful_after_sales_order_invites_its_customer(desk, auth, clock):
    app, http = desk
    refund = await refunded(http, auth)

    [sent] = await invite(app, clock)
    page = await http.get(f"/v1/surveys/{token_of(sent)}", headers={"Accept-Language": "en"})

    assert (sent["subject_type"], sent["number"]) == ("after_sales", refund["number"])
    assert page.status_code == 200, page.text
    assert (page.json()["number"], page.json()["title"]) == (refund["number"], "After-sales service")


async def test_the_public_page_shows_the_questions_in_the_readers_language_and_nothing_internal(desk, auth, clock):
    app, http = desk
    token = await invited_link(app, http, auth, clock)

    zh = await http.get(f"/v1/surveys/{token}")
    en = await http.get(f"/v1/surveys/{token}", headers={"Accept-Language": "en-GB,en;q=0.9"})

    assert zh.status_code == 200 and en.status_code == 200
    assert zh.json()["language"] == "zh-CN" and en.json()["language"] == "en"
    assert zh.json()["questions"][0]["text"].startswith("您对本次服务满意吗")
    assert en.json()["questions"][0]["text"].startswith("How satisfied")
    assert [q["key"] for q in en.json()["questions"]] == ["csat", "reasons", "nps", "comment"]
    reasons = en.json()["questions"][1]
    assert (
        reasons["required_below"] == 3
        and {"value": "not_resolved", "label": "The problem was not solved"} in (reasons["options"])
    )
    assert en.json()["title"] == "净化器异响" and en.json()["state"] == "open" and en.json()["can_answer"] is True
    assert set(en.json()) == {
        "subject_type",
        "number",
        "title",
        "language",
        "state",
        "can_answer",
        "expires_at",
        "answered_at",
        "editable_until",
        "questions",
        "answer",
        "message",
    }


async def test_a_survey_is_answered_once(desk, auth, clock):
    app, http = desk
    token = await invited_link(app, http, auth, clock)
    answer = {"csat": 5, "nps": 9, "comment": "师傅很专业"}

    first = await http.post(f"/v1/surveys/{token}", json=answer, headers={"Accept-Language": "en"})
    again = await http.post(f"/v1/surveys/{token}", json={"csat": 1, "reasons": ["other"]})

    assert first.status_code == 200, first.text
    shown = first.json()
    assert (shown["state"], shown["can_answer"], shown["editable_until"]) == ("answered", False, None)
    assert shown["answer"] == {"csat": 5, "reasons": [], "nps": 9, "comment": "师傅很专业"}
    assert shown["message"].startswith("Thank you")
    problem_fields(again, 409, "survey_already_answered")
    [event] = await events(app, "survey.answered")
    assert (event["csat"], event["nps"], event["low_score"], event["agent"]) == (5, 9, False, "agent-1")
    assert (await http.get(f"/v1/surveys/{token}")).json()["answer"]["csat"] == 5


async def test_an_unknown_token_and_an_expired_link_answer_the_same_404(desk, auth, clock):
    app, http = desk
    token = await invited_link(app, http, auth, clock)
    clock.advance(timedelta(days=7))

    expired = await http.get(f"/v1/surveys/{token}")
    unknown = await http.get(f"/v1/surveys/{'x' * len(token)}")
    answered_late = await http.post(f"/v1/surveys/{token}", json={"csat": 5})

    for response in (expired, unknown, answered_late):
        problem_fields(response, 404, "survey_not_found")
    keep = ("type", "title", "status", "detail", "code")
    assert {k: expired.json()[k] for k in keep} == {k: unknown.json()[k] for k in keep}
    assert [row.status for row in await survey_rows(app)] == ["sent"]


@pytest.mark.parametrize("credentials", ["bearer", "api_key"])
async def test_a_request_carrying_staff_credentials_cannot_answer(desk, auth, clock, credentials):
    app, http = desk
    token = await invited_link(app, http, auth, clock)
    headers = auth(Role.AGENT, sub="agent-1") if credentials == "bearer" else {"X-API-Key": "ak_0123456789abcdef_x"}

    response = await http.post(f"/v1/surveys/{token}", json={"csat": 5}, headers=headers)

    problem_fields(response, 403, "survey_staff_credentials")
    assert (await http.get(f"/v1/surveys/{token}")).json()["state"] == "open"
    assert await events(app, "survey.answered") == []


BAD_ANSWERS = [
    ({"csat": 0}, "validation_failed", "#/csat"),
    ({"csat": 6}, "validation_failed", "#/csat"),
    ({"csat": "5"}, "validation_failed", "#/csat"),
    ({"csat": 4.0}, "validation_failed", "#/csat"),
    ({"csat": True}, "validation_failed", "#/csat"),
    ({}, "validation_failed", "#/csat"),
    ({"csat": 2, "reasons": ["no_such_reason"]}, "validation_failed", "#/reasons/0"),
    ({"csat": 2, "reasons": "not_resolved"}, "validation_failed", "#/reasons"),
    ({"csat": 2}, "invalid_survey_answer", "#/reasons"),
    ({"csat": 2, "reasons": ["other", "other"]}, "invalid_survey_answer", "#/reasons"),
    ({"csat": 5, "reasons": ["other"]}, "invalid_survey_answer", "#/reasons"),
    ({"csat": 5, "nps": 11}, "validation_failed", "#/nps"),
    ({"csat": 5, "nps": -1}, "validation_failed", "#/nps"),
    ({"csat": 5, "comment": "长" * 1001}, "validation_failed", "#/comment"),
    ({"csat": 5, "comment": 7}, "validation_failed", "#/comment"),
    ({"csat": 5, "score": 5}, "validation_failed", "#/score"),
]


@pytest.mark.parametrize(("body", "code", "field"), BAD_ANSWERS, ids=[str(b) for b, _, _ in BAD_ANSWERS])
async def test_a_bad_answer_is_refused_naming_its_field_and_writes_nothing(desk, auth, clock, body, code, field):
    app, http = desk
    token = await invited_link(app, http, auth, clock)

    response = await http.post(f"/v1/surveys/{token}", json=body)

    assert field in problem_fields(response, 422, code)
    assert (await http.get(f"/v1/surveys/{token}")).json()["state"] == "open"
    assert await events(app, "survey.answered") == []


async def test_nps_is_refused_where_the_survey_did_not_ask_it(desk, auth, clock):
    app, http = desk
    await invited_link(app, http, auth, clock)  # this one asks NPS of C-1
    token = await invited_link(app, http, auth, clock)
    questions = (await http.get(f"/v1/surveys/{token}")).json()["questions"]

    response = await http.post(f"/v1/surveys/{token}", json={"csat": 5, "nps": 10})

    assert [q["key"] for q in questions] == ["csat", "reasons", "comment"]
    assert problem_fields(response, 422, "invalid_survey_answer") == {"#/nps"}


async def test_the_edit_window_lets_an_answer_be_replaced_until_it_closes(desk, auth, clock):
    app, http = desk
    await put_settings(http, auth, edit_window_minutes=30)
    token = await invited_link(app, http, auth, clock)

    first = await http.post(f"/v1/surveys/{token}", json={"csat": 4})
    clock.advance(timedelta(minutes=29))
    edited = await http.post(f"/v1/surveys/{token}", json={"csat": 5, "comment": "补充：后来又回访了"})
    clock.advance(timedelta(minutes=1))
    late = await http.post(f"/v1/surveys/{token}", json={"csat": 3})

    assert first.json()["can_answer"] is True and first.json()["editable_until"] is not None
    assert edited.status_code == 200 and edited.json()["answer"]["csat"] == 5
    assert edited.json()["answered_at"] == first.json()["answered_at"]
    problem_fields(late, 409, "survey_already_answered")
    assert [e["edited"] for e in await events(app, "survey.answered")] == [False, True]


async def test_survey_links_are_rate_limited_per_token(app_with, auth, clock):
    async with client_for(app_with(survey_rate_limit_per_token=2)) as http:
        for _ in range(2):
            assert (await http.get("/v1/surveys/some-token")).status_code == 404
        refused = await http.get("/v1/surveys/some-token")
        other = await http.get("/v1/surveys/another-token")

    problem_fields(refused, 429, "rate_limited")
    assert int(refused.headers["retry-after"]) >= 1
    assert other.status_code == 404


async def test_survey_links_are_rate_limited_per_client_address(app_with, auth):
    async with client_for(app_with(survey_rate_limit_per_address=3)) as http:
        for n in range(3):
            assert (await http.post(f"/v1/surveys/token-{n}", json={"csat": 5})).status_code == 404
        refused = await http.get("/v1/surveys/token-9")

    problem_fields(refused, 429, "rate_limited")


async def test_reading_and_answering_a_survey_cost_few_statements(desk, auth, clock):
    app, http = desk
    token = await invited_link(app, http, auth, clock)

    with counted(app) as reads:
        assert (await http.get(f"/v1/surveys/{token}")).status_code == 200
    with counted(app) as writes:
        assert (await http.post(f"/v1/surveys/{token}", json={"csat": 5})).status_code == 200

    assert len(reads) <= 2, reads
    assert len(writes) <= 4, writes


# --- the settings document ---

DEFAULTS = {
    "delay_minutes": 120,
    "calendar": None,
    "expiry_days": 7,
    "nps_period_days": 90,
    "low_score_below": 3,
    "edit_window_minutes": 0,
    "public_base_url": "http://127.0.0.1:8000/v1/surveys/",
    "follow_up_due_minutes": 1440,
}


async def test_the_settings_start_at_their_defaults_and_are_replaced_with_if_match(client, auth):
    manager = auth(Role.MANAGER)
    read = await client.get(SETTINGS, headers=auth(Role.AGENT))
    body = {**DEFAULTS, "expiry_days": 14, "public_base_url": "https://survey.example.com/s?t="}

    saved = await client.put(SETTINGS, json=body, headers={**manager, "If-Match": read.headers["etag"]})
    stale = await client.put(SETTINGS, json=DEFAULTS, headers={**manager, "If-Match": read.headers["etag"]})

    assert read.status_code == 200 and read.json() == {**DEFAULTS, "version": 0} and read.headers["etag"] == '"0"'
    assert saved.status_code == 200, saved.text
    assert saved.json() == {**body, "version": 1} and saved.headers["etag"] == '"1"'
    problem_fields(stale, 412, "etag_mismatch")
    assert (await client.get(SETTINGS, headers=manager)).json()["expiry_days"] == 14


BAD_SETTINGS = [
    ({"delay_minutes": -1}, "#/delay_minutes"),
    ({"delay_minutes": 43_201}, "#/delay_minutes"),
    ({"expiry_days": 0}, "#/expiry_days"),
    ({"expiry_days": 91}, "#/expiry_days"),
    ({"nps_period_days": 0}, "#/nps_period_days"),
    ({"low_score_below": 1}, "#/low_score_below"),
    ({"low_score_below": 6}, "#/low_score_below"),
    ({"edit_window_minutes": 1441}, "#/edit_window_minutes"),
    ({"edit_window_minutes": "30"}, "#/edit_window_minutes"),
    ({"follow_up_due_minutes": 29}, "#/follow_up_due_minutes"),
    ({"public_base_url": "ftp://x/"}, "#/public_base_url"),
    ({"public_base_url": "https://" + "x" * 500}, "#/public_base_url"),
    ({"calendar": "has space"}, "#/calendar"),
    ({"enabled": True}, "#/enabled"),
]


@pytest.mark.parametrize(("change", "field"), BAD_SETTINGS, ids=[f for _, f in BAD_SETTINGS])
async def test_bad_settings_are_refused_naming_the_field(client, auth, change, field):
    response = await client.put(SETTINGS, json={**DEFAULTS, **change}, headers=auth(Role.MANAGER))

    assert field in problem_fields(response, 422, "validation_failed")
    assert (await client.get(SETTINGS, headers=auth(Role.MANAGER))).json()["version"] == 0


async def test_settings_naming_no_business_calendar_are_refused(client, auth):
    response = await client.put(SETTINGS, json={**DEFAULTS, "calendar": "nowhere"}, headers=auth(Role.MANAGER))

    assert problem_fields(response, 422, "invalid_survey_settings") == {"#/calendar"}


async def test_only_managers_and_admins_change_the_settings(client, auth):
    response = await client.put(SETTINGS, json=DEFAULTS, headers=auth(Role.AGENT))

    problem_fields(response, 403, "role_not_allowed")
