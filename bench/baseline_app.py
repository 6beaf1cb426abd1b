"""The floor: FastAPI + SQLAlchemy async Core + asyncpg, without auth, validation or middleware.

Two endpoints, each the bare database work of one service operation: reading one order row, and taking in a
ticket (its number from the same sequence, the ticket row, a timeline row and an outbox row in one transaction).
Served by uvicorn (`--factory bench.baseline_app:create_app`) with the database in BENCH_DATABASE_URL.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import uuid6
from fastapi import FastAPI, HTTPException, status
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import create_async_engine

from app.persistence.tables import outbox, tickets, timeline

DATABASE_URL_ENV = "BENCH_DATABASE_URL"
POOL_SIZE = 10  # the service's default AFTERSALES_DATABASE_POOL_SIZE, with the same overflow

ORDER_BY_NUMBER = text(
    "SELECT order_no, customer_no, currency, shipping_fee, discount_amount, paid_amount, payment_status, "
    "fulfilment_status, placed_at, version, updated_at FROM sales_orders WHERE order_no = :order_no"
)
NEXT_TICKET_NUMBER = text("SELECT nextval('ticket_number_seq')")


def create_app() -> FastAPI:
    engine = create_async_engine(os.environ[DATABASE_URL_ENV], pool_size=POOL_SIZE, max_overflow=POOL_SIZE)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/orders/{order_no}")
    async def get_order(order_no: str) -> dict[str, Any]:
        async with engine.connect() as conn:
            row = (await conn.execute(ORDER_BY_NUMBER, {"order_no": order_no})).mappings().first()
        if row is None:
            raise HTTPException(404, "order not found")
        return dict(row)

    @app.post("/tickets", status_code=status.HTTP_201_CREATED)
    async def create_ticket(body: dict[str, Any]) -> dict[str, Any]:
        now = datetime.now(UTC)
        ticket_id = _new_id()
        async with engine.begin() as conn:
            number = f"T-{now.year}-{(await conn.execute(NEXT_TICKET_NUMBER)).scalar_one():06d}"
            await conn.execute(insert(tickets).values(_ticket_row(ticket_id, number, body, now)))
            await conn.execute(insert(timeline).values(_timeline_row(ticket_id, now)))
            await conn.execute(insert(outbox).values(_outbox_row(ticket_id, number, body["customer_no"], now)))
        return {"id": ticket_id, "number": number, "status": "new"}

    return app


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
