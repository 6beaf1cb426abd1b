"""Products (产品) keyed by SKU; warranty months drive warranty status on tickets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from app.domain.pagination import Page, PageRequest


@dataclass(frozen=True, slots=True)
class ProductData:
    name: str
    model: str | None
    warranty_months: int
    product_line: str | None


@dataclass(frozen=True, slots=True)
class Product:
    id: UUID
    sku: str
    data: ProductData
    version: int
    created_at: datetime
    updated_at: datetime


class ProductRepository(Protocol):
    async def get(self, sku: str, *, for_update: bool = False) -> Product | None: ...
    async def add(self, product: Product) -> None: ...
    async def update(self, product: Product) -> None: ...
    async def existing_skus(self, skus: set[str]) -> set[str]: ...
    async def list(self, page: PageRequest, *, product_line: str | None = None) -> Page[Product]: ...
