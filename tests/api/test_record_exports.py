"""CSV exports of after-sales orders, tasks and survey answers: money in major units beside its currency (JPY has no
decimals), hours as decimals, Chinese text intact, formula-looking cells neutralised, times in the requested zone,
only the range's records, within the caller's business lines."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import insert, update

from app.domain.principal import Role
from app.persistence.tables import after_sales_orders, surveys, tasks
from tests.api.test_tasks import reported_task, started_ticket
from tests.factories import put, seed_service_desk, seed_shop, unpicked_order_body
from tests.problems import problem_fields

SHANGHAI = timedelta(hours=8)


def today() -> str:
    return str(datetime.now(UTC).date())


def days(**extra: Any) -> dict[str, Any]:
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    return {"from": today(), "to": str(tomorrow), "tz": "Asia/Shanghai", **extra}


def rows_of(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


async def set_line(app, table, id_: str, line: str) -> None:
    async with app.state.services.database.engine.begin() as conn:
        await conn.execute(update(table).where(table.c.id == UUID(id_)).values(business_line=line))


async def refund(client, auth, order_no: str, description: str) -> dict[str, Any]:
    body = {"order_no": order_no, "type": "refund", "reason_code": "changed_mind", "description": description}
    response = await client.post("/v1/after-sales", json=body, headers=auth(Role.CUSTOMER))
    assert response.status_code == 201, response.text
    return response.json()


async def test_after_sales_orders_export_money_in_major_units_beside_the_currency(client, auth, app):
    await seed_shop(client, auth)
    yen = unpicked_order_body() | {
        "currency": "JPY",
        "lines": [{"sku": "SKU-1", "quantity": 2, "unit_price": 2500}],
        "shipping_fee": 120,
        "paid_amount": 5120,
    }
    await put(client, auth(Role.INTEGRATION), "/v1/orders/SO-YEN", yen)
    cny = await refund(client, auth, "SO-UNPICKED", '=HYPERLINK("http://x")不想要了')
    jpy = await refund(client, auth, "SO-YEN", "买错型号，申请退款")

    response = await client.get("/v1/exports/after-sales.csv", params=days(), headers=auth(Role.MANAGER))

    rows = rows_of(response)
    assert [(r["number"], r["amount"], r["currency"]) for r in rows] == [
        (cny["number"], "210.00", "CNY"),
        (jpy["number"], "5120", "JPY"),
    ]
    assert [r["description"] for r in rows] == ['\'=HYPERLINK("http://x")不想要了', "买错型号，申请退款"]
    assert [r["type"] for r in rows] == ["refund", "refund"] and rows[0]["lightning"] in ("true", "false")
    created = datetime.fromisoformat(rows[0]["created_at"])
    assert created.utcoffset() == SHANGHAI
    assert created == datetime.fromisoformat(cny["created_at"].replace("Z", "+00:00"))
    assert response.headers["content-disposition"].startswith('attachment; filename="after-sales-')


async def test_after_sales_export_keeps_to_the_callers_business_lines(client, auth, app):
    await seed_shop(client, auth)
    await put(client, auth(Role.INTEGRATION), "/v1/orders/SO-UNPICKED-2", unpicked_order_body())
    mine = await refund(client, auth, "SO-UNPICKED", "")
    other = await refund(client, auth, "SO-UNPICKED-2", "")
    await set_line(app, after_sales_orders, mine["id"], "bath")
    await set_line(app, after_sales_orders, other["id"], "kitchen")

    scoped = auth(Role.MANAGER, business_lines=("bath",))
    response = await client.get("/v1/exports/after-sales.csv", params=days(), headers=scoped)

    assert [r["number"] for r in rows_of(response)] == [mine["number"]]


async def test_tasks_export_hours_as_decimals_with_their_ticket(client, auth, app):
    await seed_service_desk(client, auth)
    ticket = await started_ticket(client, auth)
    task = await reported_task(client, auth, ticket, hours_worked="3.5", result="-更换风机，试机正常")
    hidden = await reported_task(client, auth, ticket)
    await set_line(app, tasks, task["id"], "bath")
    await set_line(app, tasks, hidden["id"], "kitchen")

    scoped = auth(Role.MANAGER, business_lines=("bath",))
    response = await client.get("/v1/exports/tasks.csv", params=days(), headers=scoped)

    [row] = rows_of(response)
    assert (row["number"], row["ticket"], row["title"]) == (task["number"], ticket["number"], "上门检修")
    assert (row["reported_hours"], row["approved_hours"], row["status"]) == ("3.50", "", "reported")
    assert row["result"] == "'-更换风机，试机正常"
    assert datetime.fromisoformat(row["due_at"]).utcoffset() == SHANGHAI


def survey_row(answered_at: datetime | None, **values: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "id": uuid.uuid4(),
        "subject_type": "ticket",
        "subject_id": uuid.uuid4(),
        "resolved_at": now - timedelta(days=1),
        "round": 1,
        "number": "T-2026-000001",
        "title": "净化器异响",
        "customer_no": "C-1",
        "status": "answered" if answered_at else "sent",
        "send_at": now - timedelta(hours=20),
        "sent_at": now - timedelta(hours=20),
        "nps_asked": True,
        "reasons": [],
        "csat": None,
        "nps": None,
        "comment": None,
        "business_line": None,
        "answered_at": answered_at,
        "low_score": False,
        "version": 1,
        "created_at": now - timedelta(days=1),
        "updated_at": now,
        **values,
    }


async def test_survey_answers_export_the_answers_of_the_range_within_scope(client, auth, app):
    now = datetime.now(UTC)
    answered = [
        survey_row(now - timedelta(minutes=5), csat=2, nps=3, reasons=["slow_response", "other"], comment="@SUM(A1)"),
        survey_row(now - timedelta(minutes=1), csat=5, nps=10, comment="师傅很专业", business_line="bath"),
    ]
    elsewhere = [
        survey_row(now - timedelta(minutes=3), csat=4, business_line="kitchen"),  # another line
        survey_row(now - timedelta(days=9), csat=4),  # before the range
        survey_row(None),  # sent, not answered
    ]
    async with app.state.services.database.engine.begin() as conn:
        await conn.execute(insert(surveys), answered + elsewhere)

    scoped = auth(Role.MANAGER, business_lines=("bath",))
    response = await client.get("/v1/exports/survey-answers.csv", params=days(), headers=scoped)

    rows = rows_of(response)
    assert [(r["csat"], r["nps"], r["reasons"], r["comment"]) for r in rows] == [
        ("2", "3", "slow_response;other", "'@SUM(A1)"),
        ("5", "10", "", "师傅很专业"),
    ]
    assert rows[0]["title"] == "净化器异响" and rows[1]["business_line"] == "bath"
    assert datetime.fromisoformat(rows[0]["answered_at"]).utcoffset() == SHANGHAI


@pytest.mark.parametrize("name", ["after-sales", "tasks", "survey-answers"])
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"from": "2026-03-07", "to": "2026-03-01"}, "to"),
        ({"from": "2025-01-01", "to": "2026-12-31"}, "to"),
        ({"amount": "1"}, "amount"),
        ({"from": "yesterday"}, "from"),
    ],
)
async def test_bad_record_export_input_is_a_422_naming_the_parameter(client, auth, name, params, field):
    query = {"from": "2026-03-01", "to": "2026-03-07", **params}

    response = await client.get(f"/v1/exports/{name}.csv", params=query, headers=auth(Role.ADMIN))

    assert field in problem_fields(response, 422, "validation_failed")
