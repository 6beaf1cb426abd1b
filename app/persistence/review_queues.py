"""Review queue rows ↔ ReviewQueue entities: the key, position and name as columns, the conditions and reviewers as
one JSON document read and written whole."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Row, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.after_sales import AfterSalesType
from app.domain.pagination import Page, PageRequest
from app.domain.review_queues import AmountRange, QueueConditions, ReviewQueue, ReviewQueueData
from app.persistence.keyset import fetch_page
from app.persistence.lookups import Lookup
from app.persistence.tables import agents, review_queues


def _document(data: ReviewQueueData) -> dict[str, Any]:
    conditions, amount = data.conditions, data.conditions.amount
    return {
        "business_lines": sorted(conditions.business_lines),
        "types": sorted(t.value for t in conditions.types),
        "amount": None
        if amount is None
        else {"currency": amount.currency, "min": amount.minimum, "max": amount.maximum},
        "reviewers": list(data.reviewers),
    }


def _queue(row: Row[Any]) -> ReviewQueue:
    document = row.document
    amount = document["amount"]
    conditions = QueueConditions(
        business_lines=frozenset(document["business_lines"]),
        types=frozenset(AfterSalesType(t) for t in document["types"]),
        amount=None if amount is None else AmountRange(amount["currency"], amount["min"], amount["max"]),
    )
    data = ReviewQueueData(row.name, row.position, conditions, tuple(document["reviewers"]))
    return ReviewQueue(row.id, row.key, data, row.version, row.created_at, row.updated_at)


def _values(queue: ReviewQueue) -> dict[str, Any]:
    return {
        "position": queue.data.position,
        "name": queue.data.name,
        "document": _document(queue.data),
        "version": queue.version,
        "updated_at": queue.updated_at,
    }


_BY_KEY = Lookup(review_queues, review_queues.c.key)
_HOLD = select(review_queues).where(review_queues.c.key == bindparam("key")).with_for_update(read=True)
_ORDERED = select(review_queues).order_by(review_queues.c.position, review_queues.c.key)
_COUNT = select(func.count()).select_from(review_queues)
_UPDATE = update(review_queues).where(review_queues.c.id == bindparam("queue_id"))
_DELETE = delete(review_queues).where(review_queues.c.id == bindparam("queue_id"))


class SqlReviewQueueRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, key: str, *, for_update: bool = False) -> ReviewQueue | None:
        row = await _BY_KEY.row(self._conn, key, for_update=for_update)
        return _queue(row) if row else None

    async def add(self, queue: ReviewQueue, /) -> None:
        values = {"id": queue.id, "key": queue.key, "created_at": queue.created_at, **_values(queue)}
        await self._conn.execute(insert(review_queues), values)

    async def update(self, queue: ReviewQueue, /) -> None:
        await self._conn.execute(_UPDATE, {"queue_id": queue.id, **_values(queue)})

    async def delete(self, queue: ReviewQueue) -> None:
        await self._conn.execute(_DELETE, {"queue_id": queue.id})

    async def count(self) -> int:
        return int((await self._conn.execute(_COUNT)).scalar_one())

    async def list(self, page: PageRequest) -> Page[ReviewQueue]:
        c = review_queues.c
        rows, next_key = await fetch_page(
            self._conn, select(review_queues), [c.position, c.key], page, descending=False
        )
        return Page([_queue(row) for row in rows], next_key)

    async def ordered(self) -> list[ReviewQueue]:
        return [_queue(row) for row in await self._conn.execute(_ORDERED)]

    async def hold(self, key: str) -> ReviewQueue | None:
        """`FOR SHARE` on PostgreSQL (a deletion or replacement of the queue waits for the routed order's commit, and
        sees it); SQLite serialises writers already."""
        row = (await self._conn.execute(_HOLD, {"key": key})).first()
        return _queue(row) if row else None

    async def reviewers(self, keys: Collection[str]) -> dict[str, frozenset[str]]:
        if not keys:
            return {}
        rows = (await self._conn.execute(select(review_queues).where(review_queues.c.key.in_(sorted(keys))))).all()
        named = {row.key: frozenset(row.document["reviewers"]) for row in rows}
        active = await self.active_agents(frozenset().union(*named.values()))
        return {key: reviewers & active for key, reviewers in named.items()}

    async def active_agents(self, user_ids: Collection[str]) -> set[str]:
        if not user_ids:
            return set()
        stmt = select(agents.c.user_id).where(agents.c.user_id.in_(sorted(user_ids)), agents.c.active.is_(True))
        return set((await self._conn.execute(stmt)).scalars())
