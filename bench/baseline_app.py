"""The floor: FastAPI + SQLAlchemy async Core + asyncpg, without auth, validation or middleware, and with what
makes the service's own database work cheap (statements built once, the same pool and JSON codec), so that the
gap it shows is the service's logic and nothing else.

Each endpoint is the bare database work of one service operation: reading one order row; taking in a ticket (its
number from the same sequence, the ticket row, a timeline row and an outbox row in one transaction); reading one
ticket by primary key with its unfinished tasks (what the service's GET reads at the least, for the actions it
offers); and a keyset page of 20 tickets, newest first through the primary key as the service's default list, with
the page's unfinished tasks in one query. Served by uvicorn (`--factory bench.baseline_app:create_app`) with the
database in BENCH_DATABASE_URL.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson
import uuid6
from fastapi import FastAPI, HTTPException, Response, status
from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from app.domain.tasks import UNFINISHED_STATUSES
from app.domain.tickets import OPEN_STATES
from app.persistence.database import JSON_CODEC
from app.persistence.tables import outbox, tasks, tickets, timeline
from app.settings import Settings

DATABASE_URL_ENV = "BENCH_DATABASE_URL"
POOL_SIZE = Settings.model_fields["database_pool_size"].default  # the service's pool, kept open the same way

ORDER_BY_NUMBER = text(
    "SELECT order_no, customer_no, currency, shipping_fee, discount_amount, paid_amount, payment_status, "
    "fulfilment_status, placed_at, version, updated_at FROM sales_orders WHERE order_no = :order_no"
)
NEXT_TICKET_NUMBER = text("SELECT nextval('ticket_number_seq')")
PAGE_SIZE = 20
# Built once: each request is then served from SQLAlchemy's compiled cache.
TICKET_BY_ID = select(tickets).where(tickets.c.id == bindparam("id"))
FIRST_PAGE = select(tickets).order_by(tickets.c.id.desc()).limit(PAGE_SIZE + 1)
NEXT_PAGE = select(tickets).where(tickets.c.id < bindparam("after")).order_by(tickets.c.id.desc()).limit(PAGE_SIZE + 1)
ADD_TICKET, ADD_TIMELINE_ENTRY, ADD_EVENT = insert(tickets), insert(timeline), insert(outbox)
UNFINISHED_TASKS = (
    select(tasks.c.ticket_id, tasks.c.number)
    .where(tasks.c.ticket_id.in_(bindparam("ids", expanding=True)), tasks.c.status.in_(UNFINISHED_STATUSES))
    .order_by(tasks.c.id)
)


def create_app() -> FastAPI:
    engine = create_async_engine(os.environ[DATABASE_URL_ENV], pool_size=POOL_SIZE, max_overflow=0, **JSON_CODEC)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/orders/{order_no}")
    async def get_order(order_no: str) -> Response:
        async with engine.connect() as conn:
            row = (await conn.execute(ORDER_BY_NUMBER, {"order_no": order_no})).mappings().first()
        if row is None:
            raise HTTPException(404, "order not found")
        return _json(dict(row))

    @app.get("/tickets/{ticket_id}")
    async def get_ticket(ticket_id: UUID) -> Response:
        async with engine.connect() as conn:
            row = (await conn.execute(TICKET_BY_ID, {"id": ticket_id})).mappings().first()
            if row is None:
                raise HTTPException(404, "ticket not found")
            return _json((await _with_tasks(conn, [dict(row)]))[0])

    @app.get("/tickets")
    async def list_tickets(cursor: UUID | None = None) -> Response:
        """`cursor`: the last id of the previous page."""
        async with engine.connect() as conn:
            found = await (conn.execute(FIRST_PAGE) if cursor is None else conn.execute(NEXT_PAGE, {"after": cursor}))
            rows = [dict(row) for row in found.mappings()]
            items = await _with_tasks(conn, rows[:PAGE_SIZE])
        return _json({"items": items, "next_cursor": str(items[-1]["id"]) if len(rows) > PAGE_SIZE else None})

    @app.post("/tickets", status_code=status.HTTP_201_CREATED)
    async def create_ticket(body: dict[str, Any]) -> dict[str, Any]:
        now = datetime.now(UTC)
        ticket_id = _new_id()
        async with engine.begin() as conn:
            number = f"T-{now.year}-{(await conn.execute(NEXT_TICKET_NUMBER)).scalar_one():06d}"
            await conn.execute(ADD_TICKET, _ticket_row(ticket_id, number, body, now))
            await conn.execute(ADD_TIMELINE_ENTRY, _timeline_row(ticket_id, now))
            await conn.execute(ADD_EVENT, _outbox_row(ticket_id, number, body["customer_no"], now))
        return {"id": ticket_id, "number": number, "status": "new"}

    return app


def _json(content: Any) -> Response:
    """Rows serialised once by orjson: the floor of turning a read into bytes. Column names are str subclasses, which
    orjson takes as keys only with OPT_NON_STR_KEYS, and asyncpg's UUIDs are written by `str`."""
    return Response(orjson.dumps(content, default=str, option=orjson.OPT_NON_STR_KEYS), media_type="application/json")


async def _with_tasks(conn: AsyncConnection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each open ticket's unfinished task numbers, one query for all of them (none when no ticket is open)."""
    open_ids = [row["id"] for row in rows if row["status"] in OPEN_STATES]
    numbers: dict[UUID, list[str]] = {}
    if open_ids:
        for ticket_id, number in await conn.execute(UNFINISHED_TASKS, {"ids": open_ids}):
            numbers.setdefault(ticket_id, []).append(number)
    return [{**row, "unfinished_tasks": numbers.get(row["id"], [])} for row in rows]


def _new_id() -> UUID:
    """Time-ordered like the service's ids, so both append to the same end of the primary-key index."""
    return UUID(bytes=uuid6.uuid7().bytes)


def _ticket_row(ticket_id: UUID, number: str, body: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "id": ticket_id,
        "number": number,
        "customer_no": body["customer_no"],
        "channel": body["channel"],
        "type": body["type"],
        "priority": body.get("priority", "normal"),
        "status": "new",
        "title": body["title"],
        "description": body["description"],
        "tags": body.get("tags", []),
        "order_no": body.get("order_no"),
        "sku": body.get("sku"),
        "serial_no": body.get("serial_no"),
        "warranty_status": "unknown",
        "fault_description": body.get("fault_description"),
        "contact": body.get("contact", {}),
        "region": body.get("region"),
        "attachments": [],
        "escalation_level": 0,
        "urge_count": 0,
        "created_by": "baseline",
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }


def _timeline_row(ticket_id: UUID, now: datetime) -> dict[str, Any]:
    return {
        "id": _new_id(),
        "subject_id": ticket_id,
        "at": now,
        "actor": "baseline",
        "kind": "created",
        "action": "create",
        "to_status": "new",
        "payload": {},
        "public": True,
    }


def _outbox_row(ticket_id: UUID, number: str, customer_no: str, now: datetime) -> dict[str, Any]:
    payload = {"ticket_id": str(ticket_id), "number": number, "customer_no": customer_no, "status": "new"}
    return {
        "id": _new_id(),
        "type": "ticket.created",
        "aggregate_type": "ticket",
        "aggregate_id": ticket_id,
        "occurred_at": now,
        "payload": payload,
    }
