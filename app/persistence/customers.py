"""Customer rows ↔ Customer entities."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Row, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.churn import ChurnFilter
from app.domain.customers import ContactChannel, ContactKind, Customer, CustomerData, CustomerLevel
from app.domain.pagination import Page, PageRequest
from app.persistence.churn import standing
from app.persistence.keyset import fetch_page
from app.persistence.lookups import Lookup
from app.persistence.tables import customers


def _values(customer: Customer) -> dict[str, Any]:
    data = customer.data
    return {
        "name": data.name,
        "phone": data.phone,
        "level": data.level.value,
        "region": data.region,
        "contact_channels": [
            {"kind": c.kind.value, "value": c.value, "preferred": c.preferred} for c in data.contact_channels
        ],
        "version": customer.version,
        "updated_at": customer.updated_at,
    }


def _entity(row: Row[Any]) -> Customer:
    return Customer(
        id=row.id,
        customer_no=row.customer_no,
        data=CustomerData(
            name=row.name,
            phone=row.phone,
            level=CustomerLevel(row.level),
            region=row.region,
            contact_channels=tuple(
                ContactChannel(kind=ContactKind(c["kind"]), value=c["value"], preferred=c["preferred"])
                for c in row.contact_channels
            ),
        ),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        churn=standing(row),
    )


_BY_NUMBER = Lookup(customers, customers.c.customer_no)


def _by_churn(churn: ChurnFilter) -> tuple[list[ColumnElement[bool]], Any]:
    """A lower bound reads ix_customers_scored_churn_score_id from the top score down; `below` alone keeps the
    newest-first order, in which most customers match."""
    score, key = customers.c.churn_score, customers.c.id
    if churn.at_least is None:
        return ([or_(score.is_(None), score < churn.below)] if churn.below is not None else []), key
    conditions = [score >= churn.at_least]
    if churn.below is not None:
        conditions.append(score < churn.below)
    return conditions, (score, key)


class SqlCustomerRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, customer_no: str, *, for_update: bool = False) -> Customer | None:
        row = await _BY_NUMBER.row(self._conn, customer_no, for_update=for_update)
        return _entity(row) if row else None

    async def add(self, customer: Customer) -> None:
        await self._conn.execute(
            insert(customers).values(
                id=customer.id, customer_no=customer.customer_no, created_at=customer.created_at, **_values(customer)
            )
        )

    async def update(self, customer: Customer) -> None:
        await self._conn.execute(update(customers).where(customers.c.id == customer.id).values(**_values(customer)))

    async def existing_numbers(self, customer_nos: set[str]) -> set[str]:
        stmt = select(customers.c.customer_no).where(customers.c.customer_no.in_(customer_nos))
        return set((await self._conn.execute(stmt)).scalars())

    async def list(self, page: PageRequest, churn: ChurnFilter | None = None) -> Page[Customer]:
        conditions, key = _by_churn(churn) if churn is not None else ([], customers.c.id)
        rows, next_key = await fetch_page(self._conn, select(customers).where(*conditions), key, page)
        return Page([_entity(row) for row in rows], next_key)
