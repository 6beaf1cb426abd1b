"""The complaint spike watch in SQL: the settings document and the job's cursor (service_settings), the hourly
ticket counts per series, the series' learned states and the spikes found, with staff's list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, fields, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Row,
    Select,
    and_,
    bindparam,
    delete,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.complaint_spike_watch import (
    ProductDimension,
    SeriesCount,
    Spike,
    SpikeCursor,
    SpikeFilter,
    SpikeSettings,
    TrackedSeries,
)
from app.domain.complaint_spikes import HOUR, SeriesKey, SeriesState, SpikeParams
from app.domain.pagination import Page, PageRequest
from app.persistence.keyset import fetch_page
from app.persistence.scope import in_business_lines
from app.persistence.settings_store import load_setting, save_setting
from app.persistence.tables import complaint_series, complaint_spikes, service_settings, tickets
from app.persistence.upserts import insert_or_ignore

SETTINGS_KEY = "complaint_spikes"
CURSOR_KEY = "complaint_spike_cursor"
PARAMS = tuple(f.name for f in fields(SpikeParams))
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_EMPTY = literal_column("''")
"""An unknown product or region is the empty string (SeriesKey), written as a literal: a parameter would make each
mention of the expression a different one to PostgreSQL's GROUP BY."""
_HOUR_SQL = {
    "postgresql": "floor(extract(epoch FROM tickets.created_at) / 3600)::bigint",
    "sqlite": "CAST(strftime('%s', tickets.created_at) AS INTEGER) / 3600",
}
"""Hours since the epoch of a ticket's creation: UTC hours whatever the session's time zone (date_trunc follows it)."""
_PRODUCT = {ProductDimension.SKU: tickets.c.sku, ProductDimension.BUSINESS_LINE: tickets.c.business_line}
_CREATED = (tickets.c.created_at >= bindparam("start"), tickets.c.created_at < bindparam("until"))
"""Tickets created in the hours asked for: one range read of ix_tickets_created_at_id."""


def _series_of(dimension: ProductDimension) -> tuple[ColumnElement[str], ColumnElement[str], ColumnElement[str]]:
    product = func.coalesce(_PRODUCT[dimension], _EMPTY).label("product")
    return product, func.coalesce(tickets.c.region, _EMPTY).label("region"), tickets.c.type.label("ticket_type")


def _counts(dialect: str, dimension: ProductDimension) -> Select[Any]:
    hour = literal_column(_HOUR_SQL[dialect], BigInteger).label("hour")
    series = _series_of(dimension)
    return (
        select(hour, *series, func.count().label("count"), func.max(tickets.c.business_line))
        .where(*_CREATED)
        .group_by(hour, *series)
    )


def _counted(dimension: ProductDimension) -> Select[Any]:
    """The stored series of the tickets `_counts` counts, joined by key: one statement however many there are."""
    series = _series_of(dimension)
    keys = select(*series).where(*_CREATED).group_by(*series).subquery()
    c = complaint_series.c
    on = and_(c.product == keys.c.product, c.region == keys.c.region, c.ticket_type == keys.c.ticket_type)
    return select(complaint_series).join(keys, on)


_COUNTS = {(dialect, dimension): _counts(dialect, dimension) for dialect in _HOUR_SQL for dimension in ProductDimension}
_COUNTED = {dimension: _counted(dimension) for dimension in ProductDimension}
_OPEN = select(complaint_series).where(complaint_series.c.spike_id.is_not(None))
_STATE = ("ewma", "hours_seen", "in_spike", "spike_started_at", "last_hour", "calm_hours", "spike_id", "updated_at")


def _upsert(dialect: Any) -> Any:
    stmt = dialect.insert(complaint_series)
    keys = [complaint_series.c.product, complaint_series.c.region, complaint_series.c.ticket_type]
    return stmt.on_conflict_do_update(index_elements=keys, set_={name: stmt.excluded[name] for name in _STATE})


_UPSERT = {"postgresql": _upsert(postgresql), "sqlite": _upsert(sqlite)}
_SPIKE = complaint_spikes.c
_CONFIRM = update(complaint_spikes).where(_SPIKE.id == bindparam("spike_id")).values(count=bindparam("count"))
_END = (
    update(complaint_spikes)
    .where(_SPIKE.id == bindparam("spike_id"), _SPIKE.ended_at.is_(None))
    .values(ended_at=bindparam("at"))
)
_END_OPEN = update(complaint_spikes).where(_SPIKE.ended_at.is_(None)).values(ended_at=bindparam("at"))


def _series(row: Row[Any]) -> TrackedSeries:
    state = SeriesState(
        tuple(row.ewma), row.hours_seen, row.in_spike, row.spike_started_at, row.last_hour, row.calm_hours
    )
    return TrackedSeries(SeriesKey(row.product, row.region, row.ticket_type), state, row.spike_id)


def _series_values(series: TrackedSeries, at: datetime) -> dict[str, Any]:
    state = series.state
    return {
        "product": series.key.product,
        "region": series.key.region,
        "ticket_type": series.key.ticket_type,
        "ewma": list(state.ewma),
        "hours_seen": state.hours_seen,
        "in_spike": state.in_spike,
        "spike_started_at": state.spike_started_at,
        "last_hour": state.last_hour,
        "calm_hours": state.calm_hours,
        "spike_id": series.open_spike_id,
        "updated_at": at,
    }


