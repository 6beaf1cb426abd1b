"""CSV exports: UTF-8 with a BOM, an RFC 5987 file name, formula-looking cells neutralised, times in the requested
zone, every ticket of the range exactly once across pages, the business-line scope, and bad input named."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from sqlalchemy import update

from app.domain.principal import Role
from app.persistence.tables import tickets
from app.services import exports
from tests.factories import open_ticket, seed_service_desk
from tests.problems import problem_fields

PATH = "/v1/exports/tickets.csv"


def today() -> str:
    return str(datetime.now(UTC).date())


def rows_of(response) -> list[dict[str, str]]:
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


async def test_tickets_export_as_spreadsheet_safe_csv_in_the_requested_zone(client, auth, monkeypatch):
    await seed_service_desk(client, auth)
    monkeypatch.setattr(exports, "PAGE", 2)  # several pages: each ticket still once, in order
    made = [
        await open_ticket(client, auth, title=title) for title in ('=HYPERLINK("x")', "净化器异响", "+1", "@me", "ok")
    ]
    params = {"from": today(), "to": str(datetime.now(UTC).date() + timedelta(days=1)), "tz": "Asia/Shanghai"}

    response = await client.get(PATH, params=params, headers=auth(Role.MANAGER))

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="tickets-') and "filename*=UTF-8''tickets-" in disposition
    rows = rows_of(response)
    assert [r["number"] for r in rows] == [t["number"] for t in made]
    assert [r["title"] for r in rows] == ['\'=HYPERLINK("x")', "净化器异响", "'+1", "'@me", "ok"]
    created = datetime.fromisoformat(rows[0]["created_at"])
    assert created.utcoffset() == timedelta(hours=8)
    assert created == datetime.fromisoformat(made[0]["created_at"].replace("Z", "+00:00"))
    assert rows[0]["resolved_at"] == "" and rows[0]["channel"] == "app"


async def test_the_export_keeps_to_the_callers_business_lines(client, auth, app):
    await seed_service_desk(client, auth)
    mine, other = await open_ticket(client, auth), await open_ticket(client, auth)
    async with app.state.services.database.engine.begin() as conn:
        await conn.execute(update(tickets).where(tickets.c.id == UUID(other["id"])).values(business_line="kitchen"))
        await conn.execute(update(tickets).where(tickets.c.id == UUID(mine["id"])).values(business_line="bath"))
    params = {"from": today(), "to": today()}

    response = await client.get(PATH, params=params, headers=auth(Role.MANAGER, business_lines=("bath",)))

    assert [r["number"] for r in rows_of(response)] == [mine["number"]]


@pytest.mark.parametrize(
    ("path", "params", "status", "code", "field"),
    [
        ("/v1/exports/invoices.csv", {}, 404, "export_not_found", "name"),
        (PATH, {"tz": "Nowhere/Town"}, 422, "validation_failed", "tz"),
        (PATH, {"to": "2026-01-01"}, 422, "validation_failed", "to"),
        (PATH, {"status": "new"}, 422, "validation_failed", "status"),
    ],
)
async def test_bad_export_input_names_the_parameter(client, auth, path, params, status, code, field):
    query = {"from": "2026-03-01", "to": "2026-03-07", **params}

    response = await client.get(path, params=query, headers=auth(Role.ADMIN))

    assert field in problem_fields(response, status, code)


async def test_agents_may_not_export(client, auth):
    response = await client.get(PATH, params={"from": today(), "to": today()}, headers=auth(Role.AGENT))

    assert response.status_code == 403
