"""Service contract rows ↔ ServiceContract entities."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.contracts import ContractData, ServiceContract, SlaLevel
from app.domain.pagination import Page, PageRequest
from app.persistence.keyset import fetch_page
from app.persistence.lookups import Lookup
from app.persistence.tables import service_contracts


def _values(contract: ServiceContract) -> dict[str, Any]:
    data = contract.data
    return {
        "customer_no": data.customer_no,
        "skus": list(data.skus),
        "starts_on": data.starts_on,
        "ends_on": data.ends_on,
        "sla_level": data.sla_level.value,
        "version": contract.version,
        "updated_at": contract.updated_at,
    }


def _entity(row: Row[Any]) -> ServiceContract:
    return ServiceContract(
        id=row.id,
        contract_no=row.contract_no,
        data=ContractData(
            customer_no=row.customer_no,
            skus=tuple(row.skus),
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            sla_level=SlaLevel(row.sla_level),
        ),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


_BY_NUMBER = Lookup(service_contracts, service_contracts.c.contract_no)


class SqlContractRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, contract_no: str, *, for_update: bool = False) -> ServiceContract | None:
        row = await _BY_NUMBER.row(self._conn, contract_no, for_update=for_update)
        return _entity(row) if row else None

    async def add(self, contract: ServiceContract) -> None:
        await self._conn.execute(
            insert(service_contracts).values(
                id=contract.id,
                contract_no=contract.contract_no,
                created_at=contract.created_at,
                **_values(contract),
            )
        )

    async def update(self, contract: ServiceContract) -> None:
        await self._conn.execute(
            update(service_contracts).where(service_contracts.c.id == contract.id).values(**_values(contract))
        )

    async def list(self, page: PageRequest, *, customer_no: str | None = None) -> Page[ServiceContract]:
        stmt = select(service_contracts)
        if customer_no is not None:
            stmt = stmt.where(service_contracts.c.customer_no == customer_no)
        rows, next_key = await fetch_page(self._conn, stmt, service_contracts.c.id, page)
        return Page([_entity(row) for row in rows], next_key)
