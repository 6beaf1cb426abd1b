"""SLA policy rows ↔ SlaPolicyRecord entities: the columns the key lookup and the ordered read use, and the rules
(conditions, targets, pauses, warning, escalation) as one JSON document, read and written whole."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, bindparam, delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.sla_policies import Escalation, SlaPolicy, Subject, Target, WarningRule
from app.domain.unit_of_work import SlaPolicyRecord
from app.persistence.lookups import Lookup
from app.persistence.tables import business_calendars, sla_policies


def _document(policy: SlaPolicy) -> dict[str, Any]:
    warning = policy.warning
    return {
        "conditions": {name: sorted(values, key=str) for name, values in policy.conditions.items()},
        "targets": {
            metric: {
                priority: {"seconds": target.seconds, "business": target.business, "calendar": target.calendar}
                for priority, target in by_priority.items()
            }
            for metric, by_priority in policy.targets.items()
        },
        "pauses": {metric: sorted(states) for metric, states in policy.pauses.items()},
        "warning": None if warning is None else warning.as_document(),
        "escalation": policy.escalation.as_document(),
    }


def _policy(row: Row[Any]) -> SlaPolicy:
    document = row.document
    warning, escalation = document["warning"], document["escalation"]
    return SlaPolicy(
        key=row.key,
        name=row.name,
        position=row.position,
        subject=Subject(row.subject),
        conditions=document["conditions"],
        targets={
            metric: {priority: Target(**target) for priority, target in by_priority.items()}
            for metric, by_priority in document["targets"].items()
        },
        pauses=document["pauses"],
        warning=None if warning is None else WarningRule(**warning),
        escalation=Escalation(
            on_warning=frozenset(escalation["on_warning"]),
            on_breach=frozenset(escalation["on_breach"]),
            raise_level=escalation["raise_level"],
            raise_priority=escalation["raise_priority"],
            reassign_to=escalation["reassign_to"],
        ),
    )


def _record(row: Row[Any]) -> SlaPolicyRecord:
    return SlaPolicyRecord(
        id=row.id, data=_policy(row), version=row.version, created_at=row.created_at, updated_at=row.updated_at
    )


def _values(record: SlaPolicyRecord) -> dict[str, Any]:
    policy = record.data
    return {
        "subject": policy.subject.value,
        "position": policy.position,
        "name": policy.name,
        "document": _document(policy),
        "version": record.version,
        "updated_at": record.updated_at,
    }


_LOCK = text("SELECT pg_advisory_xact_lock(:lock_id)")
_LOCK_ID = zlib.crc32(b"aftersales.sla_policies")
"""The advisory lock's number: fixed, so that every process of the service takes the same one."""
_BY_KEY = Lookup(sla_policies, sla_policies.c.key)
_OF_SUBJECT = (
    select(sla_policies)
    .where(sla_policies.c.subject == bindparam("subject"))
    .order_by(sla_policies.c.position, sla_policies.c.id)
)
_INSERT = insert(sla_policies)
_UPDATE = update(sla_policies).where(sla_policies.c.id == bindparam("policy_id"))
_DELETE = delete(sla_policies).where(sla_policies.c.id == bindparam("policy_id"))
_CALENDARS = select(business_calendars.c.key).where(business_calendars.c.key.in_(bindparam("keys", expanding=True)))


class SqlSlaPolicyRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def lock(self) -> None:
        """On PostgreSQL an advisory transaction lock (a row lock could not hold off the first insert into a subject);
        SQLite serialises writers already."""
        if self._conn.dialect.name == "postgresql":
            await self._conn.execute(_LOCK, {"lock_id": _LOCK_ID})

    async def get(self, key: str) -> SlaPolicyRecord | None:
        row = await _BY_KEY.row(self._conn, key)
        return _record(row) if row else None

    async def records(self, subject: Subject) -> list[SlaPolicyRecord]:
        return [_record(row) for row in await self._conn.execute(_OF_SUBJECT, {"subject": subject.value})]

    async def policies(self, subject: Subject) -> list[SlaPolicy]:
        return [_policy(row) for row in await self._conn.execute(_OF_SUBJECT, {"subject": subject.value})]

    async def add(self, record: SlaPolicyRecord) -> None:
        await self._conn.execute(
            _INSERT, {"id": record.id, "key": record.key, "created_at": record.created_at, **_values(record)}
        )

    async def update(self, record: SlaPolicyRecord) -> None:
        await self._conn.execute(_UPDATE, {"policy_id": record.id, **_values(record)})

    async def move(self, records: Sequence[SlaPolicyRecord]) -> None:
        if records:
            await self._conn.execute(
                _UPDATE,
                [
                    {
                        "policy_id": r.id,
                        "position": r.data.position,
                        "version": r.version,
                        "updated_at": r.updated_at,
                    }
                    for r in records
                ],
            )

    async def delete(self, record: SlaPolicyRecord) -> None:
        await self._conn.execute(_DELETE, {"policy_id": record.id})

    async def known_calendars(self, keys: set[str]) -> set[str]:
        if not keys:
            return set()
        return set((await self._conn.execute(_CALENDARS, {"keys": sorted(keys)})).scalars())
