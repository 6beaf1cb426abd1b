"""Ticket rows (with their tag index) ↔ Ticket entities; the list, pool and numbering queries.

A list filter that names several values of an indexed column (`status IN (…)`, the pool's `group_key IS NULL OR
group_key IN (…)`) is read as one keyset page per value, each an index seek in page order, merged: no index walks
several values in one order, so one query would sort every match or scan the table filtering."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict, replace
from functools import cache
from typing import Any
from uuid import UUID

from sqlalchemy import Row, Select, and_, bindparam, delete, exists, func, insert, or_, select, text, update
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.pagination import Page, PageRequest
from app.domain.risk_reasons import RiskReason
from app.domain.tasks import UNFINISHED_STATUSES
from app.domain.tickets import (
    TICKET_FIELDS,
    Attachment,
    Channel,
    Contact,
    GuardedTicket,
    PoolScope,
    PoolStats,
    Priority,
    Resolution,
    SparePart,
    Ticket,
    TicketFilter,
    TicketSort,
    TicketType,
    WarrantyStatus,
)
from app.persistence.keyset import fetch_merged_page, fetch_page, page_statement
from app.persistence.lookups import Lookup, equals_any
from app.persistence.numbering import next_number
from app.persistence.scope import in_business_lines
from app.persistence.sla_clocks import LOG_OF, log_from_json
from app.persistence.tables import sla_clock_events, tasks, ticket_tags, tickets
from app.workflows.ticket import TICKET

_IDENTITY = ("id", "number", "created_at")  # written once, on insert
_CONVERTED = (
    "channel",
    "type",
    "priority",
    "warranty_status",
    "tags",
    "contact",
    "attachments",
    "resolution",
    "risk_reasons",
)
_PLAIN = tuple(name for name in TICKET_FIELDS if name not in (*_IDENTITY, *_CONVERTED))
"""Every other field of the entity is stored as it is, in the column of its name."""


# Built once: a request then finds each statement in SQLAlchemy's compiled cache instead of building it anew.
_BY_ID = Lookup(tickets, tickets.c.id)
_BY_NUMBER = Lookup(tickets, tickets.c.number)


def _guard_columns(dialect: str) -> tuple[Any, Any]:
    """What a ticket's guards and its SLA need from other rows, as columns beside the ticket's: its unfinished
    tasks' numbers, oldest first and comma-joined (they hold no comma), and its clock log."""
    ordered = (
        select(tasks.c.number)
        .where(tasks.c.ticket_id == tickets.c.id, equals_any(tasks.c.status, UNFINISHED_STATUSES))
        .order_by(tasks.c.id)
        .correlate(tickets)
        .subquery()
    )
    numbers = select(func.aggregate_strings(ordered.c.number, ",")).scalar_subquery().label("unfinished_tasks")
    return numbers, LOG_OF[dialect](tickets.c.id)


_GUARD_COLUMNS = {dialect: _guard_columns(dialect) for dialect in LOG_OF}


def _guarded(key: Any, dialect: str) -> dict[bool, Select[Any]]:
    """A ticket with what its guards and its SLA need, in one statement (plain and locking the ticket).

    Every subquery of one statement reads the snapshot the statement began with, so on PostgreSQL a locking read
    that waited for another writer's lock does not see that writer's log events: `SqlTicketRepository.update`
    answers the log's length under the lock, which tells whether the log read here is still whole."""
    plain = select(tickets, *_GUARD_COLUMNS[dialect]).where(key == bindparam("ref"))
    return {False: plain, True: plain.with_for_update(of=tickets)}


def _guarded_entity(row: Row[Any], dialect: Dialect) -> GuardedTicket:
    unfinished = tuple(row.unfinished_tasks.split(",")) if row.unfinished_tasks else ()
    return GuardedTicket(_entity(row), unfinished, tuple(log_from_json(row.clock_log, dialect)))


