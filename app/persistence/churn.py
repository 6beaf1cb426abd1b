"""流失预警 in SQL: the settings document, the scoring job's outbox cursor, each customer's facts counted in one
statement (integers, the same on SQLite and PostgreSQL), and the stored score on the customer's row."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, literal_column, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.after_sales import MONEY_TYPES
from app.domain.churn import (
    REFUNDED,
    ChurnFacts,
    ChurnParams,
    ChurnReason,
    ChurnReasonCode,
    ChurnSettings,
    ChurnStanding,
    ScoredCustomer,
    Touch,
)
from app.domain.events import OutboxCursor
from app.domain.sla_clock import ClockEventKind
from app.domain.sla_policies import IDLE_METRICS, Subject
from app.domain.tickets import TicketType
from app.persistence.lookups import equals_any
from app.persistence.outbox_cursors import after_parameters, load_cursor, save_cursor
from app.persistence.settings_store import load_setting, save_setting
from app.persistence.tables import after_sales_orders, customers, outbox, sla_clock_events, surveys, tickets

SETTINGS_KEY = "churn"
CURSOR_KEY = "churn_scoring_cursor"

_O, _T, _A, _S, _E, _C = outbox.c, tickets.c, after_sales_orders.c, surveys.c, sla_clock_events.c, customers.c

_TOUCHES = (
    select(_O.id, _O.occurred_at, func.coalesce(_T.customer_no, _A.customer_no, _S.customer_no).label("customer_no"))
    .select_from(
        # Each event's subject by its primary key: an SLA breach's event names the ticket only.
        outbox.outerjoin(tickets, and_(_O.aggregate_type == "ticket", _T.id == _O.aggregate_id))
        .outerjoin(after_sales_orders, and_(_O.aggregate_type == "after_sales", _A.id == _O.aggregate_id))
        .outerjoin(surveys, and_(_O.aggregate_type == "survey", _S.id == _O.aggregate_id))
    )
    .where(
        _O.type.in_(bindparam("types", expanding=True)),
        # The first bound alone is a range of the occurred_at index; the second drops the cursor's own instant's
        # events up to its id.
        _O.occurred_at >= bindparam("after_at"),
        or_(_O.occurred_at > bindparam("after_at"), _O.id > bindparam("after_id")),
        _O.occurred_at <= bindparam("until"),
    )
    .order_by(_O.occurred_at, _O.id)
    .limit(bindparam("limit"))
)


def _facts_statement() -> Any:
    """Five counts, each a scalar subquery through an index that leads with the customer (breaches: their tickets,
    then each ticket's clock log)."""
    customer_no, since = bindparam("customer_no"), bindparam("since")
    refunded = (
        _A.customer_no == customer_no,
        equals_any(_A.type, tuple(kind.value for kind in sorted(MONEY_TYPES))),
        _A.status == REFUNDED,
        _A.finished_at >= since,
    )
    breaches = (
        select(func.count())
        .select_from(sla_clock_events.join(tickets, _T.id == _E.subject_id))
        .where(
            _T.customer_no == customer_no,
            _E.subject_type == Subject.TICKET.value,
            _E.kind == ClockEventKind.BREACH.value,
            *(_E.metric != metric for metric in IDLE_METRICS),
            _E.at >= since,
        )
    )
    return select(
        select(func.count()).select_from(after_sales_orders).where(*refunded).scalar_subquery().label("refunds"),
        select(func.coalesce(func.sum(_A.amount), 0))
        .where(*refunded, _A.currency == bindparam("currency"))
        .scalar_subquery()
        .label("refund_amount"),
        select(func.count())
        .select_from(tickets)
        .where(_T.customer_no == customer_no, _T.type == TicketType.COMPLAINT.value, _T.created_at >= since)
        .scalar_subquery()
        .label("complaints"),
        select(func.count())
        .select_from(surveys)
        .where(_S.customer_no == customer_no, _S.low_score == true(), _S.answered_at >= since)
        .scalar_subquery()
        .label("detractor_answers"),
        breaches.scalar_subquery().label("sla_breaches"),
    )


_FACTS = _facts_statement()
_CUSTOMER = (
    select(_C.id, _C.customer_no, _C.churn_score, _C.churn_reasons, _C.churn_scored_at, _C.churn_warned_at)
    .where(_C.customer_no == bindparam("customer_no"))
    # FOR NO KEY UPDATE on PostgreSQL: tickets and orders inserted for the customer meanwhile (their foreign keys take
    # FOR KEY SHARE) do not wait for the scoring transaction.
    .with_for_update(key_share=True)
)
_STALE = (
    select(_C.customer_no)
    # A literal, so that the planner matches the partial index ix_customers_at_risk_churn_scored_at.
    .where(_C.churn_score > literal_column("0"), _C.churn_scored_at < bindparam("scored_before"))
    .order_by(_C.churn_scored_at)
    .limit(bindparam("limit"))
    .with_for_update(key_share=True, skip_locked=True)
)
_SAVE = update(customers).where(_C.customer_no == bindparam("key_customer_no"))


def standing(row: Any) -> ChurnStanding | None:
    """The stored score of a customers row (None: never scored)."""
    if row.churn_scored_at is None:
        return None
    reasons = tuple(ChurnReason(ChurnReasonCode(r["code"]), r["points"]) for r in row.churn_reasons)
    return ChurnStanding(row.churn_score, reasons, row.churn_scored_at, row.churn_warned_at)


class SqlChurnRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def settings(self, *, for_update: bool = False) -> ChurnSettings:
        stored = await load_setting(self._conn, SETTINGS_KEY, for_update=for_update)
        if stored is None:
            return ChurnSettings()
        value, version = stored
        return ChurnSettings(ChurnParams(**value), version)

    async def save_settings(self, settings: ChurnSettings, by: str, at: datetime) -> ChurnSettings:
        version = await save_setting(self._conn, SETTINGS_KEY, asdict(settings.params), settings.version, by, at)
        return replace(settings, version=version)

    async def cursor(self) -> OutboxCursor | None:
        return await load_cursor(self._conn, CURSOR_KEY)

    async def save_cursor(self, cursor: OutboxCursor, at: datetime) -> None:
        await save_cursor(self._conn, CURSOR_KEY, cursor, at)

    async def touches(self, after: OutboxCursor, until: datetime, types: Sequence[str], limit: int) -> list[Touch]:
        params = after_parameters(after, until, types, limit)
        return [Touch(r.id, r.occurred_at, r.customer_no) for r in await self._conn.execute(_TOUCHES, params)]

    async def customer(self, customer_no: str) -> ScoredCustomer | None:
        row = (await self._conn.execute(_CUSTOMER, {"customer_no": customer_no})).first()
        return ScoredCustomer(row.id, row.customer_no, standing(row)) if row else None

    async def facts(self, customer_no: str, since: datetime, currency: str) -> ChurnFacts:
        params = {"customer_no": customer_no, "since": since, "currency": currency}
        row = (await self._conn.execute(_FACTS, params)).one()
        return ChurnFacts(**{name: int(value) for name, value in row._mapping.items()})

    async def save_standing(self, customer_no: str, standing: ChurnStanding) -> None:
        values = {
            "churn_score": standing.score,
            "churn_reasons": [{"code": r.code.value, "points": r.points} for r in standing.reasons],
            "churn_scored_at": standing.scored_at,
            "churn_warned_at": standing.warned_at,
        }
        await self._conn.execute(_SAVE, {"key_customer_no": customer_no, **values})

    async def stale(self, scored_before: datetime, limit: int) -> list[str]:
        rows = await self._conn.execute(_STALE, {"scored_before": scored_before, "limit": limit})
        return list(rows.scalars())
