"""Service contracts (服务合同): which products of a customer are covered, when, and at which SLA level."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from app.domain.errors import Conflict, FieldError, InvalidInput
from app.domain.pagination import Page, PageRequest


class SlaLevel(StrEnum):
    BASIC = "basic"
    STANDARD = "standard"
    PREMIUM = "premium"


@dataclass(frozen=True, slots=True)
class ContractData:
    customer_no: str
    skus: tuple[str, ...]
    starts_on: date
    ends_on: date
    sla_level: SlaLevel

    def is_active(self, on: date) -> bool:
        return self.starts_on <= on <= self.ends_on


@dataclass(frozen=True, slots=True)
class ServiceContract:
    id: UUID
    contract_no: str
    data: ContractData
    version: int
    created_at: datetime
    updated_at: datetime


def validate_contract(data: ContractData) -> None:
    errors: list[FieldError] = []
    if data.ends_on < data.starts_on:
        errors.append(FieldError("/ends_on", "ends_on is before starts_on"))
    if len(set(data.skus)) != len(data.skus):
        errors.append(FieldError("/skus", "a sku is listed more than once"))
    if errors:
        raise InvalidInput("The contract breaks one or more contract rules", errors=errors)


def check_contract_change(existing: ServiceContract, incoming: ContractData) -> None:
    if existing.data.customer_no != incoming.customer_no:
        raise Conflict(
            f"Contract {existing.contract_no} belongs to customer {existing.data.customer_no}; "
            "its customer cannot change",
            code="contract_customer_changed",
            errors=[FieldError("/customer_no", "differs from the contract's customer")],
        )


class ContractRepository(Protocol):
    async def get(self, contract_no: str, *, for_update: bool = False) -> ServiceContract | None: ...
    async def add(self, contract: ServiceContract) -> None: ...
    async def update(self, contract: ServiceContract) -> None: ...
    async def list(self, page: PageRequest, *, customer_no: str | None = None) -> Page[ServiceContract]: ...
