"""Staff read survey results: keyset pages newest sent first with their filters, and the figures (CSAT, NPS, response
and recovery rates) exact to the answers given, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from app.domain.principal import Role
from tests.api.test_surveys import LOW, completed, desk, invitations, invite  # noqa: F401 - desk is a fixture
from tests.factories import iso, seed_reference_data
from tests.problems import problem_fields

STATS = "/v1/survey-stats"


@pytest.fixture
async def answered(desk, auth, clock):  # noqa: F811
    """Six invitations: C-5's sent first and expired unanswered; then C-1 (5, NPS 10), C-2 (4, NPS 7), C-3 (2, NPS 3:
    low), C-4 (3, NPS 9) answered and C-6's still open. agent-2 handled C-2's and C-4's (by phone), agent-1 the rest."""
    app, http = desk
    await seed_reference_data(http, auth, customers=("C-3", "C-4", "C-5", "C-6"))
    await completed(http, auth, customer_no="C-5")
    await invite(app, clock)
    clock.advance(timedelta(days=8))
    for customer, agent in (("C-1", "agent-1"), ("C-2", "agent-2"), ("C-3", "agent-1"), ("C-4", "agent-2")):
        channel = "phone_400" if agent == "agent-2" else "app"
        await completed(http, auth, customer_no=customer, agent=agent, channel=channel)
    await completed(http, auth, customer_no="C-6")
    sent = {s["customer_no"]: s for s in await invite(app, clock)}
    answers = {
        "C-1": {"csat": 5, "nps": 10},
        "C-2": {"csat": 4, "nps": 7},
        "C-3": {**LOW, "nps": 3},
        "C-4": {"csat": 3, "nps": 9},
    }
    for customer, answer in answers.items():
        token = sent[customer]["link"].rsplit("/", 1)[1]
        response = await http.post(f"/v1/surveys/{token}", json=answer)
        assert response.status_code == 200, response.text
    return app, http, clock


def window(clock, **extra: Any) -> dict[str, Any]:
    return {
        "sent_from": iso(clock.now() - timedelta(days=30)),
        "sent_to": iso(clock.now() + timedelta(days=1)),
        **extra,
    }


async def test_the_figures_are_exact_to_the_answers(answered, auth):
    _app, http, clock = answered

    response = await http.get(STATS, params=window(clock), headers=auth(Role.MANAGER))

    assert response.status_code == 200, response.text
    figures = {k: v for k, v in response.json().items() if k not in ("sent_from", "sent_to")}
    assert figures == {
        "sent": 6,
        "answered": 4,
        "expired": 1,
        "satisfied": 2,
        "nps_answers": 4,
        "promoters": 2,
        "detractors": 1,
        "low_scores": 1,
        "follow_ups_done": 0,
        "recovered": 0,
        "csat": 0.5,
        "nps": 25.0,
        "response_rate": 0.8,
        "recovery_rate": 0.0,
    }


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"agent": "agent-2"}, {"sent": 2, "answered": 2, "csat": 0.5, "nps": 50.0, "recovery_rate": None}),
        ({"channel": "phone_400"}, {"sent": 2, "satisfied": 1, "promoters": 1, "response_rate": 1.0}),
        ({"agent": "agent-1", "sku": "SKU-1"}, {"sent": 4, "answered": 2, "expired": 1, "response_rate": 0.6667}),
        ({"region": "CN-99"}, {"sent": 0, "csat": None, "nps": None, "response_rate": None}),
        ({"group": "east"}, {"sent": 0}),
    ],
)
async def test_the_figures_follow_the_filters(answered, auth, filters, expected):
    _app, http, clock = answered

    figures = (await http.get(STATS, params=window(clock, **filters), headers=auth(Role.AGENT))).json()

    assert {k: figures[k] for k in expected} == expected


async def test_the_period_counts_invitations_by_when_they_were_sent(answered, auth):
    _app, http, clock = answered
    recent = {"sent_from": iso(clock.now() - timedelta(days=1)), "sent_to": iso(clock.now() + timedelta(hours=1))}

    figures = (await http.get(STATS, params=recent, headers=auth(Role.MANAGER))).json()

    assert (figures["sent"], figures["expired"], figures["answered"], figures["response_rate"]) == (5, 0, 4, 0.8)


async def test_staff_list_surveys_newest_sent_first_in_keyset_pages(answered, auth):
    _app, http, _clock = answered
    manager = auth(Role.MANAGER)
    seen: list[dict[str, Any]] = []
    cursor = None
    for _ in range(4):
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await http.get("/v1/surveys", params=params, headers=manager)).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert len(seen) == 6 and len({s["id"] for s in seen}) == 6
    keys = [(s["sent_at"], s["id"]) for s in seen]
    assert keys == sorted(keys, reverse=True)
    assert seen[-1]["customer_no"] == "C-5" and seen[-1]["state"] == "expired" and seen[-1]["answer"] is None
    by_customer = {s["customer_no"]: s for s in seen}
    assert by_customer["C-6"]["state"] == "open"
    assert by_customer["C-3"]["low_score"] is True and by_customer["C-3"]["follow_up_task_id"] is not None
    assert by_customer["C-3"]["answer"]["reasons"] == ["not_resolved", "slow_response"]
    assert by_customer["C-1"]["recovered"] is None and by_customer["C-1"]["agent"] == "agent-1"


async def test_the_list_filters_by_agent_and_channel(answered, auth):
    _app, http, _clock = answered

    mine = await http.get("/v1/surveys", params={"agent": "agent-2"}, headers=auth(Role.AGENT))
    by_phone = await http.get("/v1/surveys", params={"channel": "phone_400", "limit": 1}, headers=auth(Role.AGENT))

    assert sorted(s["customer_no"] for s in mine.json()["items"]) == ["C-2", "C-4"]
    assert len(by_phone.json()["items"]) == 1 and by_phone.json()["next_cursor"] is not None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sent_to": "2026-12-01T00:00:00Z"}, "sent_from"),
        ({"sent_from": "2026-12-01T00:00:00Z"}, "sent_to"),
        ({"sent_from": "2026-12-01T00:00:00Z", "sent_to": "2026-11-30T00:00:00Z"}, "sent_to"),
        ({"sent_from": "2025-01-01T00:00:00Z", "sent_to": "2026-12-01T00:00:00Z"}, "sent_to"),
        ({"sent_from": "2026-12-01", "sent_to": "2026-12-02T00:00:00Z"}, "sent_from"),
        ({"sent_from": "2026-12-01T00:00:00Z", "sent_to": "2026-12-02T00:00:00Z", "channel": "fax"}, "channel"),
        ({"sent_from": "2026-12-01T00:00:00Z", "sent_to": "2026-12-02T00:00:00Z", "agent": "a\x00"}, "agent"),
    ],
)
async def test_a_bad_period_or_filter_is_refused_naming_it(client, auth, params, field):
    response = await client.get(STATS, params=params, headers=auth(Role.MANAGER))

    assert field in problem_fields(response, 422, "validation_failed")


async def test_a_repeated_filter_is_refused(client, auth):
    response = await client.get("/v1/surveys?agent=a&agent=b", headers=auth(Role.MANAGER))

    assert problem_fields(response, 422, "validation_failed") == {"agent"}


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.INTEGRATION])
async def test_survey_results_are_for_staff_only(client, auth, role):
    for path in ("/v1/surveys", f"{STATS}?sent_from=2026-12-01T00:00:00Z&sent_to=2026-12-02T00:00:00Z"):
        problem_fields(await client.get(path, headers=auth(role)), 403, "role_not_allowed")
