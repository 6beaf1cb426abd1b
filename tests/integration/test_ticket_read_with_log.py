"""A ticket is read with its SLA clock log in one statement: the log comes back event for event as the clock
repository reads it (kinds, targets and warning rules, tz-aware UTC instants, id order among equal instants), and an
action whose locking read waited for another writer still works from the whole log."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from sqlalchemy import text

from app.domain.ids import new_id
from app.domain.principal import Role
from app.domain.sla_clock import ClockEvent, ClockEventKind
from app.domain.sla_policies import Subject, Target, WarningRule
from app.persistence.tickets import SqlTicketRepository
from app.persistence.unit_of_work import SqlUnitOfWorkFactory
from tests.factories import act, open_ticket, seed_service_desk

K = ClockEventKind
METRICS = ("first_reply", "resolution", "state_in_progress")


def busy_log(start: datetime) -> list[list[ClockEvent]]:
    """Batches of events as a busy ticket's log gathers them: policies applied with business and calendar targets,
    share and minute warnings and none, a policy that measures nothing here, every kind, several events at one
    instant, and instants on and off the whole second."""
    business = Target(7200, business=True, calendar="cn")
    calendar_time = Target(86400, business=False)
    batches = []
    for n in range(8):
        at = start + timedelta(minutes=n, microseconds=(0, 1, 999_999, 500_000)[n % 4])
        batches.append(
            [
                ClockEvent(K.APPLY_POLICY, at, "first_reply", business, WarningRule(share=0.8), f"policy-{n}"),
                ClockEvent(K.APPLY_POLICY, at, "resolution", calendar_time, WarningRule(minutes=30), f"policy-{n}"),
                ClockEvent(K.APPLY_POLICY, at, "state_in_progress", None, None, None),
                *(ClockEvent(kind, at, METRICS[n % 3]) for kind in K if kind is not K.APPLY_POLICY),
            ]
        )
    return batches


def _shown(events: list[ClockEvent]) -> list[str]:
    """Each event with its instant's time zone spelt out: equal datetimes may still differ in zone."""
    return [f"{e!r} {e.at.tzinfo!r}" for e in events]


async def test_a_ticket_read_with_its_log_has_the_log_the_clock_repository_reads(app, client, auth):
    await seed_service_desk(client, auth)
    ticket = await open_ticket(client, auth)
    ticket_id = UUID(ticket["id"])
    factory = SqlUnitOfWorkFactory(app.state.services.database)
    batches = busy_log(datetime.now(UTC).replace(microsecond=0))
    for batch in batches:
        async with factory.write() as uow:
            await uow.sla_clocks.append(Subject.TICKET, ticket_id, batch)
            await uow.commit()

    other = await open_ticket(client, auth)
    async with factory.read() as uow:
        expected = await uow.sla_clocks.log(ticket_id)
        read = [await uow.tickets.get_guarded(ref) for ref in (ticket_id, ticket["number"])]
    async with factory.read() as uow:  # a page's logs, read afresh in one query
        paged = await uow.sla_clocks.logs([UUID(other["id"]), ticket_id, new_id()])
    async with factory.write() as uow:
        locked = await uow.tickets.get_guarded(ticket_id, for_update=True)

    assert len(expected) > sum(len(batch) for batch in batches) == 80  # intake's own events come first
    assert expected[-len(batches[-1]) :] == batches[-1]
    for found in (*read, locked):
        assert found is not None
        assert list(found.clock_log) == expected
        assert _shown(list(found.clock_log)) == _shown(expected)
    assert list(paged) == [UUID(other["id"]), ticket_id]  # a subject without events is absent
    assert paged[ticket_id] == expected and _shown(paged[ticket_id]) == _shown(expected)


@pytest.mark.postgres_only
async def test_a_session_in_another_time_zone_reads_the_same_instants(app, client, auth):
    """PostgreSQL writes a timestamptz into JSON in the session's time zone."""
    await seed_service_desk(client, auth)
    ticket = await open_ticket(client, auth)
    ticket_id = UUID(ticket["id"])
    factory = SqlUnitOfWorkFactory(app.state.services.database)
    async with factory.write() as uow:
        await uow.sla_clocks.append(Subject.TICKET, ticket_id, busy_log(datetime.now(UTC))[1])
        await uow.commit()
    async with factory.read() as uow:
        expected = await uow.sla_clocks.log(ticket_id)

    async with app.state.services.database.engine.connect() as conn:
        await conn.execute(text("SET TIME ZONE 'Asia/Kathmandu'"))  # +05:45
        found = await SqlTicketRepository(conn).get_guarded(ticket["number"])
        await conn.rollback()

    assert found is not None
    assert _shown(list(found.clock_log)) == _shown(expected)


FIRST_REPLY_POLICY = {
    "name": "两小时响应",
    "subject": "ticket",
    "position": 1,
    "targets": {"first_reply": {"normal": {"seconds": 7200, "business": False}}},
    "warning": None,
}


async def _waiting_for_a_lock(app) -> bool:
    async with app.state.services.database.engine.connect() as conn:
        waiting = text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        for _ in range(200):
            if (await conn.execute(waiting)).scalar_one():
                return True
            await asyncio.sleep(0.025)
    return False


@pytest.mark.postgres_only
async def test_an_action_that_waited_for_the_ticket_works_from_what_the_holder_appended(app, client, auth):
    """The action's read began before the holder committed, so its own snapshot lacks the holder's fulfilment of the
    first reply; the write under the lock counts the log and the action reads it again."""
    await seed_service_desk(client, auth)
    response = await client.put("/v1/sla-policies/fast", json=FIRST_REPLY_POLICY, headers=auth(Role.MANAGER))
    assert response.status_code == 201, response.text
    ticket = await open_ticket(client, auth)
    factory = SqlUnitOfWorkFactory(app.state.services.database)

    async with factory.write() as holder:  # as a public reply does: the ticket locked, the first reply fulfilled
        assert await holder.tickets.get(UUID(ticket["id"]), for_update=True) is not None
        replied = ClockEvent(K.FULFIL, datetime.now(UTC), "first_reply")
        await holder.sla_clocks.append(Subject.TICKET, UUID(ticket["id"]), [replied])
        claim = asyncio.create_task(act(client, auth(Role.AGENT, sub="agent-1"), ticket, "claim"))
        overlapped = await _waiting_for_a_lock(app)
        await holder.commit()
    claimed = await claim

    assert overlapped, "the claim never waited for the ticket"
    assert claimed.status_code == 200, claimed.text
    first_reply = next(m for m in claimed.json()["sla"]["metrics"] if m["metric"] == "first_reply")
    assert first_reply["fulfilled_at"] is not None, first_reply
    fresh = (await client.get(f"/v1/tickets/{ticket['id']}", headers=auth(Role.MANAGER))).json()
    assert claimed.json()["sla"]["metrics"] == fresh["sla"]["metrics"]
