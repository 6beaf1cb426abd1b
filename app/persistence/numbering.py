"""Human numbers (T-…, AS-…): a PostgreSQL sequence, which never holds a row lock across concurrent creates, or a
counter row on SQLite, whose writers are serialised anyway."""

from __future__ import annotations

from sqlalchemy import insert, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.persistence.tables import counters

SEQUENCES = {"ticket": "ticket_number_seq", "after_sales": "after_sales_number_seq", "task": "task_number_seq"}


async def next_number(conn: AsyncConnection, name: str) -> int:
    if conn.dialect.name == "postgresql":
        return (await conn.execute(text(f"SELECT nextval('{SEQUENCES[name]}')"))).scalar_one()
    bumped = update(counters).where(counters.c.name == name).values(value=counters.c.value + 1)
    value = (await conn.execute(bumped.returning(counters.c.value))).scalar()
    if value is None:
        await conn.execute(insert(counters).values(name=name, value=1))
        value = 1
    return value
