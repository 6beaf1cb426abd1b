"""Customers (客户) as the ERP/CRM knows them, keyed by their `customer_no`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from app.domain.churn import ChurnFilter, ChurnStanding
from app.domain.pagination import Page, PageRequest


class CustomerLevel(StrEnum):
    """Service level; VIP customers get priority handling in later workflows."""

    REGULAR = "regular"
    SILVER = "silver"
    GOLD = "gold"
    VIP = "vip"


class ContactKind(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    WECHAT = "wechat"
    APP = "app"
    SMS = "sms"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class ContactChannel:
    kind: ContactKind
    value: str
    preferred: bool = False


@dataclass(frozen=True, slots=True)
class CustomerData:
    """What the ERP/CRM sends; everything but the key may change."""

    name: str
    phone: str | None
    level: CustomerLevel
    region: str | None
    contact_channels: tuple[ContactChannel, ...]


@dataclass(frozen=True, slots=True)
class Customer:
    id: UUID
    customer_no: str
    data: CustomerData
    version: int
    created_at: datetime
    updated_at: datetime
    churn: ChurnStanding | None = None  # 流失预警: the service's own score, never part of `data` nor of its version


class CustomerRepository(Protocol):
    async def get(self, customer_no: str, *, for_update: bool = False) -> Customer | None: ...
    async def add(self, customer: Customer) -> None: ...
    async def update(self, customer: Customer) -> None: ...
    async def existing_numbers(self, customer_nos: set[str]) -> set[str]: ...
    async def list(self, page: PageRequest, churn: ChurnFilter | None = None) -> Page[Customer]:
        """Newest first; with a lower bound on the churn score, highest score first."""
        ...
