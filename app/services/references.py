"""Checks that an upserted record points at a customer and products we know."""

from __future__ import annotations

from collections.abc import Iterable

from app.domain.errors import FieldError, InvalidInput
from app.domain.unit_of_work import UnitOfWork


async def check_references(uow: UnitOfWork, customer_no: str, skus: Iterable[tuple[str, str]]) -> None:
    """`skus` pairs each SKU's JSON pointer with the SKU; every unknown one is named in one 422."""
    skus = list(skus)
    errors: list[FieldError] = []
    if not await uow.customers.existing_numbers({customer_no}):
        errors.append(FieldError("/customer_no", f"unknown customer '{customer_no}'"))
    known = await uow.products.existing_skus({sku for _, sku in skus})
    errors.extend(FieldError(pointer, f"unknown product '{sku}'") for pointer, sku in skus if sku not in known)
    if errors:
        raise InvalidInput(
            "The record refers to customers or products that do not exist", code="unknown_reference", errors=errors
        )
