"""Reports as CSV: the same figures as the report's JSON answer for the same parameters (grouping, interval,
filters, zone), UTF-8 with a BOM, and the report's own parameter checks."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from app.domain.principal import Role
from app.domain.report_metrics import TIMES
from tests.api.test_reports import rollup, window, worked  # noqa: F401 - fixtures
from tests.api.test_surveys import desk  # noqa: F401 - a fixture
from tests.api.test_tasks import reported_task, started_ticket
from tests.factories import seed_service_desk
from tests.problems import problem_fields


def rows_of(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def text(value: Any) -> str:
    return "" if value is None else str(value)


@pytest.mark.parametrize("params", [{"group_by": "channel"}, {"interval": "week", "priority": "high"}])
async def test_the_volume_export_holds_the_volume_reports_figures(worked, auth, clock, params):  # noqa: F811
    app, http = worked
    assert await rollup(app, clock) > 0
    manager = auth(Role.MANAGER)

    report = (await http.get("/v1/reports/volume", params=window(**params), headers=manager)).json()
    export = await http.get("/v1/exports/volume.csv", params=window(**params), headers=manager)

    figures = ("period", "group", "created", "resolved", "closed", "cancelled", "reopened", "backlog")
    assert [tuple(r[f] for f in figures) for r in rows_of(export)] == [
        tuple(text(item[f]) for f in figures) for item in report["items"]
    ]
    assert sum(int(r["created"]) for r in rows_of(export)) > 0
    assert export.headers["content-disposition"].startswith('attachment; filename="volume-')


async def test_the_times_export_holds_the_times_reports_figures(worked, auth, clock):  # noqa: F811
    app, http = worked
    await rollup(app, clock)
    manager = auth(Role.MANAGER)

    report = (await http.get("/v1/reports/times", params=window(group_by="channel"), headers=manager)).json()
    export = await http.get("/v1/exports/times.csv", params=window(group_by="channel"), headers=manager)

    expected = [
        [text(item["period"]), text(item["group"])]
        + [
            text(item[m][f])
            for m in (measure.value for measure in TIMES)
            for f in ("count", "p50_seconds", "p90_seconds")
        ]
        for item in report["items"]
    ]
    assert [list(r.values()) for r in rows_of(export)] == expected
    assert any(r["first_resolution_p50_seconds"] for r in rows_of(export))


async def test_the_work_hours_export_holds_every_handlers_figures(client, auth):
    await seed_service_desk(client, auth)
    ticket = await started_ticket(client, auth)
    await reported_task(client, auth, ticket, hours_worked="3.5")
    await reported_task(client, auth, ticket, hours_worked="1.25")
    manager = auth(Role.MANAGER)
    report = (await http_json(client, "/v1/reports/work-hours", manager))["items"]

    export = await client.get("/v1/exports/work-hours.csv", headers=manager)

    assert (
        [(r["assignee"], r["tasks"], r["reported_hours"]) for r in rows_of(export)]
        == [(item["assignee"], str(item["tasks"]), item["reported_hours"]) for item in report]
        == [("agent-2", "2", "4.75")]
    )


async def http_json(client, path: str, headers: dict[str, str]) -> Any:
    response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    ("path", "params", "status", "code", "field"),
    [
        ("/v1/exports/volume.csv", {"group_by": "colour"}, 422, "validation_failed", "group_by"),
        ("/v1/exports/volume.csv", {"interval": "year"}, 422, "validation_failed", "interval"),
        ("/v1/exports/times.csv", {"tz": "Nowhere/Town"}, 422, "validation_failed", "tz"),
        ("/v1/exports/times.csv", {"colour": "red"}, 422, "validation_failed", "colour"),
        ("/v1/exports/volume.csv", {"to": "2026-02-01"}, 422, "validation_failed", "to"),
        ("/v1/exports/work-hours.csv", {"limit": "5"}, 422, "validation_failed", "limit"),
        (
            "/v1/exports/work-hours.csv",
            {"from": "2026-03-07T00:00:00Z", "to": "2026-03-01T00:00:00Z"},
            422,
            "validation_failed",
            "from",
        ),
        ("/v1/exports/reports.csv", {}, 404, "export_not_found", "name"),
    ],
)
async def test_bad_report_export_input_names_the_parameter(client, auth, path, params, status, code, field):
    query = {"from": "2026-03-01", "to": "2026-03-07", **params} if "work-hours" not in path else params

    response = await client.get(path, params=query, headers=auth(Role.ADMIN))

    assert field in problem_fields(response, status, code)


@pytest.mark.parametrize("name", ["volume", "times", "after-sales", "tasks", "survey-answers"])
async def test_agents_may_not_export(client, auth, name):
    params = {"from": "2026-03-01", "to": "2026-03-07"}

    response = await client.get(f"/v1/exports/{name}.csv", params=params, headers=auth(Role.AGENT))

    assert response.status_code == 403


async def test_an_agent_exports_only_their_own_work_hours_as_the_report_shows_them(client, auth):
    await seed_service_desk(client, auth)
    ticket = await started_ticket(client, auth)
    await reported_task(client, auth, ticket, hours_worked="2")
    agent = auth(Role.AGENT, sub="agent-2")  # the task's handler
    report = (await http_json(client, "/v1/reports/work-hours", agent))["items"]
    assert [item["assignee"] for item in report] == ["agent-2"]

    export = await client.get("/v1/exports/work-hours.csv", headers=agent)

    assert export.status_code == 200, export.text
    assert [row["assignee"] for row in rows_of(export)] == [item["assignee"] for item in report]


@pytest.mark.parametrize("path", ["/v1/reports/work-hours", "/v1/exports/work-hours.csv"])
async def test_a_work_hours_end_too_early_for_the_default_period_is_a_422_naming_to(client, auth, path):
    response = await client.get(path, params={"to": "0001-01-01T02:28:08Z"}, headers=auth(Role.MANAGER))

    assert "to" in problem_fields(response, 422, "validation_failed")