_GUARDED = {
    (dialect, by_number): _guarded(tickets.c.number if by_number else tickets.c.id, dialect)
    for dialect in LOG_OF
    for by_number in (False, True)
}
_LOGGED = (
    select(func.count())
    .select_from(sla_clock_events)
    .where(sla_clock_events.c.subject_id == bindparam("ticket_id"))
    .scalar_subquery()
)
"""The ticket's clock-log length, for `SqlTicketRepository.update` to answer (by parameter: SQLite's UPDATE names
the ticket's columns unqualified, so a correlated `tickets.id` would read as the events' own id)."""
_ADD = insert(tickets)
_UPDATE = update(tickets).where(tickets.c.id == bindparam("ticket_id")).returning(_LOGGED)
_ADD_TAGS = insert(ticket_tags)
_ADD_TAG_ARRAY = text("INSERT INTO ticket_tags (ticket_id, tag) SELECT :ticket_id, unnest(CAST(:tags AS varchar[]))")
"""A ticket's tags in one execution however many there are (PostgreSQL), instead of the driver's executemany."""
_DELETE_TAGS = delete(ticket_tags).where(ticket_tags.c.ticket_id == bindparam("ticket_id"))


def _values(ticket: Ticket) -> dict[str, Any]:
    return {
        **{name: getattr(ticket, name) for name in _PLAIN},
        "channel": ticket.channel.value,
        "type": ticket.type.value,
        "priority": ticket.priority.value,
        "warranty_status": ticket.warranty_status.value,
        "tags": list(ticket.tags),
        "contact": asdict(ticket.contact),
        "attachments": [a.as_json() for a in ticket.attachments],
        "resolution": asdict(ticket.resolution) if ticket.resolution else None,
        "risk_reasons": [r.as_json() for r in ticket.risk_reasons] if ticket.risk_reasons else None,
    }


def _resolution(value: dict[str, Any] | None) -> Resolution | None:
    if value is None:
        return None
    parts = tuple(SparePart(**part) for part in value["spare_parts"])
    return Resolution(**{**value, "spare_parts": parts})


