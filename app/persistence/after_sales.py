"""After-sales order rows and lines, the per-order money ledger, and the auto-review settings."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, bindparam, case, exists, func, insert, literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.after_sales import (
    GOODS_TYPES,
    MONEY_TYPES,
    RELEASED,
    AfterSalesFilter,
    AfterSalesLine,
    AfterSalesOrder,
    AfterSalesType,
    AutoReviewRules,
    CompensationKind,
    Shipment,
)
from app.domain.errors import FieldError, InvalidInput
from app.domain.evidence import Evidence, EvidenceRules
from app.domain.ledger import Ledger, LineHold
from app.domain.orders import SalesOrder
from app.domain.pagination import Page, PageRequest
from app.domain.tickets import Attachment, PoolStats
from app.persistence.keyset import fetch_merged_page, fetch_page
from app.persistence.numbering import next_number
from app.persistence.scope import in_business_lines
from app.persistence.settings_store import load_setting, save_setting
from app.persistence.tables import after_sales_lines, after_sales_orders, order_ledgers, sales_orders

_PLAIN = (
    "order_no",
    "customer_no",
    "status",
    "currency",
    "amount",
    "reason_code",
    "description",
    "ticket_id",
    "assignee",
    "review_queue",
    "reviewed_by",
    "review_rule",
    "lightning",
    "inspection_passed",
    "returned_at",
    "business_line",
    "payment_attempts",
    "payment_reference",
    "urge_count",
    "last_urged_at",
    "escalation_level",
    "finished_at",
    "created_by",
    "version",
    "updated_at",
)
AUTO_REVIEW_KEY = "auto_review"
EVIDENCE_RULES_KEY = "evidence_rules"


def _values(order: AfterSalesOrder) -> dict[str, Any]:
    return {
        **{name: getattr(order, name) for name in _PLAIN},
        "type": order.type.value,
        "compensation_kind": order.compensation_kind.value if order.compensation_kind else None,
        "attachments": [a.as_json() for a in order.attachments],
        "return_shipment": asdict(order.return_shipment),
        "replacement_shipment": asdict(order.replacement_shipment),
        "evidence_required": order.evidence.required,
        "evidence_clean": order.evidence.clean,
        "evidence_pending": order.evidence.pending,
    }


def _entity(row: Row[Any], lines: list[AfterSalesLine]) -> AfterSalesOrder:
    return AfterSalesOrder(
        id=row.id,
        number=row.number,
        **{name: getattr(row, name) for name in _PLAIN},
        type=AfterSalesType(row.type),
        compensation_kind=CompensationKind(row.compensation_kind) if row.compensation_kind else None,
        lines=tuple(lines),
        attachments=tuple(Attachment.from_json(a) for a in row.attachments),
        return_shipment=Shipment(**row.return_shipment),
        replacement_shipment=Shipment(**row.replacement_shipment),
        created_at=row.created_at,
        evidence=Evidence(row.evidence_required, row.evidence_clean, row.evidence_pending),
    )


def _conditions(where: AfterSalesFilter) -> list[Any]:
    c = after_sales_orders.c
    conditions: list[Any] = []
    if where.types:
        conditions.append(c.type.in_([t.value for t in where.types]))
    if where.statuses:
        conditions.append(c.status.in_(where.statuses))
    for column, value in (
        (c.customer_no, where.customer_no),
        (c.order_no, where.order_no),
        (c.assignee, where.assignee),
    ):
        if value is not None:
            conditions.append(column == value)
    if where.created_from is not None:
        conditions.append(c.created_at >= where.created_from)
    if where.created_to is not None:
        conditions.append(c.created_at < where.created_to)
    return conditions + _scope(where.business_lines)


def _by_ref(key: Any) -> dict[bool, Any]:
    """SELECT of one after-sales order with its lines, plain and locked (statements built once, compiled once)."""
    li = after_sales_lines.c
    stmt = (
        select(
            after_sales_orders,
            li.sku.label("line_sku"),
            li.quantity.label("line_quantity"),
            li.amount.label("line_amount"),
        )
        .outerjoin(after_sales_lines, li.after_sales_id == after_sales_orders.c.id)
        .where(key == bindparam("ref"))
        .order_by(li.line_no)
    )
    return {False: stmt, True: stmt.with_for_update(of=after_sales_orders)}


def _lock_ledger(key: Any) -> Any:
    """The sales order's row locked, with its stored totals, found from an after-sales order's id or number."""
    so, lg = sales_orders.c, order_ledgers.c
    order_no = select(after_sales_orders.c.order_no).where(key == bindparam("ref")).scalar_subquery()
    return (
        select(so.order_no, so.currency, so.paid_amount, lg.reserved, lg.refunded, lg.compensated, lg.version)
        .outerjoin(order_ledgers, lg.order_no == so.order_no)
        .where(so.order_no == order_no)
        .with_for_update(of=sales_orders)
    )


_UNDER_REVIEW = after_sales_orders.c.status == literal_column("'under_review'")
"""Literals, so that the planner matches the partial indexes ix_after_sales_orders_review_pool and _held_reviews."""
_UNCLAIMED_IN = select(
    exists().where(
        after_sales_orders.c.review_queue == bindparam("queue"), _UNDER_REVIEW, after_sales_orders.c.assignee.is_(None)
    )
)
_GET_BY_ID = _by_ref(after_sales_orders.c.id)
_GET_BY_NUMBER = _by_ref(after_sales_orders.c.number)
_LOCK_LEDGER_BY_ID = _lock_ledger(after_sales_orders.c.id)
_LOCK_LEDGER_BY_NUMBER = _lock_ledger(after_sales_orders.c.number)


def _scope(business_lines: frozenset[str] | None) -> list[Any]:
    """Staff scoped to business lines see those lines' orders and orders of no line."""
    return in_business_lines(after_sales_orders.c.business_line, business_lines)


