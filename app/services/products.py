"""Product use cases: ERP upserts by SKU and catalogue reads."""

from __future__ import annotations

from app.domain.clock import Clock
from app.domain.errors import NotFound
from app.domain.ids import new_id
from app.domain.pagination import Page, PageRequest
from app.domain.preconditions import Precondition
from app.domain.products import Product, ProductData
from app.domain.unit_of_work import UnitOfWorkFactory
from app.services.reference_events import PRODUCT, announce
from app.services.revisions import Saved, save_revision


class ProductService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def upsert(self, sku: str, data: ProductData, precondition: Precondition) -> Saved[Product]:
        async with self._uow.write() as uow:
            existing = await uow.products.get(sku, for_update=True)
            precondition.check(existing.version if existing else None)
            now = self._clock.now()
            saved = await save_revision(
                uow.products, existing, data, now, lambda: Product(new_id(), sku, data, 1, now, now)
            )
            await announce(uow, PRODUCT, saved, now)
            await uow.commit()
        return saved

    async def get(self, sku: str) -> Product:
        async with self._uow.read() as uow:
            product = await uow.products.get(sku)
        if product is None:
            raise NotFound(f"No product '{sku}'", code="product_not_found")
        return product

    async def list(self, page: PageRequest, *, product_line: str | None = None) -> Page[Product]:
        async with self._uow.read() as uow:
            return await uow.products.list(page, product_line=product_line)
