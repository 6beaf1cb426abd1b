"""Human numbers (T-…, AS-…): a PostgreSQL sequence, which never holds a row lock across concurrent creates, or a
counter row on SQLite, whose writers are serialised anyway."""

from __future__ import annotations

from sqlalchemy import bindparam, insert, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.persistence.tables import counters

SEQUENCES = {"ticket": "ticket_number_seq", "after_sales": "after_sales_number_seq", "task": "task_number_seq"}
_NEXTVAL = {name: text(f"SELECT nextval('{sequence}')") for name, sequence in SEQUENCES.items()}
_BUMP = (
    update(counters)
    .where(counters.c.name == bindparam("counter"))
    .values(value=counters.c.value + 1)
    .returning(counters.c.value)
)
_FIRST = insert(counters)


async def next_number(conn: AsyncConnection, name: str) -> int:
    if conn.dialect.name == "postgresql":
        return (await conn.execute(_NEXTVAL[name])).scalar_one()
    value = (await conn.execute(_BUMP, {"counter": name})).scalar()
    if value is None:
        await conn.execute(_FIRST, {"name": name, "value": 1})
        value = 1
    return value
