"""Integrity errors are the problems they are: a unique violation is a 409 `duplicate` naming the record and its
key, a foreign-key violation a 422 `unknown_reference` naming the field; only real races stay
`concurrent_modification`. The services check references before they write, so the violations are provoked here
at the unit of work, on the real database, with statements the repositories could have issued."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import insert

from app.domain.errors import Conflict, InvalidInput
from app.domain.principal import Role
from app.persistence.tables import customers, service_contracts
from app.persistence.unit_of_work import SqlUnitOfWorkFactory
from app.web.problems import domain_error_response
from tests.factories import customer_body, put

NOW = datetime.now(UTC)


@pytest.fixture
async def uow_factory(app, client, auth):
    await put(client, auth(Role.INTEGRATION), "/v1/customers/C-1", customer_body())
    return SqlUnitOfWorkFactory(app.state.services.database)


def _audit() -> dict[str, Any]:
    return {"id": uuid4(), "version": 1, "created_at": NOW, "updated_at": NOW}


def _customer_row(customer_no: str) -> dict[str, Any]:
    return {"customer_no": customer_no, "name": "x", "level": "normal", "contact_channels": [], **_audit()}


def _contract_row(customer_no: str) -> dict[str, Any]:
    return {
        "contract_no": "K-1",
        "customer_no": customer_no,
        "skus": [],
        "starts_on": date(2026, 1, 1),
        "ends_on": date(2027, 1, 1),
        "sla_level": "standard",
        **_audit(),
    }


async def test_a_unique_violation_is_a_409_duplicate_naming_the_record_and_its_key(uow_factory):
    with pytest.raises(Conflict) as refused:
        async with uow_factory.write() as uow:
            await uow._conn.execute(insert(customers).values(_customer_row("C-1")))
            await uow.commit()

    assert refused.value.code == "duplicate"
    assert refused.value.extra == {"resource": "customers", "fields": ["customer_no"]}
    assert "customers" in refused.value.detail and "customer_no" in refused.value.detail
    assert domain_error_response(refused.value).status_code == 409


async def test_a_foreign_key_violation_is_a_422_unknown_reference_naming_the_field(uow_factory):
    with pytest.raises(InvalidInput) as refused:
        async with uow_factory.write() as uow:
            await uow._conn.execute(insert(service_contracts).values(_contract_row(customer_no="C-NOBODY")))
            await uow.commit()

    assert refused.value.code == "unknown_reference"
    assert [e.pointer for e in refused.value.errors] == ["/customer_no"]
    assert domain_error_response(refused.value).status_code == 422


async def test_nothing_of_a_refused_unit_of_work_is_kept(uow_factory, client, auth):
    with pytest.raises(Conflict):
        async with uow_factory.write() as uow:
            await uow._conn.execute(insert(customers).values(_customer_row("C-2")))
            await uow._conn.execute(insert(customers).values(_customer_row("C-1")))
            await uow.commit()

    assert (await client.get("/v1/customers/C-2", headers=auth(Role.AGENT))).status_code == 404