@cache
def _positions(fields: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    """Where each ticket column sits in a result's rows, once per shape of result: reading a row by position costs a
    seventh of reading it by attribute name, and a list page reads twenty rows of thirty columns."""
    return tuple((name, fields.index(name)) for name in TICKET_FIELDS)


def _entity(row: Row[Any]) -> Ticket:
    v = {name: row[at] for name, at in _positions(row._fields)}
    return Ticket(
        **{name: v[name] for name in (*_IDENTITY, *_PLAIN)},
        channel=Channel(v["channel"]),
        type=TicketType(v["type"]),
        priority=Priority(v["priority"]),
        warranty_status=WarrantyStatus(v["warranty_status"]),
        tags=tuple(v["tags"]),
        contact=Contact(**v["contact"]),
        attachments=tuple(Attachment.from_json(a) for a in v["attachments"]),
        resolution=_resolution(v["resolution"]),
        risk_reasons=tuple(map(RiskReason.from_json, v["risk_reasons"])) if v["risk_reasons"] else (),
    )


def pool_conditions(scope: PoolScope) -> list[Any]:
    conditions: list[Any] = [tickets.c.status == "new"]
    if scope.groups is not None:
        conditions.append(or_(tickets.c.group_key.is_(None), tickets.c.group_key.in_(scope.groups)))
    return [*conditions, *_business_line_scope(scope.business_lines)]


def _pool_parts(scope: PoolScope) -> list[list[Any]]:
    """The pool's conditions as disjoint parts: tickets of no group, then each of the caller's groups."""
    pool = [tickets.c.status == "new", *_business_line_scope(scope.business_lines)]
    if scope.groups is None:
        return [pool]
    groups = [tickets.c.group_key.is_(None), *(tickets.c.group_key == g for g in sorted(scope.groups))]
    return [[*pool, group] for group in groups]


class SqlTicketRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def next_sequence(self) -> int:
        return await next_number(self._conn, "ticket")

    async def get(self, ref: UUID | str, *, for_update: bool = False) -> Ticket | None:
        row = await (_BY_ID if isinstance(ref, UUID) else _BY_NUMBER).row(self._conn, ref, for_update=for_update)
        return _entity(row) if row else None

    async def get_guarded(self, ref: UUID | str, *, for_update: bool = False) -> GuardedTicket | None:
        dialect = self._conn.dialect
        statement = _GUARDED[dialect.name, not isinstance(ref, UUID)][for_update]
        row = (await self._conn.execute(statement, {"ref": ref})).first()
        return None if row is None else _guarded_entity(row, dialect)

    async def assignees(self, ids: Collection[UUID]) -> dict[UUID, str | None]:
        """Each ticket's assignee, for a page of its tasks in one query (a task's coordinator is its ticket's
        assignee)."""
        if not ids:
            return {}
        stmt = select(tickets.c.id, tickets.c.assignee).where(tickets.c.id.in_(list(ids)))
        return {row.id: row.assignee for row in await self._conn.execute(stmt)}

    async def add(self, ticket: Ticket) -> None:
        await self._conn.execute(
            _ADD, {"id": ticket.id, "number": ticket.number, "created_at": ticket.created_at, **_values(ticket)}
        )
        await self._write_tags(ticket)

    async def update(self, ticket: Ticket, before: Ticket) -> int:
        """`before` is the ticket as read: its tag index is rewritten only when the tags changed. Answers how many
        events the ticket's clock log holds, as this statement sees them."""
        logged = (await self._conn.execute(_UPDATE, {"ticket_id": ticket.id, **_values(ticket)})).scalar_one()
        if ticket.tags != before.tags:
            await self._conn.execute(_DELETE_TAGS, {"ticket_id": ticket.id})
            await self._write_tags(ticket)
        return int(logged)

    async def list(self, where: TicketFilter, sort: TicketSort, page: PageRequest) -> Page[GuardedTicket]:
        """One index read per part of the filter (see `seek_parts`), merged; combinations no index serves are
        refused before any SQL is sent. Each ticket comes with what its buttons and SLA need, in the same
        statement."""
        where.check_served(sort)
        dialect = self._conn.dialect
        also = _GUARD_COLUMNS[dialect.name]
        if where.tag is not None and where.customer_no is None:
            rows, next_key = await _tagged_page(self._conn, where, page, also)
        else:
            parts = [filter_conditions(part) for part in seek_parts(where)]
            key = list_key(where, sort)
            rows, next_key = await fetch_merged_page(self._conn, tickets, parts, key, page, also=also)
        return Page([_guarded_entity(row, dialect) for row in rows], next_key)

    async def pool(self, scope: PoolScope, page: PageRequest) -> Page[GuardedTicket]:
        """Oldest first: the ticket waiting longest is claimed first."""
        dialect = self._conn.dialect
        rows, next_key = await fetch_merged_page(
            self._conn,
            tickets,
            _pool_parts(scope),
            tickets.c.id,
            page,
            descending=False,
            also=_GUARD_COLUMNS[dialect.name],
        )
        return Page([_guarded_entity(row, dialect) for row in rows], next_key)

    async def pool_stats(self, scope: PoolScope) -> PoolStats:
        stmt = select(func.count(), func.min(tickets.c.created_at)).where(*pool_conditions(scope))
        total, oldest = (await self._conn.execute(stmt)).one()
        return PoolStats(total, oldest)

    async def _write_tags(self, ticket: Ticket) -> None:
        if len(ticket.tags) > 1 and self._conn.dialect.name == "postgresql":
            await self._conn.execute(_ADD_TAG_ARRAY, {"ticket_id": ticket.id, "tags": list(ticket.tags)})
        elif ticket.tags:
            await self._conn.execute(_ADD_TAGS, [{"ticket_id": ticket.id, "tag": t} for t in ticket.tags])


SORT_KEY: dict[TicketSort, Any] = {
    TicketSort.CREATED: tickets.c.id,  # ids are time-ordered (UUIDv7): newest created first
    TicketSort.UPDATED: [tickets.c.updated_at, tickets.c.id],
}
CREATED_RANGE_KEY = [tickets.c.created_at, tickets.c.id]
"""A created_from/created_to page walks the created_at index. Not the id's time: ids are minted after intake's
reads, from the system clock, and created_at from the service's clock, so the two may disagree."""
_BY_STATUS = ("priorities", "types", "channels")
"""Filters whose index begins with status: without a status, such a page is read once per state and merged."""


def list_key(where: TicketFilter, sort: TicketSort) -> Any:
    """The page order for these filters: the sort's own key, unless a created range leads the index read."""
    if where.customer_no is None and (where.created_from is not None or where.created_to is not None):
        return CREATED_RANGE_KEY
    return SORT_KEY[sort]


def seek_parts(where: TicketFilter) -> list[TicketFilter]:
    """The filter as disjoint parts that each seek one index in page order: one per status and value of the
    leading filter (`status IN (a, b)` cannot be read from one index in id order). One customer's tickets are read
    in one part, the other filters narrowing them."""
    if where.customer_no is not None:
        return [where]
    leading = next((name for name in _BY_STATUS if getattr(where, name)), None)
    statuses = tuple(dict.fromkeys(where.statuses))
    if where.high_risk:  # the flagged tickets' indexes begin with status too
        return [replace(where, statuses=(s,)) for s in statuses or tuple(state.name for state in TICKET.states)]
    if leading is not None:
        states = statuses or tuple(state.name for state in TICKET.states)
        values = tuple(dict.fromkeys(getattr(where, leading)))
        return [replace(where, statuses=(s,), **{leading: (v,)}) for s in states for v in values]
    if len(statuses) < 2:
        return [where]
    return [replace(where, statuses=(status,)) for status in statuses]


async def _tagged_page(
    conn: AsyncConnection, where: TicketFilter, page: PageRequest, also: Sequence[Any]
) -> tuple[Sequence[Row[Any]], tuple[Any, ...] | None]:
    """Tickets of one tag, newest first: a page of ticket ids from the tag index (an index-only read in ticket
    order), then their rows. Nothing but the business-line scope filters it (`TicketFilter.check_served`)."""
    tag = ticket_tags.c
    keys = select(tag.ticket_id).where(tag.tag == where.tag)
    if where.business_lines is not None:
        keys = keys.join(tickets, tickets.c.id == tag.ticket_id).where(*_business_line_scope(where.business_lines))
    ids = page_statement(keys, tag.ticket_id, page).subquery()
    stmt = select(tickets, *also, ids.c.ticket_id).join(ids, ids.c.ticket_id == tickets.c.id)
    return await fetch_page(conn, stmt, ids.c.ticket_id, page)


def filter_conditions(where: TicketFilter) -> list[Any]:
    c = tickets.c
    conditions: list[Any] = []
    for column, values in (
        (c.status, where.statuses),
        (c.priority, where.priorities),
        (c.type, where.types),
        (c.channel, where.channels),
    ):
        if values:
            conditions.append(column.in_([str(v) for v in values]))
    for column, value in (
        (c.assignee, where.assignee),
        (c.group_key, where.group_key),
        (c.customer_no, where.customer_no),
    ):
        if value is not None:
            conditions.append(column == value)
    for column, low, high in (
        (c.created_at, where.created_from, where.created_to),
        (c.updated_at, where.updated_from, where.updated_to),
    ):
        if low is not None:
            conditions.append(column >= low)
        if high is not None:
            conditions.append(column < high)
    conditions += _business_line_scope(where.business_lines)
    if where.tag is not None:
        conditions.append(exists().where(and_(ticket_tags.c.ticket_id == c.id, ticket_tags.c.tag == where.tag)))
    if where.high_risk is not None:  # as the partial indexes' predicate spells it, so that the planner matches them
        conditions.append(c.risk_flagged_at.isnot(None) if where.high_risk else c.risk_flagged_at.is_(None))
    if where.text:
        pattern = f"%{_escape_like(where.text)}%"
        conditions.append(or_(c.title.ilike(pattern, escape="\\"), c.description.ilike(pattern, escape="\\")))
    return conditions


def _business_line_scope(lines: frozenset[str] | None) -> list[Any]:
    """Staff scoped to business lines see those lines' tickets and tickets of no line. It filters the rows the index
    seek returns rather than seeking itself: a page costs, beyond its own rows, the other lines' rows it skips."""
    return in_business_lines(tickets.c.business_line, lines)


def _escape_like(text_: str) -> str:
    return text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
