"""Webhook endpoints, deliveries and attempts; fan-out of the outbox, and claiming due deliveries under a lease
(`FOR UPDATE SKIP LOCKED`, so any number of workers share the work and none sends a try another holds)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import Row, and_, bindparam, exists, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.ids import new_id
from app.domain.pagination import Page, PageRequest
from app.domain.webhooks import (
    Attempt,
    Delivery,
    DeliveryStatus,
    Message,
    Outcome,
    RetrySchedule,
    WebhookEndpoint,
    event_body,
)
from app.persistence.keyset import fetch_merged_page, fetch_page
from app.persistence.lookups import Lookup
from app.persistence.tables import outbox, webhook_attempts, webhook_deliveries, webhook_endpoints
from app.persistence.upserts import insert_or_ignore

_ENDPOINT_FIELDS = (
    "url",
    "description",
    "enabled",
    "secret",
    "previous_secret",
    "previous_secret_until",
    "disabled_reason",
    "created_by",
    "version",
    "updated_at",
)


def _endpoint_values(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {**{f: getattr(endpoint, f) for f in _ENDPOINT_FIELDS}, "event_types": list(endpoint.event_types)}


def _endpoint(row: Row[Any]) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=row.id,
        **{f: getattr(row, f) for f in _ENDPOINT_FIELDS},
        event_types=tuple(row.event_types),
        created_at=row.created_at,
    )


def _delivery(row: Row[Any], history: list[Attempt]) -> Delivery:
    return Delivery(
        id=row.id,
        endpoint_id=row.endpoint_id,
        event_id=row.event_id,
        event_type=row.event_type,
        sequence=row.sequence,
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        created_at=row.created_at,
        updated_at=row.updated_at,
        next_attempt_at=row.next_attempt_at,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
        history=tuple(history),
    )


def _attempt(row: Row[Any]) -> Attempt:
    return Attempt(row.id, row.delivery_id, row.attempt, row.started_at, row.duration_ms, row.status_code, row.error)


def _matching(patterns: tuple[str, ...]) -> Any:
    """SQL for "the outbox event's type matches one of these patterns"."""
    if "*" in patterns:
        return True
    conditions = [outbox.c.type.like(p[:-1] + "%") if p.endswith(".*") else outbox.c.type == p for p in patterns]
    return or_(*conditions)


_ENDPOINT = Lookup(webhook_endpoints, webhook_endpoints.c.id)
_DELIVERY = Lookup(webhook_deliveries, webhook_deliveries.c.id)


class SqlWebhookRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add_endpoint(self, endpoint: WebhookEndpoint) -> None:
        await self._conn.execute(
            insert(webhook_endpoints).values(
                id=endpoint.id, created_at=endpoint.created_at, **_endpoint_values(endpoint)
            )
        )

    async def get_endpoint(self, endpoint_id: UUID, *, for_update: bool = False) -> WebhookEndpoint | None:
        row = await _ENDPOINT.row(self._conn, endpoint_id, for_update=for_update)
        return _endpoint(row) if row else None

    async def update_endpoint(self, endpoint: WebhookEndpoint) -> None:
        await self._conn.execute(
            update(webhook_endpoints).where(webhook_endpoints.c.id == endpoint.id).values(**_endpoint_values(endpoint))
        )

    async def endpoints(self, owner: str | None, page: PageRequest) -> Page[WebhookEndpoint]:
        stmt = select(webhook_endpoints)
        if owner is not None:
            stmt = stmt.where(webhook_endpoints.c.created_by == owner)
        rows, next_key = await fetch_page(self._conn, stmt, webhook_endpoints.c.id, page)
        return Page([_endpoint(row) for row in rows], next_key)

    async def enabled_endpoints(self) -> list[WebhookEndpoint]:
        stmt = select(webhook_endpoints).where(webhook_endpoints.c.enabled.is_(True))
        return [_endpoint(row) for row in await self._conn.execute(stmt)]

    async def fan_out(self, endpoints: list[WebhookEndpoint], now: datetime, limit: int) -> int:
        """One delivery per new outbox event and endpoint that wants it; the events are then marked fanned out.
        Returns how many events were taken."""
        stmt = (
            select(outbox.c.id, outbox.c.type, outbox.c.sequence)
            .where(outbox.c.fanned_out.is_(False))
            .order_by(outbox.c.sequence)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        events = (await self._conn.execute(stmt)).all()
        if not events:
            return 0
        rows = [
            {
                "id": new_id(),
                "endpoint_id": endpoint.id,
                "event_id": event.id,
                "event_type": event.type,
                "sequence": event.sequence,
                "status": DeliveryStatus.PENDING.value,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for event in events
            for endpoint in endpoints
            if endpoint.wants(event.type)
        ]
        if rows:
            await self._conn.execute(insert_or_ignore(self._conn, webhook_deliveries, "endpoint_id", "event_id"), rows)
        await self._conn.execute(update(outbox).where(outbox.c.id.in_([e.id for e in events])).values(fanned_out=True))
        return len(events)

    async def claim(self, now: datetime, lease_until: datetime, limit: int) -> list[Message]:
        """Due deliveries of enabled endpoints, oldest due first, each taken for one more try: its next try is
        pushed to the end of the lease, so a worker that dies holding it only delays it."""
        d, e = webhook_deliveries.c, webhook_endpoints.c
        due = (
            select(d.id)
            .join(webhook_endpoints, and_(e.id == d.endpoint_id, e.enabled.is_(True)))
            .where(d.status == DeliveryStatus.PENDING.value, d.next_attempt_at <= now)
            .order_by(d.next_attempt_at)
            .limit(limit)
            .with_for_update(of=webhook_deliveries, skip_locked=True)
        )
        ids = list((await self._conn.execute(due)).scalars())
        if not ids:
            return []
        taken = (
            await self._conn.execute(
                update(webhook_deliveries)
                .where(d.id.in_(ids))
                .values(attempts=d.attempts + 1, next_attempt_at=lease_until, updated_at=now)
                .returning(d.id, d.endpoint_id, d.event_id, d.attempts)
            )
        ).all()
        events = {
            row.id: row
            for row in await self._conn.execute(
                select(outbox.c.id, outbox.c.type, outbox.c.occurred_at, outbox.c.sequence, outbox.c.payload).where(
                    outbox.c.id.in_({t.event_id for t in taken})
                )
            )
        }
        endpoints = {
            row.id: _endpoint(row)
            for row in await self._conn.execute(
                select(webhook_endpoints).where(webhook_endpoints.c.id.in_({t.endpoint_id for t in taken}))
            )
        }
        bodies: dict[UUID, str] = {}
        messages = []
        for t in taken:
            event, endpoint = events[t.event_id], endpoints[t.endpoint_id]
            if t.event_id not in bodies:
                body = event_body(event.type, event.occurred_at, event.sequence, event.payload)
                bodies[t.event_id] = orjson.dumps(body).decode()
            messages.append(
                Message(
                    delivery_id=t.id,
                    endpoint_id=t.endpoint_id,
                    attempt=t.attempts,
                    url=endpoint.url,
                    secrets=tuple(endpoint.signing_secrets(now)),
                    webhook_id=str(t.event_id),
                    occurred_at=event.occurred_at,
                    body=bodies[t.event_id],
                )
            )
        return messages

    async def record(self, outcomes: list[Outcome], schedule: RetrySchedule, now: datetime) -> None:
        """Every try's attempt row; then each delivery's new state, written only by the worker whose try it is
        (`attempts` still equal to its try), so a try that outlived its lease cannot overwrite a newer one."""
        if not outcomes:
            return
        await self._conn.execute(
            insert(webhook_attempts),
            [
                {
                    "id": new_id(),
                    "delivery_id": o.delivery_id,
                    "attempt": o.attempt,
                    "started_at": o.started_at,
                    "duration_ms": o.duration_ms,
                    "status_code": o.status_code,
                    "error": o.error,
                }
                for o in outcomes
            ],
        )
        updates = []
        for o in outcomes:
            if o.succeeded:
                status, next_at, delivered = DeliveryStatus.SUCCEEDED, None, now
            else:
                next_at = None if o.gone else schedule.after_failure(o.attempt, now)
                status, delivered = (DeliveryStatus.PENDING if next_at else DeliveryStatus.DEAD), None
            updates.append(
                {
                    "b_id": o.delivery_id,
                    "b_attempt": o.attempt,
                    "status": status.value,
                    "next_attempt_at": next_at,
                    "last_status_code": o.status_code,
                    "last_error": o.error,
                    "delivered_at": delivered,
                    "updated_at": now,
                }
            )
        d = webhook_deliveries.c
        stmt = (
            update(webhook_deliveries)
            .where(d.id == bindparam("b_id"), d.attempts == bindparam("b_attempt"))
            .values(
                status=bindparam("status"),
                next_attempt_at=bindparam("next_attempt_at"),
                last_status_code=bindparam("last_status_code"),
                last_error=bindparam("last_error"),
                delivered_at=bindparam("delivered_at"),
                updated_at=bindparam("updated_at"),
            )
        )
        await self._conn.execute(stmt, updates)
        gone = {o.endpoint_id for o in outcomes if o.gone}
        if gone:
            e = webhook_endpoints.c
            await self._conn.execute(
                update(webhook_endpoints)
                .where(e.id.in_(gone))
                .values(
                    enabled=False,
                    disabled_reason="the endpoint answered 410 Gone",
                    version=e.version + 1,
                    updated_at=now,
                )
            )

    async def get_delivery(self, delivery_id: UUID, *, for_update: bool = False) -> Delivery | None:
        row = await _DELIVERY.row(self._conn, delivery_id, for_update=for_update)
        return _delivery(row, (await self._history([row.id]))[row.id]) if row else None

    async def deliveries(self, endpoint_id: UUID, status: DeliveryStatus | None, page: PageRequest) -> Page[Delivery]:
        """Newest first, from the (endpoint, status, id) index: once per state, merged, when no status is named."""
        d = webhook_deliveries.c
        statuses = (status,) if status is not None else tuple(DeliveryStatus)
        parts = [[d.endpoint_id == endpoint_id, d.status == s.value] for s in statuses]
        rows, next_key = await fetch_merged_page(self._conn, webhook_deliveries, parts, d.id, page)
        history = await self._history([row.id for row in rows])
        return Page([_delivery(row, history[row.id]) for row in rows], next_key)

    async def requeue(self, delivery_id: UUID, now: datetime) -> None:
        await self._conn.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.id == delivery_id)
            .values(status=DeliveryStatus.PENDING.value, next_attempt_at=now, updated_at=now)
        )

    async def replay(self, endpoint: WebhookEndpoint, start: datetime, end: datetime, now: datetime) -> int:
        """Every event of [start, end) the endpoint wants, sent again: existing deliveries are queued anew, and
        events from before the endpoint existed get a delivery. Returns how many deliveries were queued."""
        d, o = webhook_deliveries.c, outbox.c
        in_range = and_(o.occurred_at >= start, o.occurred_at < end, _matching(endpoint.event_types))
        requeued = await self._conn.execute(
            update(webhook_deliveries)
            .where(d.endpoint_id == endpoint.id, d.event_id.in_(select(o.id).where(in_range)))
            .values(status=DeliveryStatus.PENDING.value, next_attempt_at=now, updated_at=now)
        )
        missing = (
            await self._conn.execute(
                select(o.id, o.type, o.sequence).where(
                    in_range,
                    ~exists().where(d.endpoint_id == endpoint.id, d.event_id == o.id),
                )
            )
        ).all()
        if missing:
            await self._conn.execute(
                insert(webhook_deliveries),
                [
                    {
                        "id": new_id(),
                        "endpoint_id": endpoint.id,
                        "event_id": m.id,
                        "event_type": m.type,
                        "sequence": m.sequence,
                        "status": DeliveryStatus.PENDING.value,
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for m in missing
                ],
            )
        return requeued.rowcount + len(missing)

    async def _history(self, ids: list[UUID]) -> dict[UUID, list[Attempt]]:
        found: dict[UUID, list[Attempt]] = defaultdict(list)
        if ids:
            stmt = (
                select(webhook_attempts)
                .where(webhook_attempts.c.delivery_id.in_(ids))
                .order_by(webhook_attempts.c.delivery_id, webhook_attempts.c.id)
            )
            for row in await self._conn.execute(stmt):
                found[row.delivery_id].append(_attempt(row))
        return found
