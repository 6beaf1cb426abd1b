"""Product rows ↔ Product entities."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.pagination import Page, PageRequest
from app.domain.products import Product, ProductData
from app.persistence.keyset import fetch_page
from app.persistence.lookups import Lookup
from app.persistence.tables import products


def _values(product: Product) -> dict[str, Any]:
    data = product.data
    return {
        "name": data.name,
        "model": data.model,
        "warranty_months": data.warranty_months,
        "product_line": data.product_line,
        "version": product.version,
        "updated_at": product.updated_at,
    }


def _entity(row: Row[Any]) -> Product:
    return Product(
        id=row.id,
        sku=row.sku,
        data=ProductData(
            name=row.name, model=row.model, warranty_months=row.warranty_months, product_line=row.product_line
        ),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


_BY_SKU = Lookup(products, products.c.sku)


class SqlProductRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, sku: str, *, for_update: bool = False) -> Product | None:
        row = await _BY_SKU.row(self._conn, sku, for_update=for_update)
        return _entity(row) if row else None

    async def add(self, product: Product) -> None:
        await self._conn.execute(
            insert(products).values(id=product.id, sku=product.sku, created_at=product.created_at, **_values(product))
        )

    async def update(self, product: Product) -> None:
        await self._conn.execute(update(products).where(products.c.id == product.id).values(**_values(product)))

    async def existing_skus(self, skus: set[str]) -> set[str]:
        stmt = select(products.c.sku).where(products.c.sku.in_(skus))
        return set((await self._conn.execute(stmt)).scalars())

    async def list(self, page: PageRequest, *, product_line: str | None = None) -> Page[Product]:
        stmt = select(products)
        if product_line is not None:
            stmt = stmt.where(products.c.product_line == product_line)
        rows, next_key = await fetch_page(self._conn, stmt, products.c.id, page)
        return Page([_entity(row) for row in rows], next_key)
