"""Reports from the hourly rollups: the rollup job counts each ticket event once, the reports reconcile with the
tickets and their timelines recomputed here from the raw rows (0 differences, on SQLite and PostgreSQL), a re-derive
rebuilds lost rollups, and bad input is a 4xx naming the parameter."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select, update

from app.domain.events import OutboxEvent
from app.domain.ids import new_id
from app.domain.principal import Role
from app.domain.report_metrics import bucket_of, upper_edge
from app.persistence.events import SqlOutboxRepository
from app.persistence.tables import service_settings, ticket_rollups, tickets, timeline
from tests.api.test_surveys import desk  # noqa: F401 - a fixture
from tests.factories import act, open_ticket
from tests.problems import problem_fields

ZONE = ZoneInfo("Asia/Shanghai")
OPEN = {"new", "assigned", "in_progress", "waiting_on_customer", "pending_follow_up"}
FINISHED = {"completed", "closed"}
H = timedelta(hours=1)
TIME_NAMES = ("first_reply", "next_reply", "first_resolution", "full_resolution")


async def walk(http, auth, clock, ticket, *moves: tuple[str, dict[str, Any]], agent: str = "agent-1") -> None:
    for action, body in moves:
        clock.advance(3 * H)
        headers = auth(Role.CUSTOMER) if action in ("reopen", "cancel") else auth(Role.AGENT, sub=agent)
        response = await act(http, headers, ticket, action, **body)
        assert response.status_code == 200, response.text


WORK = (("claim", {}), ("start", {}), ("resolve", {"solution": "更换风机"}))


async def say(http, auth, clock, ticket, *lines: tuple[str, str]) -> None:
    """Comments 40 minutes apart: (`agent` | `note` | `customer`, text); a note is internal."""
    for who, text in lines:
        clock.advance(timedelta(minutes=40))
        headers = auth(Role.CUSTOMER) if who == "customer" else auth(Role.AGENT)
        body = {"body": text, "visibility": "internal" if who == "note" else "public"}
        response = await http.post(f"/v1/tickets/{ticket['id']}/comments", json=body, headers=headers)
        assert response.status_code == 201, response.text


@pytest.fixture
async def worked(desk, auth, clock):  # noqa: F811
    """Seven tickets over three days: completed, reopened and closed again, cancelled, left open, by app and phone;
    customers writing before and after replies, internal notes, a message that flags the ticket (an event with no
    line of its own), a message to a cancelled ticket, a wait left open."""
    app, http = desk
    made = []
    for n in range(7):
        clock.advance(timedelta(hours=5, minutes=17 * n))
        made.append(
            await open_ticket(
                http, auth, channel="phone_400" if n % 2 else "app", priority="high" if n < 3 else "normal"
            )
        )
    done = (*WORK, ("complete", {}))
    await say(http, auth, clock, made[0], ("customer", "还没人联系我"), ("note", "查库存"), ("agent", "已安排师傅"))
    await say(http, auth, clock, made[0], ("customer", "什么时候到"), ("customer", "再不来就投诉到12315"))
    await walk(http, auth, clock, made[0], *done)
    await walk(http, auth, clock, made[1], *done, ("reopen", {"reason": "又响了"}), ("start", {}))
    await walk(http, auth, clock, made[1], ("resolve", {"solution": "再修"}), ("complete", {}))
    await walk(http, auth, clock, made[2], ("cancel", {"reason": "已自行解决"}))
    await say(http, auth, clock, made[2], ("customer", "不用了"), ("agent", "好的"))
    await say(http, auth, clock, made[3], ("agent", "您好"), ("customer", "在吗"), ("agent", "在"))
    await walk(http, auth, clock, made[3], *WORK)
    await say(http, auth, clock, made[3], ("customer", "还有个问题"))
    await walk(http, auth, clock, made[4], ("claim", {}), ("close", {"reason": "duplicate"}))
    await walk(http, auth, clock, made[5], *done, ("reopen", {"reason": "没修好"}))
    await say(http, auth, clock, made[5], ("customer", "又坏了"), ("note", "再派"), ("agent", "马上安排"))
    clock.advance(timedelta(hours=3))
    return app, http


async def rollup(app, clock) -> int:
    clock.advance(timedelta(minutes=5))  # past the job's settle time
    return await app.state.services.reports.run()


def window(days: int = 8, **extra: Any) -> dict[str, Any]:
    today = datetime.now(UTC).astimezone(ZONE).date()
    return {"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=days)), "tz": ZONE.key, **extra}


async def raw(app, kinds: tuple[str, ...] = ("action",)) -> tuple[list[Any], dict[Any, list[Any]]]:
    async with app.state.services.database.engine.connect() as conn:
        rows = list(await conn.execute(select(tickets)))
        steps: dict[Any, list[Any]] = {}
        query = select(timeline).where(timeline.c.kind.in_(kinds)).order_by(timeline.c.id)
        for step in await conn.execute(query):
            steps.setdefault(step.subject_id, []).append(step)
    return rows, steps


def day(at: datetime) -> date:
    return at.astimezone(ZONE).date()


def recomputed_volume(rows, steps, periods: list[date], by: str | None) -> dict[tuple[str, str | None], dict[str, int]]:
    """Every volume figure from the raw rows: counts from the timeline's status changes, the backlog at each local
    day's end by replaying each ticket's statuses."""
    out: dict[tuple[str, str | None], Counter[str]] = {}
    for ticket in rows:
        group = getattr(ticket, by) if by else None
        out.setdefault((str(day(ticket.created_at)), group), Counter())["created"] += 1
        for step in steps.get(ticket.id, []):
            if step.from_status == step.to_status:
                continue
            measure = (
                "resolved"
                if step.to_status == "pending_follow_up"
                else "closed"
                if step.to_status in FINISHED
                else "cancelled"
                if step.to_status == "cancelled"
                else "reopened"
                if step.from_status in FINISHED
                else None
            )
            if measure:
                out.setdefault((str(day(step.at)), group), Counter())[measure] += 1
        for period in periods:
            end = datetime.combine(period + timedelta(days=1), datetime.min.time(), ZONE)
            if ticket.created_at >= end:
                continue
            status = "new"
            for step in steps.get(ticket.id, []):
                if step.at < end:
                    status = step.to_status
            out.setdefault((str(period), group), Counter())["backlog"] += status in OPEN
    return {key: {k: v for k, v in counts.items() if v} for key, counts in out.items()}


def nearest_rank(samples: list[float], p: float) -> float | None:
    if not samples:
        return None
    return round(upper_edge(bucket_of(sorted(samples)[max(1, math.ceil(p * len(samples))) - 1])), 1)


def speaker(line) -> str | None:
    """Who spoke in a raw timeline line, as the SLA's reply clocks count it."""
    if line.kind == "comment":
        return line.payload.get("speaker") if line.public else None
    if line.action in ("request_info", "resolve"):
        return "agent"
    return "customer" if line.action in ("customer_reply", "urge") else None


