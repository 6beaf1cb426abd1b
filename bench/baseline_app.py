"""The floor: FastAPI + SQLAlchemy async Core + asyncpg reading one order row, without auth or middleware.

Served by uvicorn (`--factory bench.baseline_app:create_app`) with the database in BENCH_DATABASE_URL.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

DATABASE_URL_ENV = "BENCH_DATABASE_URL"
POOL_SIZE = 10  # the service's default AFTERSALES_DATABASE_POOL_SIZE, with the same overflow

ORDER_BY_NUMBER = text(
    "SELECT order_no, customer_no, currency, shipping_fee, discount_amount, paid_amount, payment_status, "
    "fulfilment_status, placed_at, version, updated_at FROM sales_orders WHERE order_no = :order_no"
)


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

    return app
