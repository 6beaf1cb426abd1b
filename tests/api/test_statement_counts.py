"""What one request costs the database, counted by statement: a budget per hot path, so that statements cannot
creep back in (ticket create ≤ 5, an after-sales action ≤ 10, a reviewer's approval ≤ 12). PostgreSQL writes a
timeline entry and its outbox events in one statement; SQLite has no data-modifying CTE, so there each entry costs one
more."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from app.domain.principal import Role
from tests.api.test_tasks import give_task, started_ticket
from tests.factories import auto_review_body, seed_reference_data, seed_service_desk, seed_shop, ticket_body
from tests.sql_capture import sent_statements

AUTO_REVIEW = auto_review_body()


@contextmanager
def counted(app) -> Iterator[list[str]]:
    """Every statement the app sends while the block runs (transaction control excluded), cut to 120 characters."""
    with sent_statements(app.state.services.database.engine.sync_engine) as sent:
        shown: list[str] = []
        yield shown
    shown.extend(statement[:120] for statement, _parameters in sent)


def _show(statements: list[str]) -> str:
    return "\n".join(statements)


def budget(app, statements: int, entries: int, numbers: int = 0) -> int:
    """`statements` on PostgreSQL; on SQLite one more for each of the request's `entries` timeline entries and for each
    human number it draws (PostgreSQL draws a ticket's number from its sequence inside the intake facts statement)."""
    postgres = app.state.services.database.engine.dialect.name == "postgresql"
    return statements if postgres else statements + entries + numbers


async def test_creating_a_ticket_takes_at_most_five_statements(app, client, auth):
    await seed_reference_data(client, auth)
    headers = auth(Role.INTEGRATION)
    await client.post("/v1/tickets", json=ticket_body(), headers=headers)  # warm: first-use reads are not the path

    with counted(app) as statements:
        response = await client.post("/v1/tickets", json=ticket_body(), headers=headers)

    assert response.status_code == 201, response.text
    assert len(statements) <= budget(app, 5, entries=1, numbers=1), _show(statements)


@pytest.mark.parametrize("step", ["payment_accepted", "payment_succeeded"])
async def test_an_after_sales_step_takes_at_most_ten_statements(app, client, auth, step):
    await seed_shop(client, auth)
    await client.put("/v1/settings/auto-review", json=AUTO_REVIEW, headers=auth(Role.MANAGER))
    body = {"order_no": "SO-UNPICKED", "type": "refund", "reason_code": "changed_mind"}
    refund = (await client.post("/v1/after-sales", json=body, headers=auth(Role.CUSTOMER))).json()
    payment = auth(Role.INTEGRATION, sub="payment-centre")
    if step == "payment_succeeded":
        await client.post(f"/v1/after-sales/{refund['id']}/actions/payment_accepted", json={}, headers=payment)

    with counted(app) as statements:
        response = await client.post(f"/v1/after-sales/{refund['id']}/actions/{step}", json={}, headers=payment)

    assert response.status_code == 200, response.text
    assert len(statements) <= budget(app, 10, entries=1), _show(statements)


async def test_a_reviewers_approval_takes_at_most_twelve_statements(app, client, auth):
    await seed_shop(client, auth)
    lines = [{"sku": "SKU-1", "quantity": 1}]
    body = {"order_no": "SO-C-1", "type": "return_refund", "reason_code": "changed_mind", "lines": lines}
    created = (await client.post("/v1/after-sales", json=body, headers=auth(Role.CUSTOMER))).json()

    with counted(app) as statements:
        response = await client.post(
            f"/v1/after-sales/{created['id']}/actions/approve", json={}, headers=auth(Role.REVIEWER)
        )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "awaiting_return"
    # the vote's entry and the order's; the order's SLA clock log read and its append
    assert len(statements) <= budget(app, 12, entries=2), _show(statements)


async def test_reading_a_ticket_is_one_statement_and_two_when_it_could_be_claimed(app, client, auth):
    """The ticket, its unfinished tasks and its SLA clock log come in one statement; a ticket in the claim pool adds
    the caller's workload (their agent record and held-ticket count, in one more)."""
    await seed_reference_data(client, auth)
    created = (await client.post("/v1/tickets", json=ticket_body(), headers=auth(Role.INTEGRATION))).json()
    agent = auth(Role.AGENT)

    with counted(app) as claimable:
        pooled = await client.get(f"/v1/tickets/{created['id']}", headers=agent)
    with counted(app) as customer_read:
        own = await client.get(f"/v1/tickets/{created['number']}", headers=auth(Role.CUSTOMER))

    assert (pooled.status_code, own.status_code) == (200, 200)
    assert len(claimable) <= 2, _show(claimable)
    assert len(customer_read) <= 1, _show(customer_read)


async def test_a_page_of_tickets_is_one_statement_and_the_claim_pool_one_more(app, client, auth):
    """A list page reads its tickets with their unfinished tasks and clock logs in one statement, however many
    tickets it holds; the pool's page adds its counts, and a caller who may claim adds their workload."""
    await seed_service_desk(client, auth)
    for _ in range(5):
        await client.post("/v1/tickets", json=ticket_body(), headers=auth(Role.INTEGRATION))
    worked = await started_ticket(client, auth)
    assert (await give_task(client, auth, worked)).status_code == 201  # a ticket with an unfinished task

    with counted(app) as customer_page:
        mine = await client.get("/v1/tickets", headers=auth(Role.CUSTOMER))
    with counted(app) as agent_page:
        listed = await client.get("/v1/tickets?limit=50", headers=auth(Role.AGENT, sub="agent-1"))

    assert (mine.status_code, listed.status_code) == (200, 200)
    assert len(listed.json()["items"]) == 6
    assert len(customer_page) <= 1, _show(customer_page)
    assert len(agent_page) <= 2, _show(agent_page)  # the page, and the agent's workload for the claim buttons


async def test_a_ticket_action_reads_the_ticket_once(app, client, auth):
    await seed_service_desk(client, auth)
    created = (await client.post("/v1/tickets", json=ticket_body(), headers=auth(Role.INTEGRATION))).json()
    manager = auth(Role.MANAGER)
    assign = {"assignee": "agent-1"}
    response = await client.post(f"/v1/tickets/{created['id']}/actions/assign", json=assign, headers=manager)
    assert response.status_code == 200, response.text

    with counted(app) as statements:
        started = await client.post(
            f"/v1/tickets/{created['id']}/actions/start", json={}, headers=auth(Role.AGENT, sub="agent-1")
        )

    assert started.status_code == 200, started.text
    reads = [s for s in statements if s.startswith("SELECT tickets.")]
    assert len(reads) == 1, _show(statements)
    assert not [s for s in statements if s.startswith("SELECT sla_clock_events")], _show(statements)
    # read and lock with the SLA clock log, update, timeline; the clock events appended (the timer stays put here)
    assert len(statements) <= budget(app, 4, entries=1), _show(statements)


async def test_a_ticket_number_is_drawn_with_the_intake_facts_on_postgresql(app, client, auth):
    """PostgreSQL draws the number from its sequence inside the facts statement; SQLite bumps its counter row after the
    facts. Either way numbers keep increasing, one per ticket, and a refused intake writes nothing."""
    await seed_reference_data(client, auth)
    headers = auth(Role.INTEGRATION)
    first = (await client.post("/v1/tickets", json=ticket_body(), headers=headers)).json()
    refused = await client.post("/v1/tickets", json=ticket_body(customer_no="C-NOBODY"), headers=headers)

    with sent_statements(app.state.services.database.engine.sync_engine) as sent:
        second = (await client.post("/v1/tickets", json=ticket_body(), headers=headers)).json()

    assert refused.status_code == 422, refused.text
    assert second["number"] > first["number"]
    numbering = [statement for statement, _parameters in sent if "nextval" in statement or "counters" in statement]
    assert len(numbering) == 1, numbering
    if app.state.services.database.engine.dialect.name == "postgresql":
        assert "FROM customers" in numbering[0], numbering[0]  # the facts statement itself


async def test_a_ticket_create_executes_each_statement_once_on_postgresql(app, client, auth):
    """Several tags and several clock events are one execution each (arrays on PostgreSQL): asyncpg's executemany,
    which SQLAlchemy uses for a list of several rows, costs several single executions."""
    if app.state.services.database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite executes a list of rows in its own process: nothing crosses a connection per row")
    await seed_reference_data(client, auth)
    headers = auth(Role.INTEGRATION)
    await client.post("/v1/tickets", json=ticket_body(), headers=headers)
    many: list[str] = []

    def capture(_conn, _cursor, statement, _parameters, _context, executemany) -> None:
        if executemany:
            many.append(statement[:120])

    engine = app.state.services.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        one_tag = await client.post("/v1/tickets", json=ticket_body(), headers=headers)
        body = ticket_body(tags=["noise", "repeat", "vip-line"], type="complaint", priority="high")
        three_tags = await client.post("/v1/tickets", json=body, headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", capture)

    assert (one_tag.status_code, three_tags.status_code) == (201, 201), three_tags.text
    assert three_tags.json()["tags"] == ["noise", "repeat", "vip-line"]
    assert many == [], _show(many)