def _pool(queue: str, business_lines: frozenset[str] | None) -> list[Any]:
    """待领取: the queue's orders under review nobody has claimed, within the caller's business lines."""
    c = after_sales_orders.c
    return [c.review_queue == queue, _UNDER_REVIEW, c.assignee.is_(None), *_scope(business_lines)]


def _narrowed(where: AfterSalesFilter) -> bool:
    """One customer's or one sales order's after-sales orders: few, so any other filter may narrow them."""
    return where.customer_no is not None or where.order_no is not None


def _list_key(where: AfterSalesFilter) -> Any:
    """A created range is read from the created_at index in its order; every other page in id order."""
    c = after_sales_orders.c
    ranged = where.created_from is not None or where.created_to is not None
    return [c.created_at, c.id] if ranged and not _narrowed(where) else c.id


def _seek_parts(where: AfterSalesFilter) -> list[AfterSalesFilter]:
    """The filter as disjoint parts that each seek one index in id order (assignee, then status; status, then
    type; type; status), or the filter refused when no index serves it."""
    if _narrowed(where):
        return [where]
    _check_served(where)
    statuses = tuple(dict.fromkeys(where.statuses))
    types = tuple(dict.fromkeys(where.types))
    if types and statuses:
        return [replace(where, statuses=(s,), types=(t,)) for s in statuses for t in types]
    if len(types) > 1:
        return [replace(where, types=(t,)) for t in types]
    if len(statuses) > 1:
        return [replace(where, statuses=(s,)) for s in statuses]
    return [where]


def _check_served(where: AfterSalesFilter) -> None:
    refused: dict[str, str] = {}
    if where.assignee is not None and where.types:
        refused |= dict.fromkeys(("assignee", "type"), "combine at most one of assignee, type (and status)")
    if where.created_from is not None or where.created_to is not None:
        others = [name for name, value in (("status", where.statuses), ("type", where.types)) if value]
        if others or where.assignee is not None:
            for name in ("created_from", "created_to"):
                if getattr(where, name) is not None:
                    refused[name] = "combines only with customer_no or order_no"
    if refused:
        raise InvalidInput(
            f"No index serves {', '.join(sorted(refused))} together; see the parameters' descriptions",
            code="validation_failed",
            errors=[FieldError(name, why, location="query") for name, why in sorted(refused.items())],
        )


class SqlAfterSalesRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def next_sequence(self) -> int:
        return await next_number(self._conn, "after_sales")

    async def get(self, ref: UUID | str, *, for_update: bool = False) -> AfterSalesOrder | None:
        """The order and its lines in one statement (a row per line)."""
        stmt = _GET_BY_ID if isinstance(ref, UUID) else _GET_BY_NUMBER
        rows = (await self._conn.execute(stmt[for_update], {"ref": ref})).all()
        if not rows:
            return None
        lines = [AfterSalesLine(row.line_sku, row.line_quantity, row.line_amount) for row in rows if row.line_sku]
        return _entity(rows[0], lines)

    async def claims(self, ids: Sequence[UUID]) -> dict[UUID, tuple[str | None, str | None]]:
        if not ids:
            return {}
        columns = (after_sales_orders.c.id, after_sales_orders.c.assignee, after_sales_orders.c.review_queue)
        rows = await self._conn.execute(select(*columns).where(after_sales_orders.c.id.in_(list(ids))))
        return {row.id: (row.assignee, row.review_queue) for row in rows}

    async def lock_ledger(self, ref: UUID | str) -> Ledger | None:
        """The money totals of the sales order of after-sales order `ref`, its row locked first, as every writer
        of the ledger locks it; without per-line holds, which releasing and settling do not need."""
        stmt = _LOCK_LEDGER_BY_ID if isinstance(ref, UUID) else _LOCK_LEDGER_BY_NUMBER
        row = (await self._conn.execute(stmt, {"ref": ref})).first()
        if row is None:
            return None
        if row.version is None:
            return Ledger(row.order_no, row.currency, row.paid_amount)
        return Ledger(
            row.order_no, row.currency, row.paid_amount, row.reserved, row.refunded, row.compensated, row.version
        )

    async def add(self, order: AfterSalesOrder) -> None:
        await self._conn.execute(
            insert(after_sales_orders).values(
                id=order.id, number=order.number, created_at=order.created_at, **_values(order)
            )
        )
        if not order.lines:
            return  # compensation names no lines
        await self._conn.execute(
            insert(after_sales_lines),
            [
                {
                    "after_sales_id": order.id,
                    "line_no": n,
                    "sku": line.sku,
                    "quantity": line.quantity,
                    "amount": line.amount,
                }
                for n, line in enumerate(order.lines, start=1)
            ],
        )

    async def update(self, order: AfterSalesOrder) -> None:
        """Lines never change after creation; only the order row moves."""
        stmt = update(after_sales_orders).where(after_sales_orders.c.id == order.id).values(**_values(order))
        await self._conn.execute(stmt)

    async def list(self, where: AfterSalesFilter, page: PageRequest) -> Page[AfterSalesOrder]:
        """Newest first, one index read per part of the filter (see `_seek_parts`), merged."""
        parts = [_conditions(part) for part in _seek_parts(where)]
        rows, next_key = await fetch_merged_page(self._conn, after_sales_orders, parts, _list_key(where), page)
        lines = await self._lines([row.id for row in rows])
        return Page([_entity(row, lines[row.id]) for row in rows], next_key)

    async def recent_count(self, customer_no: str, since: datetime) -> int:
        stmt = select(func.count()).where(
            after_sales_orders.c.customer_no == customer_no, after_sales_orders.c.created_at >= since
        )
        return (await self._conn.execute(stmt)).scalar_one()

    async def ledger(self, order: SalesOrder) -> Ledger:
        """The order's totals row and, from its live after-sales lines, what each sku holds."""
        row = (
            await self._conn.execute(select(order_ledgers).where(order_ledgers.c.order_no == order.order_no))
        ).first()
        paid, currency = order.data.paid_amount, order.data.currency
        lines = {sku: LineHold(int(amount), int(quantity)) for sku, amount, quantity in await self._holds(order)}
        if row is None:
            return Ledger(order.order_no, currency, paid, lines=lines)
        return Ledger(order.order_no, currency, paid, row.reserved, row.refunded, row.compensated, row.version, lines)

    async def _holds(self, order: SalesOrder) -> list[Row[Any]]:
        o, li = after_sales_orders.c, after_sales_lines.c
        money = case((o.type.in_([t.value for t in MONEY_TYPES]), li.amount), else_=0)
        goods = case((o.type.in_([t.value for t in GOODS_TYPES]), li.quantity), else_=0)
        stmt = (
            select(li.sku, func.sum(money), func.sum(goods))
            .join(after_sales_orders, o.id == li.after_sales_id)
            .where(o.order_no == order.order_no, o.status.not_in(sorted(RELEASED)))
            .group_by(li.sku)
        )
        return list(await self._conn.execute(stmt))

    async def save_ledger(self, ledger: Ledger) -> None:
        values = {"reserved": ledger.reserved, "refunded": ledger.refunded, "compensated": ledger.compensated}
        if ledger.version == 0:
            await self._conn.execute(insert(order_ledgers).values(order_no=ledger.order_no, version=1, **values))
        else:
            stmt = update(order_ledgers).where(order_ledgers.c.order_no == ledger.order_no)
            await self._conn.execute(stmt.values(version=ledger.version + 1, **values))

    async def auto_review_rules(self) -> AutoReviewRules:
        stored = await load_setting(self._conn, AUTO_REVIEW_KEY)
        if stored is None:
            return AutoReviewRules()
        value, version = stored
        return AutoReviewRules(
            enabled=value["enabled"],
            types=tuple(AfterSalesType(t) for t in value["types"]),
            max_amount=value["max_amount"],
            only_before_shipping=value["only_before_shipping"],
            customer_levels=tuple(value["customer_levels"]),
            max_recent_after_sales=value["max_recent_after_sales"],
            lightning_refund_levels=tuple(value["lightning_refund_levels"]),
            version=version,
        )

    async def save_auto_review_rules(self, rules: AutoReviewRules, by: str, at: datetime) -> AutoReviewRules:
        value = {**asdict(rules), "types": [t.value for t in rules.types]}
        value.pop("version")
        return replace(rules, version=await save_setting(self._conn, AUTO_REVIEW_KEY, value, rules.version, by, at))

    async def evidence_rules(self) -> EvidenceRules:
        stored = await load_setting(self._conn, EVIDENCE_RULES_KEY)
        if stored is None:
            return EvidenceRules()
        value, version = stored
        return EvidenceRules(photos=dict(value["photos"]), version=version)

    async def save_evidence_rules(self, rules: EvidenceRules, by: str, at: datetime) -> EvidenceRules:
        value = {"photos": dict(rules.photos)}
        return replace(rules, version=await save_setting(self._conn, EVIDENCE_RULES_KEY, value, rules.version, by, at))

    async def review_pool(
        self, queue: str, business_lines: frozenset[str] | None, page: PageRequest
    ) -> Page[AfterSalesOrder]:
        """Oldest first: the order waiting longest is claimed first."""
        stmt = select(after_sales_orders).where(*_pool(queue, business_lines))
        rows, next_key = await fetch_page(self._conn, stmt, after_sales_orders.c.id, page, descending=False)
        return await self._page(rows, next_key)

    async def review_pool_stats(self, queue: str, business_lines: frozenset[str] | None) -> PoolStats:
        stmt = select(func.count(), func.min(after_sales_orders.c.created_at)).where(*_pool(queue, business_lines))
        total, oldest = (await self._conn.execute(stmt)).one()
        return PoolStats(total, oldest)

    async def unclaimed_in(self, queue: str) -> bool:
        return bool((await self._conn.execute(_UNCLAIMED_IN, {"queue": queue})).scalar_one())

    async def held_reviews(
        self, assignee: str, business_lines: frozenset[str] | None, page: PageRequest
    ) -> Page[AfterSalesOrder]:
        c = after_sales_orders.c
        stmt = select(after_sales_orders).where(c.assignee == assignee, _UNDER_REVIEW, *_scope(business_lines))
        rows, next_key = await fetch_page(self._conn, stmt, [c.updated_at, c.id], page)
        return await self._page(rows, next_key)

    async def _page(self, rows: Sequence[Row[Any]], next_key: tuple[Any, ...] | None) -> Page[AfterSalesOrder]:
        lines = await self._lines([row.id for row in rows])
        return Page([_entity(row, lines[row.id]) for row in rows], next_key)

    async def _lines(self, ids: list[UUID]) -> dict[UUID, list[AfterSalesLine]]:
        found: dict[UUID, list[AfterSalesLine]] = defaultdict(list)
        if not ids:
            return found
        stmt = (
            select(after_sales_lines)
            .where(after_sales_lines.c.after_sales_id.in_(ids))
            .order_by(after_sales_lines.c.after_sales_id, after_sales_lines.c.line_no)
        )
        for row in await self._conn.execute(stmt):
            found[row.after_sales_id].append(AfterSalesLine(row.sku, row.quantity, row.amount))
        return found
