"""Dispatch rows: the ordered rules (one JSON document each), the decisions made, the backlog of waiting tickets, and
the reads a decision makes (the candidates of its groups with their open work, under the locks that keep capacity)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Row, Select, and_, bindparam, delete, func, insert, or_, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.dispatch import (
    AsRead,
    Candidate,
    Condition,
    Considered,
    Decision,
    DecisionRecord,
    DispatchRule,
    DispatchRuleRecord,
    Member,
    Strategy,
    Trigger,
)
from app.domain.pagination import Page, PageRequest
from app.domain.people import Availability
from app.domain.principal import ASSIGNEE_ROLES
from app.persistence.keyset import fetch_page
from app.persistence.lookups import Lookup
from app.persistence.tables import (
    agent_group_members,
    agents,
    dispatch_backlog,
    dispatch_decisions,
    dispatch_rules,
    groups,
    tickets,
)
from app.persistence.upserts import insert_or_ignore


def _document(rule: DispatchRule) -> dict[str, Any]:
    return {
        "group_key": rule.group_key,
        "strategy": rule.strategy.value,
        "conditions": [{"field": c.field, "values": sorted(c.values)} for c in rule.conditions],
        "required_skills": sorted(rule.required_skills),
        "optional_skills": sorted(rule.optional_skills),
        "min_optional": rule.min_optional,
        "relax_after_minutes": None if rule.relax_after is None else int(rule.relax_after.total_seconds() // 60),
        "overflow_group": rule.overflow_group,
    }


def _rule(row: Row[Any]) -> DispatchRule:
    document = row.document
    minutes = document["relax_after_minutes"]
    return DispatchRule(
        key=row.key,
        position=row.position,
        name=row.name,
        group_key=document["group_key"],
        strategy=Strategy(document["strategy"]),
        conditions=tuple(Condition(c["field"], frozenset(c["values"])) for c in document["conditions"]),
        required_skills=frozenset(document["required_skills"]),
        optional_skills=frozenset(document["optional_skills"]),
        min_optional=document["min_optional"],
        relax_after=None if minutes is None else timedelta(minutes=minutes),
        overflow_group=document["overflow_group"],
    )


def _record(row: Row[Any]) -> DispatchRuleRecord:
    return DispatchRuleRecord(row.id, _rule(row), row.version, row.created_at, row.updated_at)


def _values(record: DispatchRuleRecord) -> dict[str, Any]:
    rule = record.data
    return {
        "position": rule.position,
        "name": rule.name,
        "document": _document(rule),
        "version": record.version,
        "updated_at": record.updated_at,
    }


_RULE = Lookup(dispatch_rules, dispatch_rules.c.key)
_ORDERED = select(dispatch_rules).order_by(dispatch_rules.c.position, dispatch_rules.c.key)


class SqlDispatchRuleRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, key: str, *, for_update: bool = False) -> DispatchRuleRecord | None:
        row = await _RULE.row(self._conn, key, for_update=for_update)
        return _record(row) if row else None

    async def add(self, record: DispatchRuleRecord) -> None:
        await self._conn.execute(
            insert(dispatch_rules).values(
                id=record.id, key=record.data.key, created_at=record.created_at, **_values(record)
            )
        )

    async def update(self, record: DispatchRuleRecord) -> None:
        await self._conn.execute(
            update(dispatch_rules).where(dispatch_rules.c.id == record.id).values(**_values(record))
        )

    async def delete(self, key: str) -> None:
        await self._conn.execute(delete(dispatch_rules).where(dispatch_rules.c.key == key))

    async def ordered(self) -> list[DispatchRule]:
        return [_rule(row) for row in await self._conn.execute(_ORDERED)]

    async def list(self, page: PageRequest) -> Page[DispatchRuleRecord]:
        rows, next_key = await fetch_page(
            self._conn, select(dispatch_rules), [dispatch_rules.c.position, dispatch_rules.c.id], page, descending=False
        )
        return Page([_record(row) for row in rows], next_key)

    async def held_skills(self, skills: set[str]) -> set[str]:
        """Skills are tags on agents (a JSON list): the directory is people, small enough to read whole."""
        if not skills:
            return set()
        rows = await self._conn.execute(select(agents.c.skills))
        return skills & {skill for (held,) in rows for skill in held}


_MEMBERS = or_(
    agent_group_members.c.group_key == bindparam("group"), agent_group_members.c.group_key == bindparam("overflow")
)
"""A decision reads its rule's group and its overflow group (the same twice when it has none): two equalities, not an
IN list, which SQLAlchemy would render again at every execution."""
_WAITING = (
    select(func.count())
    .select_from(dispatch_backlog)
    .join(tickets, tickets.c.id == dispatch_backlog.c.ticket_id)
    .where(
        dispatch_backlog.c.group_key == bindparam("waiting_for"),
        dispatch_backlog.c.waiting_since < bindparam("before"),
        tickets.c.status == "new",
        tickets.c.assignee.is_(None),
    )
    .scalar_subquery()
)
_ROSTER = (
    select(
        _WAITING.label("waiting"),
        agent_group_members.c.group_key,
        groups.c.calendar.label("group_calendar"),
        agents.c.user_id,
        agents.c.roles,
        agents.c.active,
        agents.c.availability,
        agents.c.calendar,
        agents.c.max_open_tickets,
        agents.c.skills,
        agents.c.last_assigned_at,
        agents.c.assignments,
        agents.c.open_items,
        agents.c.open_load,
    )
    .join(agents, agents.c.user_id == agent_group_members.c.user_id)
    .join(groups, groups.c.key == agent_group_members.c.group_key)
    .where(_MEMBERS)
)
"""The members of the decision's groups with the work they hold (counted on their rows), and the backlog the decision
must not jump: one statement, through the membership and backlog indexes."""
_GIVE_FIRST = text(
    """WITH ranked AS (
        SELECT * FROM unnest(CAST(:users AS varchar[]), CAST(:seen AS bigint[]), CAST(:limited AS boolean[]))
            WITH ORDINALITY AS r(user_id, seen, limited, rank)
    ), picked AS (
        SELECT agents.user_id FROM agents JOIN ranked ON ranked.user_id = agents.user_id
        WHERE (agents.assignments = ranked.seen OR NOT ranked.limited)
            AND (agents.max_open_tickets IS NULL OR agents.open_items < agents.max_open_tickets)
        ORDER BY CASE WHEN :by_recency THEN false ELSE agents.assignments <> ranked.seen END,
            CASE WHEN NOT :by_recency AND agents.assignments = ranked.seen THEN ranked.rank END,
            agents.last_assigned_at NULLS FIRST, ranked.rank
        LIMIT 1
        FOR UPDATE OF agents SKIP LOCKED
    )
    UPDATE agents SET last_assigned_at = :now, assignments = agents.assignments + 1
    FROM picked WHERE agents.user_id = picked.user_id
    RETURNING agents.user_id"""
)
"""Of the ranked agents no concurrent assignment holds and below their limit on the row as locked, those whose count
is as read (a row changed since the read is re-checked on its newest version) or who have no limit: the first in rank
whose read is current, else the one given work least recently (the read's rank is stale for them all); `by_recency`
(round robin), the one given work least recently as the lock finds them. Locked and stamped in one statement."""
_WAIT_FOR = (
    select(agents.c.user_id).where(agents.c.user_id == bindparam("user_id")).with_for_update(read=True, key_share=True)
)
"""A shared lock, which waits for an assignment's FOR UPDATE but not for the other waiters: they all go at once."""
BACKLOG_LOCK_WAIT = "200ms"
"""How long a backlog serve waits for a waiting ticket another transaction holds (being served, say)."""
LOCK_NOT_AVAILABLE = "55P03"
_BOUNDED_WAIT = text(f"SET LOCAL lock_timeout = '{BACKLOG_LOCK_WAIT}'")
_UNBOUNDED_WAIT = text("SET LOCAL lock_timeout TO DEFAULT")  # the server's own setting again
BACKLOG_READS = 3
"""How often a backlog serve reads the head again when the tickets it waited for were all taken meanwhile."""
_STILL_WAITING = and_(tickets.c.status == "new", tickets.c.assignee.is_(None))
_LOCK_AGENT = (
    select(agents.c.max_open_tickets, agents.c.open_items)
    .where(agents.c.user_id == bindparam("user_id"))
    .with_for_update()
)
_ADD_DECISION = insert(dispatch_decisions)
_STAMP = (
    update(agents)
    .where(agents.c.user_id == bindparam("key_user_id"))
    .values(last_assigned_at=bindparam("now"), assignments=agents.c.assignments + 1)
    .execution_options(synchronize_session=False)
)
_PREVIOUS_AGENT = (
    select(tickets.c.assignee)
    .where(
        tickets.c.customer_no == bindparam("customer_no"),
        tickets.c.assignee.is_not(None),
        tickets.c.id != bindparam("ticket_id"),
    )
    .order_by(tickets.c.created_at.desc())
    .limit(1)
)


class SqlDispatchRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def roster(
        self, group_keys: Iterable[str], waiting_for: str | None, before: datetime
    ) -> tuple[list[Member], int]:
        """The decision's candidates, one per group membership, and the backlog's count beside (see _ROSTER)."""
        keys = sorted(set(group_keys))
        if not 1 <= len(keys) <= 2:
            raise ValueError("a decision reads its rule's group and at most its overflow group")
        params = {"group": keys[0], "overflow": keys[-1], "waiting_for": waiting_for, "before": before}
        rows = (await self._conn.execute(_ROSTER, params)).all()
        return [_member(row) for row in rows], int(rows[0].waiting) if rows else 0

    async def give_first(self, ranked: Sequence[AsRead], now: datetime, *, by_recency: bool) -> str | None:
        """PostgreSQL: one statement (_GIVE_FIRST). SQLite's writers take turns: the counts are compared as read."""
        if not ranked:
            return None
        if self._conn.dialect.name == "postgresql":
            params = {
                "users": [r.user_id for r in ranked],
                "seen": [r.assignments for r in ranked],
                "limited": [r.limited for r in ranked],
                "by_recency": by_recency,
                "now": now,
            }
            return (await self._conn.execute(_GIVE_FIRST, params)).scalar_one_or_none()
        rows = await self._conn.execute(
            select(agents.c.user_id, agents.c.assignments, agents.c.last_assigned_at).where(
                agents.c.user_id.in_([r.user_id for r in ranked])
            )
        )
        found = {row.user_id: row for row in rows}
        current = [r for r in ranked if r.user_id in found and found[r.user_id].assignments == r.assignments]
        may_take = [r for r in ranked if r.user_id in found and (r in current or not r.limited)]
        by_recent = sorted(may_take, key=lambda r: _recency(found[r.user_id].last_assigned_at))
        picked = next(iter(by_recent if by_recency or not current else current), None)
        if picked is not None:
            await self.stamp(picked.user_id, now)
        return picked.user_id if picked else None

    async def wait_for(self, user_id: str) -> None:
        """PostgreSQL: the agent's row locked in a savepoint that is then rolled back, which lets the lock go. SQLite
        has no concurrent writer to wait for."""
        if self._conn.dialect.name != "postgresql":
            return
        savepoint = await self._conn.begin_nested()
        try:
            await self._conn.execute(_WAIT_FOR, {"user_id": user_id})
        finally:
            await savepoint.rollback()

    async def lock_agent(self, user_id: str) -> tuple[int | None, int] | None:
        """Lock an agent a caller names (waiting for a concurrent assignment to them): their open-ticket limit and
        how many tickets they hold, as counted on the locked row; None when there is no such agent."""
        found = (await self._conn.execute(_LOCK_AGENT, {"user_id": user_id})).first()
        return None if found is None else (found.max_open_tickets, found.open_items)

    async def stamp(self, user_id: str, now: datetime) -> None:
        """The agent was given work now (round robin reads it)."""
        await self._conn.execute(_STAMP, {"key_user_id": user_id, "now": now})

    async def previous_agent(self, customer_no: str, ticket_id: UUID) -> str | None:
        """Who handled the customer's latest other ticket (`sticky`)."""
        params = {"customer_no": customer_no, "ticket_id": ticket_id}
        return (await self._conn.execute(_PREVIOUS_AGENT, params)).scalar_one_or_none()

    async def add_decision(self, record: DecisionRecord) -> None:
        await self._conn.execute(_ADD_DECISION, _decision_values(record))

    async def decisions(self, subject_id: UUID, page: PageRequest) -> Page[DecisionRecord]:
        stmt = select(dispatch_decisions).where(dispatch_decisions.c.subject_id == subject_id)
        rows, next_key = await fetch_page(
            self._conn, stmt, [dispatch_decisions.c.decided_at, dispatch_decisions.c.id], page
        )
        return Page([_decision(row) for row in rows], next_key)

    async def wait(self, ticket_id: UUID, group_key: str, priority_rank: int, since: datetime) -> None:
        """Into the backlog (again: a ticket keeps its first place)."""
        values = {"ticket_id": ticket_id, "group_key": group_key, "priority_rank": priority_rank}
        stmt = insert_or_ignore(self._conn, dispatch_backlog, "ticket_id")
        await self._conn.execute(stmt, {**values, "waiting_since": since})

    async def leave_backlog(self, ticket_ids: Sequence[UUID]) -> None:
        if ticket_ids:
            await self._conn.execute(delete(dispatch_backlog).where(dispatch_backlog.c.ticket_id.in_(ticket_ids)))

    async def backlog(self, group_keys: Iterable[str] | None, limit: int) -> list[UUID]:
        """The waiting tickets (of `group_keys`, None: every group), most urgent then oldest first, each still in
        the pool, locked in that order. A ticket another transaction holds (being served, say) is waited for, a
        moment at most, not skipped: serving the ones behind it would pass it by; when it was taken meanwhile, the
        next ones are read again; held longer, nothing is served now. Rows of tickets assigned since are dropped."""
        order = (dispatch_backlog.c.priority_rank, dispatch_backlog.c.waiting_since, dispatch_backlog.c.ticket_id)
        waiting = (
            select(tickets.c.id)
            .join(dispatch_backlog, dispatch_backlog.c.ticket_id == tickets.c.id)
            .where(_STILL_WAITING)
            .order_by(*order)
        )
        if group_keys is not None:
            waiting = waiting.where(dispatch_backlog.c.group_key.in_(sorted(set(group_keys))))
        found: list[UUID] = []
        for _read in range(BACKLOG_READS):
            head = list((await self._conn.execute(waiting.limit(limit))).scalars())
            if not head:
                break
            found = await self._lock_waiting(waiting.where(tickets.c.id.in_(head)).with_for_update(of=tickets))
            if found:
                break
        stale = select(dispatch_backlog.c.ticket_id).join(tickets).where(~_STILL_WAITING)
        await self._conn.execute(delete(dispatch_backlog).where(dispatch_backlog.c.ticket_id.in_(stale)))
        return found

    async def _lock_waiting(self, locked: Select[Any]) -> list[UUID]:
        """PostgreSQL: the wait is bounded (BACKLOG_LOCK_WAIT, in a savepoint), so that it can never join a cycle of
        waits; a ticket held longer is left to the next serve (nothing is passed by). SQLite has one writer."""
        if self._conn.dialect.name != "postgresql":
            return list((await self._conn.execute(locked)).scalars())
        savepoint = await self._conn.begin_nested()
        try:
            await self._conn.execute(_BOUNDED_WAIT)
            found = list((await self._conn.execute(locked)).scalars())
        except DBAPIError as exc:
            await savepoint.rollback()  # undoes the bounded wait too
            if getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            return []
        await self._conn.execute(_UNBOUNDED_WAIT)
        await savepoint.commit()
        return found

    async def held_by(self, user_id: str, statuses: Sequence[str], limit: int) -> tuple[list[UUID], int]:
        mine = and_(tickets.c.assignee == user_id, tickets.c.status.in_(list(statuses)))
        stmt = (
            select(tickets.c.id)
            .where(mine)
            .order_by(tickets.c.created_at, tickets.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        found = list((await self._conn.execute(stmt)).scalars())
        total = (await self._conn.execute(select(func.count()).select_from(tickets).where(mine))).scalar_one()
        return found, int(total)


_TAKERS = frozenset(role.value for role in ASSIGNEE_ROLES)


def _recency(at: datetime | None) -> tuple[bool, datetime | None]:
    """Given work least recently first, never first of all."""
    return (at is not None, at)


def _member(row: Row[Any]) -> Member:
    candidate = Candidate(
        user_id=row.user_id,
        active=row.active,
        availability=Availability(row.availability),
        on_shift=True,
        capacity=row.max_open_tickets,
        open_items=row.open_items,
        load=row.open_load,
        skills=frozenset(row.skills),
        last_assigned_at=row.last_assigned_at,
        takes_tickets=bool(_TAKERS & set(row.roles)),
        assignments=int(row.assignments),
    )
    return Member(row.group_key, row.user_id, candidate, row.calendar or row.group_calendar)


def _decision_values(record: DecisionRecord) -> dict[str, Any]:
    decision = record.decision
    return {
        "id": record.id,
        "subject_type": "ticket",
        "subject_id": record.subject_id,
        "trigger": record.trigger.value,
        "rule_key": decision.rule_key,
        "strategy": decision.strategy.value,
        "group_key": decision.group_key,
        "winner": decision.winner,
        "considered": [
            {"user_id": c.user_id, "excluded": c.excluded, "score": None if c.score is None else list(c.score)}
            for c in decision.considered
        ],
        "steps": list(decision.steps),
        "pool_reason": decision.pool_reason,
        "dry_run": record.dry_run,
        "decided_at": record.decided_at,
    }


def _decision(row: Row[Any]) -> DecisionRecord:
    considered = tuple(
        Considered(c["user_id"], c["excluded"], None if c["score"] is None else tuple(c["score"]))
        for c in row.considered
    )
    decision = Decision(
        row.rule_key,
        Strategy(row.strategy),
        row.group_key,
        row.winner,
        considered,
        tuple(row.steps),
        row.pool_reason,
    )
    return DecisionRecord(row.id, row.subject_id, Trigger(row.trigger), decision, row.decided_at, row.dry_run)
