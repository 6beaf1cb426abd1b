"""SLA re-derivation requests and the walk over open subjects' timers they drive. Statements are built once, at
import."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.ids import new_id
from app.domain.pagination import Page, PageRequest
from app.domain.sla_policies import AFTER_SALES_PRIORITY, Subject
from app.domain.unit_of_work import OpenTimer, Rederivation, WalkedSubject
from app.persistence.keyset import fetch_page
from app.persistence.tables import after_sales_orders, sla_rederivations, sla_timers, tickets

_START = UUID(int=0)
"""Below every subject id: where a walk that has not started continues from."""

_REQUEST = insert(sla_rederivations)
_CLAIM = (
    select(sla_rederivations)
    .where(sla_rederivations.c.finished_at.is_(None))
    .order_by(sla_rederivations.c.id.desc())
    .limit(1)
    .with_for_update(skip_locked=True)
)
_SUPERSEDE = (
    update(sla_rederivations)
    .where(sla_rederivations.c.finished_at.is_(None), sla_rederivations.c.id < bindparam("newest"))
    .values(finished_at=bindparam("now"), superseded_by=bindparam("newest"))
)
_ADVANCE = (
    update(sla_rederivations)
    .where(sla_rederivations.c.id == bindparam("b_id"))
    .values(after_subject_id=bindparam("b_after"), done=bindparam("b_done"), finished_at=bindparam("b_finished_at"))
)
_OPEN_TIMERS = (
    select(sla_timers.c.subject_id, sla_timers.c.subject_type, sla_timers.c.due_at)
    .where(sla_timers.c.subject_id > bindparam("after"))
    .order_by(sla_timers.c.subject_id)
    .limit(bindparam("limit"))
    .with_for_update()
)
"""A keyset page of the timers' primary key: every timer is an open subject's (a subject reaching a final state
drops its timer). The timers are locked without skipping: an action locks its subject and then its timer, so
waiting on a timer cannot close a cycle with it, and a skipped timer would be left behind the cursor."""
_MOVE = (
    update(sla_timers)
    .where(sla_timers.c.subject_id == bindparam("b_subject_id"))
    .values(due_at=bindparam("b_due_at"), updated_at=bindparam("b_now"))
)
_ALL = select(sla_rederivations)
_TICKETS = select(
    tickets.c.id,
    tickets.c.status,
    tickets.c.priority,
    tickets.c.type,
    tickets.c.customer_no,
    tickets.c.created_at,
    tickets.c.category,
    tickets.c.channel,
    tickets.c.group_key,
    tickets.c.business_line,
    tickets.c.region,
).where(tickets.c.id.in_(bindparam("ids", expanding=True)))
_ORDERS = select(
    after_sales_orders.c.id,
    after_sales_orders.c.status,
    after_sales_orders.c.type,
    after_sales_orders.c.customer_no,
    after_sales_orders.c.created_at,
    after_sales_orders.c.business_line,
).where(after_sales_orders.c.id.in_(bindparam("ids", expanding=True)))
"""What the walk matches a batch's subjects on, by primary key."""


def _request(row: Row[Any]) -> Rederivation:
    return Rederivation(
        id=row.id,
        reason=row.reason,
        requested_at=row.requested_at,
        after_subject_id=row.after_subject_id,
        done=row.done,
        finished_at=row.finished_at,
        superseded_by=row.superseded_by,
    )


class SqlSlaRederivationRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def request(self, reason: str, now: datetime) -> None:
        row = {"id": new_id(), "reason": reason[:200], "requested_at": now, "done": 0}
        await self._conn.execute(_REQUEST, row)

    async def claim(self) -> Rederivation | None:
        """On SQLite, FOR UPDATE is not sent: its writers are serialised already."""
        row = (await self._conn.execute(_CLAIM)).first()
        return None if row is None else _request(row)

    async def supersede(self, newest: Rederivation, now: datetime) -> None:
        await self._conn.execute(_SUPERSEDE, {"newest": newest.id, "now": now})

    async def open_timers(self, after: UUID | None, limit: int) -> list[OpenTimer]:
        rows = await self._conn.execute(_OPEN_TIMERS, {"after": after or _START, "limit": limit})
        return [OpenTimer(row.subject_id, row.due_at, Subject(row.subject_type)) for row in rows]

    async def subjects(self, timers: Sequence[OpenTimer]) -> dict[UUID, WalkedSubject]:
        found: dict[UUID, WalkedSubject] = {}
        ticket_ids = [t.subject_id for t in timers if t.subject is Subject.TICKET]
        order_ids = [t.subject_id for t in timers if t.subject is Subject.AFTER_SALES]
        if ticket_ids:
            for row in await self._conn.execute(_TICKETS, {"ids": ticket_ids}):
                found[row.id] = WalkedSubject(
                    Subject.TICKET,
                    row.status,
                    row.priority,
                    row.type,
                    row.customer_no,
                    row.created_at,
                    row.category,
                    row.channel,
                    row.group_key,
                    row.business_line,
                    row.region,
                )
        if order_ids:
            for row in await self._conn.execute(_ORDERS, {"ids": order_ids}):
                found[row.id] = WalkedSubject(
                    Subject.AFTER_SALES,
                    row.status,
                    AFTER_SALES_PRIORITY,
                    row.type,
                    row.customer_no,
                    row.created_at,
                    business_line=row.business_line,
                )
        return found

    async def move_timers(self, moves: Sequence[OpenTimer], now: datetime) -> None:
        """One statement executed for every moved timer (executemany)."""
        if moves:
            rows = [{"b_subject_id": m.subject_id, "b_due_at": m.due_at, "b_now": now} for m in moves]
            await self._conn.execute(_MOVE, rows)

    async def advance(self, request: Rederivation) -> None:
        params = {
            "b_id": request.id,
            "b_after": request.after_subject_id,
            "b_done": request.done,
            "b_finished_at": request.finished_at,
        }
        await self._conn.execute(_ADVANCE, params)

    async def list(self, page: PageRequest) -> Page[Rederivation]:
        rows, next_key = await fetch_page(self._conn, _ALL, sla_rederivations.c.id, page)
        return Page([_request(row) for row in rows], next_key)
