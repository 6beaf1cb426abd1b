"""Product contract."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import ConfigDict, Field, StrictInt

from app.domain.products import Product, ProductData
from app.schemas.common import Input, Line, Output


class ProductIn(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"name": "Air purifier X3", "model": "AP-X3", "warranty_months": 24, "product_line": "home-appliance"}
            ]
        }
    )

    name: Line = Field(min_length=1, max_length=200)
    model: Line | None = Field(None, min_length=1, max_length=100)
    warranty_months: StrictInt = Field(ge=0, le=240, description="Manufacturer warranty from purchase, in months.")
    product_line: Line | None = Field(None, min_length=1, max_length=64)

    def to_data(self) -> ProductData:
        return ProductData(
            name=self.name, model=self.model, warranty_months=self.warranty_months, product_line=self.product_line
        )


class ProductOut(Output):
    id: UUID
    sku: str
    name: str
    model: str | None
    warranty_months: int
    product_line: str | None
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, product: Product) -> ProductOut:
        return cls(
            id=product.id,
            sku=product.sku,
            name=product.data.name,
            model=product.data.model,
            warranty_months=product.data.warranty_months,
            product_line=product.data.product_line,
            version=product.version,
            created_at=product.created_at,
            updated_at=product.updated_at,
        )