def reply_waits(ticket, lines) -> tuple[list[tuple[Any, float]], list[tuple[Any, float]]]:
    """(reply instant, seconds waited) of the first reply and of each reply that ended a customer's wait."""
    first, following = [], []
    waiting, status = None, "new"
    for line in lines:
        status = line.to_status if line.kind == "action" else status
        who = speaker(line)
        if who == "agent" and not first:
            first.append((line.at, (line.at - ticket.created_at).total_seconds()))
        elif who == "agent" and waiting is not None:
            following.append((line.at, (line.at - waiting).total_seconds()))
        if who == "agent":
            waiting = None
        elif who == "customer" and first and waiting is None and status not in (*FINISHED, "cancelled"):
            waiting = line.at
    return first, following


def recomputed_times(rows, steps) -> dict[str, dict[str, Any]]:
    first: dict[str, list[float]] = {}
    full: dict[str, list[float]] = {}
    first_reply: dict[str, list[float]] = {}
    next_reply: dict[str, list[float]] = {}
    for ticket in rows:
        replies, waits = reply_waits(ticket, steps.get(ticket.id, []))
        for samples, found in ((first_reply, replies), (next_reply, waits)):
            for at, seconds in found:
                samples.setdefault(str(day(at)), []).append(seconds)
        resolutions = [s for s in steps.get(ticket.id, []) if s.to_status == "pending_follow_up"]
        if resolutions:
            at = resolutions[0].at
            first.setdefault(str(day(at)), []).append((at - ticket.created_at).total_seconds())
        if ticket.status in FINISHED:
            full.setdefault(str(day(ticket.finished_at)), []).append(
                (ticket.finished_at - ticket.created_at).total_seconds()
            )
    return {
        period: {
            name: {
                "count": len(s.get(period, [])),
                "p50_seconds": nearest_rank(s.get(period, []), 0.5),
                "p90_seconds": nearest_rank(s.get(period, []), 0.9),
            }
            for name, s in zip(TIME_NAMES, (first_reply, next_reply, first, full), strict=True)
        }
        for period in set(first) | set(full) | set(first_reply) | set(next_reply)
    }


