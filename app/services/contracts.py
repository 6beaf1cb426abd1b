"""Service contract use cases: upserts by contract number and scoped reads."""

from __future__ import annotations

from app.domain.clock import Clock
from app.domain.contracts import ContractData, ServiceContract, check_contract_change, validate_contract
from app.domain.errors import NotFound
from app.domain.ids import new_id
from app.domain.pagination import Page, PageRequest
from app.domain.preconditions import Precondition
from app.domain.principal import Principal
from app.domain.unit_of_work import UnitOfWorkFactory
from app.services.references import check_references
from app.services.revisions import Saved, save_revision


class ContractService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def upsert(self, contract_no: str, data: ContractData, precondition: Precondition) -> Saved[ServiceContract]:
        validate_contract(data)
        async with self._uow.write() as uow:
            existing = await uow.contracts.get(contract_no, for_update=True)
            precondition.check(existing.version if existing else None)
            await check_references(uow, data.customer_no, ((f"/skus/{i}", sku) for i, sku in enumerate(data.skus)))
            if existing is not None:
                check_contract_change(existing, data)
            now = self._clock.now()
            saved = await save_revision(
                uow.contracts, existing, data, now, lambda: ServiceContract(new_id(), contract_no, data, 1, now, now)
            )
            await uow.commit()
        return saved

    async def get(self, principal: Principal, contract_no: str) -> ServiceContract:
        async with self._uow.read() as uow:
            contract = await uow.contracts.get(contract_no)
        if contract is None or not principal.can_see_customer(contract.data.customer_no):
            raise NotFound(f"No contract '{contract_no}'", code="contract_not_found")
        return contract

    async def list(self, principal: Principal, page: PageRequest, *, customer_no: str | None) -> Page[ServiceContract]:
        if principal.is_customer:
            customer_no = principal.customer_no
        async with self._uow.read() as uow:
            return await uow.contracts.list(page, customer_no=customer_no)
