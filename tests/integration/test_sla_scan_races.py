"""The SLA timer scan under concurrency on PostgreSQL: six scanners over the same due tickets and after-sales
orders, in small batches so that they interleave, act on each breach exactly once (one outbox event, one
notification per recipient, one escalation)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.domain.principal import Role
from app.main import create_app
from app.persistence.tables import after_sales_orders, notifications, outbox, tickets
from app.persistence.unit_of_work import SqlUnitOfWorkFactory
from app.services.sla import SlaService
from tests.api.test_business_calendars import calendar_body
from tests.conftest import MovableClock, client_for, make_settings
from tests.factories import order_body, put, seed_service_desk, seed_shop, ticket_body

pytestmark = pytest.mark.postgres_only
TICKETS = 50
ORDERS = 10
SCANNERS = 6
POLICY = {
    "name": "两小时响应",
    "subject": "ticket",
    "position": 1,
    "targets": {"first_reply": {"normal": {"seconds": 7200, "business": False}}},
    "warning": None,
}
ORDER_POLICY = {
    "name": "两小时审核",
    "subject": "after_sales",
    "position": 1,
    "targets": {"review": {"normal": {"seconds": 7200, "business": False}}},
    "warning": None,
    "escalation": {"on_breach": ["managers"]},
}


async def test_concurrent_scans_act_on_each_breach_once(database_url, auth, clock: MovableClock):
    apps = [create_app(make_settings(database_url), clock=clock) for _ in range(3)]
    async with client_for(apps[0]) as http, client_for(apps[1]), client_for(apps[2]):
        await seed_service_desk(http, auth)
        await seed_shop(http, auth)
        await http.put("/v1/business-calendars/cn", json=calendar_body(), headers=auth(Role.MANAGER))
        assert (await http.put("/v1/sla-policies/fast", json=POLICY, headers=auth(Role.MANAGER))).status_code == 201
        policy = await http.put("/v1/sla-policies/review", json=ORDER_POLICY, headers=auth(Role.MANAGER))
        assert policy.status_code == 201, policy.text
        for n in range(ORDERS):
            await put(http, auth(Role.INTEGRATION), f"/v1/orders/SO-RACE-{n}", order_body())
            body = {"order_no": f"SO-RACE-{n}", "type": "return_refund", "reason_code": "changed_mind"}
            lines = [{"sku": "SKU-1", "quantity": 1}]
            submitted = await http.post("/v1/after-sales", json=body | {"lines": lines}, headers=auth(Role.CUSTOMER))
            assert submitted.status_code == 201 and submitted.json()["status"] == "under_review", submitted.text
        agent = auth(Role.AGENT, sub="agent-1")
        for _ in range(TICKETS):
            created = (await http.post("/v1/tickets", json=ticket_body(), headers=agent)).json()
            claimed = await http.post(f"/v1/tickets/{created['id']}/actions/claim", json={}, headers=agent)
            assert claimed.status_code == 200, claimed.text
        clock.advance(timedelta(hours=3))
        scanners = [
            SlaService(SqlUnitOfWorkFactory(app.state.services.database), clock, batch=4)
            for app in apps
            for _ in range(SCANNERS // len(apps))
        ]

        acted = await asyncio.gather(*(scanner.scan() for scanner in scanners))

        assert sum(acted) == TICKETS + ORDERS
        assert sum(1 for n in acted if n) >= 2, acted  # the scans overlapped: more than one claimed work
        assert [await scanner.scan() for scanner in scanners] == [0] * len(scanners)
        async with apps[0].state.services.database.engine.connect() as conn:
            breached = select(func.count()).where(outbox.c.type == "sla.breached")
            notified = (
                select(notifications.c.recipient, func.count())
                .where(notifications.c.kind == "sla_breached")
                .group_by(notifications.c.recipient)
            )
            levels = select(tickets.c.escalation_level, func.count()).group_by(tickets.c.escalation_level)
            order_levels = select(after_sales_orders.c.escalation_level, func.count()).group_by(
                after_sales_orders.c.escalation_level
            )
            assert (await conn.execute(breached)).scalar_one() == TICKETS + ORDERS
            assert dict((await conn.execute(notified)).all()) == {"agent-1": TICKETS, "manager-1": TICKETS + ORDERS}
            assert dict((await conn.execute(levels)).all()) == {1: TICKETS}
            assert dict((await conn.execute(order_levels)).all()) == {1: ORDERS}