def _spike(row: Row[Any]) -> Spike:
    return Spike(
        id=row.id,
        key=SeriesKey(row.product, row.region, row.ticket_type),
        started_at=row.started_at,
        count=row.count,
        baseline=row.baseline,
        bound=row.bound,
        created_at=row.created_at,
        business_line=row.business_line,
        ended_at=row.ended_at,
    )


def _conditions(where: SpikeFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    for column, value in ((_SPIKE.product, where.product), (_SPIKE.region, where.region)):
        if value is not None:
            found.append(column == value)
    if where.ticket_type is not None:
        found.append(_SPIKE.ticket_type == where.ticket_type)
    if where.open is not None:
        found.append(_SPIKE.ended_at.is_(None) if where.open else _SPIKE.ended_at.is_not(None))
    if where.started_from is not None:
        found.append(_SPIKE.started_at >= where.started_from)
    if where.started_to is not None:
        found.append(_SPIKE.started_at < where.started_to)
    found += in_business_lines(_SPIKE.business_line, where.business_lines)
    return found


class SqlComplaintSpikeRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def settings(self, *, for_update: bool = False) -> SpikeSettings:
        stored = await load_setting(self._conn, SETTINGS_KEY, for_update=for_update)
        if stored is None:
            return SpikeSettings()
        value, version = stored
        return SpikeSettings(
            enabled=value["enabled"],
            product_dimension=ProductDimension(value["product_dimension"]),
            params=SpikeParams(**{name: value[name] for name in PARAMS}),
            version=version,
        )

    async def save_settings(self, settings: SpikeSettings, by: str, at: datetime) -> SpikeSettings:
        value = {"enabled": settings.enabled, "product_dimension": settings.product_dimension.value}
        value |= asdict(settings.params)
        return replace(settings, version=await save_setting(self._conn, SETTINGS_KEY, value, settings.version, by, at))

    async def cursor(self, at: datetime) -> SpikeCursor:
        """Written before it is first locked, so that even the first passes of two workers take turns on its row
        (a row that does not exist yet cannot be locked)."""
        stored = await load_setting(self._conn, CURSOR_KEY, for_update=True)
        if stored is None:
            await self._conn.execute(
                insert_or_ignore(self._conn, service_settings, "key").values(
                    key=CURSOR_KEY, value={"next_hour": None}, version=1, updated_by="system", updated_at=at
                )
            )
            stored = await load_setting(self._conn, CURSOR_KEY, for_update=True)
        value, version = stored or ({"next_hour": None}, 1)
        next_hour = datetime.fromisoformat(value["next_hour"]) if value["next_hour"] else None
        return SpikeCursor(next_hour, version)

    async def save_cursor(self, cursor: SpikeCursor, at: datetime) -> None:
        value = {"next_hour": cursor.next_hour.isoformat() if cursor.next_hour else None}
        await save_setting(self._conn, CURSOR_KEY, value, cursor.version, "system", at)

    async def counts(self, dimension: ProductDimension, start: datetime, until: datetime) -> list[SeriesCount]:
        stmt = _COUNTS[self._conn.dialect.name, dimension]
        rows = await self._conn.execute(stmt, {"start": start, "until": until})
        return [
            SeriesCount(_EPOCH + hour * HOUR, SeriesKey(product, region, kind), count, line)
            for hour, product, region, kind, count, line in rows
        ]

    async def series(
        self, dimension: ProductDimension, start: datetime, until: datetime
    ) -> dict[SeriesKey, TrackedSeries]:
        found = {series.key: series for series in map(_series, await self._conn.execute(_OPEN))}
        rows = await self._conn.execute(_COUNTED[dimension], {"start": start, "until": until})
        found.update((series.key, series) for series in map(_series, rows))
        return found

    async def save_series(self, series: Sequence[TrackedSeries], at: datetime) -> None:
        if series:
            await self._conn.execute(_UPSERT[self._conn.dialect.name], [_series_values(s, at) for s in series])

    async def forget_series(self) -> None:
        await self._conn.execute(delete(complaint_series))

    async def add_spike(self, spike: Spike) -> bool:
        stmt = insert_or_ignore(self._conn, complaint_spikes, "product", "region", "ticket_type", "started_at")
        values = {
            "id": spike.id,
            "product": spike.key.product,
            "region": spike.key.region,
            "ticket_type": spike.key.ticket_type,
            "business_line": spike.business_line,
            "started_at": spike.started_at,
            "count": spike.count,
            "baseline": spike.baseline,
            "bound": spike.bound,
            "ended_at": spike.ended_at,
            "created_at": spike.created_at,
        }
        return bool((await self._conn.execute(stmt.values(**values))).rowcount)

    async def confirm_spike(self, spike_id: UUID, count: int) -> None:
        await self._conn.execute(_CONFIRM, {"spike_id": spike_id, "count": count})

    async def end_spike(self, spike_id: UUID, at: datetime) -> None:
        await self._conn.execute(_END, {"spike_id": spike_id, "at": at})

    async def end_open_spikes(self, at: datetime) -> int:
        return (await self._conn.execute(_END_OPEN, {"at": at})).rowcount

    async def list(self, where: SpikeFilter, page: PageRequest) -> Page[Spike]:
        stmt = select(complaint_spikes).where(*_conditions(where))
        rows, next_key = await fetch_page(self._conn, stmt, (_SPIKE.started_at, _SPIKE.id), page)
        return Page([_spike(row) for row in rows], next_key)