def figures(items: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[tuple[str, str | None], dict[str, Any]]:
    """The report's non-empty rows, keyed by period and group."""
    out = {}
    for item in items:
        values = {k: item[k] for k in keys if item[k]}
        if values:
            out[(item["period"], item["group"])] = values
    return out


@pytest.mark.parametrize("by", [None, "channel", "priority"])
async def test_the_volume_report_reconciles_with_the_raw_rows(worked, auth, clock, by):
    app, http = worked
    assert await rollup(app, clock) > 0

    params = window(**({"group_by": by} if by else {}))
    response = await http.get("/v1/reports/volume", params=params, headers=auth(Role.MANAGER))

    assert response.status_code == 200, response.text
    body = response.json()
    periods = sorted({date.fromisoformat(item["period"]) for item in body["items"]})
    assert len(periods) == 10
    expected = {k: v for k, v in recomputed_volume(*(await raw(app)), periods, by).items() if any(v.values())}
    keys = ("created", "resolved", "closed", "cancelled", "reopened", "backlog")
    assert figures(body["items"], keys) == expected
    assert sum(item["created"] for item in body["items"]) == 7


async def test_the_times_report_reconciles_with_the_raw_rows(worked, auth, clock):
    app, http = worked
    await rollup(app, clock)

    body = (await http.get("/v1/reports/times", params=window(), headers=auth(Role.MANAGER))).json()

    got = {i["period"]: {k: i[k] for k in TIME_NAMES} for i in body["items"] if any(i[k]["count"] for k in TIME_NAMES)}
    assert got == recomputed_times(*(await raw(app, ("action", "comment"))))
    assert sum(i["full_resolution"]["count"] for i in body["items"]) == 3  # the reopened-and-left ticket is not done
    # by hand: first replies of tickets 0, 2, 3 (comments) and 1, 5 (their resolve); 4 was closed unanswered
    assert sum(i["first_reply"]["count"] for i in body["items"]) == 5
    # next replies: ticket 0's resolve, ticket 3's comment, ticket 5's after reopening; not the cancelled one's
    assert sum(i["next_reply"]["count"] for i in body["items"]) == 3


async def test_an_event_read_again_counts_nothing(worked, auth, clock):
    app, http = worked
    await rollup(app, clock)
    reports = ("/v1/reports/volume", "/v1/reports/times")
    before = [(await http.get(path, params=window(), headers=auth(Role.MANAGER))).json() for path in reports]
    async with app.state.services.database.engine.begin() as conn:  # the job's cursor set back: every event replayed
        await conn.execute(delete(service_settings).where(service_settings.c.key == "report_rollup_cursor"))

    assert await rollup(app, clock) == 0
    after = [(await http.get(path, params=window(), headers=auth(Role.MANAGER))).json() for path in reports]
    assert after == before


async def test_an_event_with_no_line_of_its_own_counts_nothing(worked, auth, clock):
    app, http = worked
    await rollup(app, clock)
    before = (await http.get("/v1/reports/times", params=window(), headers=auth(Role.MANAGER))).json()
    async with app.state.services.database.engine.connect() as conn:  # the ticket resolved and completed last
        last = (await conn.execute(select(timeline.c.subject_id).order_by(timeline.c.id.desc()).limit(1))).scalar()
    async with app.state.services.database.engine.begin() as conn:
        # what the SLA timer scan writes for a ticket (no timeline line): after its last line, a resolution's
        breach = OutboxEvent(new_id(), "sla.breached", "ticket", last, clock.now(), {"metric": "resolution"})
        await SqlOutboxRepository(conn).add(breach)

    assert await rollup(app, clock) == 1
    after = (await http.get("/v1/reports/times", params=window(), headers=auth(Role.MANAGER))).json()
    assert after == before


async def test_a_rederive_rebuilds_lost_rollups_from_the_raw_rows(worked, auth, clock):
    app, http = worked
    await rollup(app, clock)
    manager = auth(Role.MANAGER)
    before = (await http.get("/v1/reports/volume", params=window(group_by="channel"), headers=manager)).json()
    times_before = (await http.get("/v1/reports/times", params=window(group_by="channel"), headers=manager)).json()
    async with app.state.services.database.engine.begin() as conn:
        await conn.execute(delete(ticket_rollups))
    start = (datetime.now(UTC) - timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    end = start + timedelta(days=10)

    response = await http.post(
        "/v1/report-rollups/rederive",
        json={"start": start.isoformat(), "end": end.isoformat()},
        headers=manager,
    )

    assert response.status_code == 200, response.text
    assert response.json()["tickets"] == 7
    assert datetime.fromisoformat(response.json()["end"]) <= clock.now()  # held at the job's position
    after = (await http.get("/v1/reports/volume", params=window(group_by="channel"), headers=manager)).json()
    assert after == before
    times_after = (await http.get("/v1/reports/times", params=window(group_by="channel"), headers=manager)).json()
    assert times_after == times_before
    assert sum(i["next_reply"]["count"] for i in times_after["items"]) == 3


async def test_business_line_scope_applies(worked, auth, clock):
    app, http = worked
    async with app.state.services.database.engine.begin() as conn:
        first = (await conn.execute(select(tickets.c.id).order_by(tickets.c.id).limit(1))).scalar_one()
        await conn.execute(update(tickets).where(tickets.c.id != first).values(business_line="kitchen"))
        await conn.execute(update(tickets).where(tickets.c.id == first).values(business_line=None))
    await rollup(app, clock)

    scoped = auth(Role.MANAGER, business_lines=("bath",))
    body = (await http.get("/v1/reports/volume", params=window(), headers=scoped)).json()

    assert sum(item["created"] for item in body["items"]) == 1  # the ticket of no business line is everyone's


async def test_the_catalogue_lists_every_report_with_its_parameters(client, auth):
    response = await client.get("/v1/reports", headers=auth(Role.ADMIN))

    assert response.status_code == 200
    reports = {r["name"]: r for r in response.json()["items"]}
    assert set(reports) == {"volume", "times", "work-hours"}
    group_by = next(p for p in reports["volume"]["parameters"] if p["name"] == "group_by")
    assert "product_line" in group_by["values"]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"group_by": "colour"}, "group_by"),
        ({"interval": "hour"}, "interval"),
        ({"colour": "red"}, "colour"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
        ({"from": "2020-01-01", "to": "2026-03-01"}, "to"),
        ({"from": "yesterday"}, "from"),
    ],
)
async def test_bad_report_input_is_a_422_naming_the_parameter(client, auth, params, parameter):
    query = {"from": "2026-03-01", "to": "2026-03-07", **params}

    response = await client.get("/v1/reports/volume", params=query, headers=auth(Role.MANAGER))

    assert parameter in problem_fields(response, 422, "validation_failed")


async def test_an_unknown_report_is_a_404_naming_it(client, auth):
    response = await client.get("/v1/reports/churn-forecast", headers=auth(Role.MANAGER))

    assert problem_fields(response, 404, "report_not_found") == {"name"}


async def test_agents_may_not_read_reports(client, auth):
    response = await client.get("/v1/reports/volume", params=window(), headers=auth(Role.AGENT))

    assert response.status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {"start": "2026-03-01T00:30:00Z", "end": "2026-03-02T00:00:00Z"},
        {"start": "2026-03-02T00:00:00Z", "end": "2026-03-01T00:00:00Z"},
        {"start": "2020-03-01T00:00:00Z", "end": "2026-03-01T00:00:00Z"},
        {"start": "2026-03-01T00:00:00Z", "end": "2026-03-02T00:00:00Z", "extra": 1},
    ],
)
async def test_a_bad_rederive_range_is_a_422(client, auth, body):
    response = await client.post("/v1/report-rollups/rederive", json=body, headers=auth(Role.ADMIN))

    assert response.status_code == 422, response.text
