"""A change's timeline entry and its outbox events are written together, and the database numbers the events in
the order they were recorded (the order consumers read them in), for any number of them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.domain.events import OutboxEvent, TimelineEntry
from app.domain.ids import new_id
from app.persistence.tables import outbox, timeline
from app.persistence.unit_of_work import SqlUnitOfWorkFactory


@pytest.mark.parametrize("count", [1, 2, 5])
async def test_events_of_one_change_are_numbered_in_recorded_order(app, count):
    now = datetime.now(UTC)
    subject = new_id()
    entry = TimelineEntry(
        new_id(), subject, now, "agent-1", "action", "start", "new", "in_progress", None, {}, True, True
    )
    events = [OutboxEvent(new_id(), f"ticket.step_{n}", "ticket", subject, now, {"n": n}) for n in range(count)]
    factory = SqlUnitOfWorkFactory(app.state.services.database)
    async with factory.write() as uow:
        await uow.timeline.add(entry, events)
        await uow.commit()

    async with app.state.services.database.engine.connect() as conn:
        mine = select(outbox.c.id, outbox.c.sequence).where(outbox.c.aggregate_id == subject)
        written = (await conn.execute(mine.order_by(outbox.c.sequence))).all()
        entries = (await conn.execute(select(timeline.c.id).where(timeline.c.subject_id == subject))).scalars().all()
    assert [row.id for row in written] == [event.id for event in events]
    assert all(row.sequence is not None for row in written)
    assert entries == [entry.id]
