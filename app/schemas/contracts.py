"""Service contract contract."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import ConfigDict, Field

from app.domain.contracts import ContractData, ServiceContract, SlaLevel
from app.schemas.common import CustomerNo, Input, Output, Sku


class ContractIn(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "customer_no": "C-10001",
                    "skus": ["AP-X3-WHITE"],
                    "starts_on": "2026-01-01",
                    "ends_on": "2027-12-31",
                    "sla_level": "premium",
                }
            ]
        }
    )

    customer_no: CustomerNo
    skus: list[Sku] = Field(min_length=1, max_length=500, description="Products the contract covers.")
    starts_on: date
    ends_on: date
    sla_level: SlaLevel = SlaLevel.STANDARD

    def to_data(self) -> ContractData:
        return ContractData(
            customer_no=self.customer_no,
            skus=tuple(self.skus),
            starts_on=self.starts_on,
            ends_on=self.ends_on,
            sla_level=self.sla_level,
        )


class ContractOut(Output):
    id: UUID
    contract_no: str
    customer_no: str
    skus: list[str]
    starts_on: date
    ends_on: date
    sla_level: SlaLevel
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, contract: ServiceContract) -> ContractOut:
        data = contract.data
        return cls(
            id=contract.id,
            contract_no=contract.contract_no,
            customer_no=data.customer_no,
            skus=list(data.skus),
            starts_on=data.starts_on,
            ends_on=data.ends_on,
            sla_level=data.sla_level,
            version=contract.version,
            created_at=contract.created_at,
            updated_at=contract.updated_at,
        )
