"""Buttons never lie for after-sales orders: through every state each scenario's callers can reach (a 闪电退款 return
and an ordinary one included), every action a caller is offered in the single read is what the list offers, and
performing it with a minimal valid body is accepted."""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from app.domain.principal import Role
from tests.buttons import Step, walk
from tests.factories import customer_body, order_body, put, seed_shop, unpicked_order_body, upload_file

ACTORS = {
    "customer": Role.CUSTOMER,
    "agent": Role.AGENT,
    "reviewer": Role.REVIEWER,
    "manager": Role.MANAGER,
    "integration": Role.INTEGRATION,
}
"""One caller per kind of permission the after-sales tables name (an admin is offered what a manager is)."""
_numbers = itertools.count(1)


@dataclass
class AfterSalesDriver:
    """Each object on an order of its own, so that replays never run out of money or quantity."""

    client: httpx.AsyncClient
    auth: Any
    request: Mapping[str, Any]
    customer_no: str = "C-1"
    actors: tuple[str, ...] = tuple(ACTORS)
    orders: dict[str, str] = field(default_factory=dict)
    photo: str | None = None  # the customer's evidence photo, for the actions that attach files

    def _headers(self, actor: str) -> dict[str, str]:
        role = ACTORS[actor]
        return self.auth(role, customer_no=self.customer_no) if role is Role.CUSTOMER else self.auth(role)

    async def create(self) -> dict[str, Any]:
        order_no = f"SO-W-{next(_numbers)}"
        body = unpicked_order_body() if self.request["type"] == "refund" else order_body()
        await put(
            self.client,
            self.auth(Role.INTEGRATION),
            f"/v1/orders/{order_no}",
            {**body, "customer_no": self.customer_no},
        )
        if self.photo is None:
            self.photo = await upload_file(self.client, self._headers("customer"))
        payload = {"order_no": order_no, "reason_code": "changed_mind", **self.request}
        response = await self.client.post("/v1/after-sales", json=payload, headers=self._headers("customer"))
        assert response.status_code == 201, response.text
        created = response.json()
        self.orders[created["id"]] = order_no
        return created

    async def perform(self, obj: dict[str, Any], step: Step) -> httpx.Response:
        path = f"/v1/after-sales/{obj['id']}/actions/{step.action}"
        return await self.client.post(path, json=step.body(), headers=self._headers(step.actor))

    async def read(self, obj: dict[str, Any], actor: str) -> dict[str, Any] | None:
        response = await self.client.get(f"/v1/after-sales/{obj['id']}", headers=self._headers(actor))
        return response.json() if response.status_code == 200 else None

    async def listed(self, obj: dict[str, Any], actor: str, single: dict[str, Any]) -> list[dict[str, Any]]:
        """The order in its sales order's list and in the list of its state (a review pool, a payment queue)."""
        views = []
        for params in ({"order_no": self.orders[obj["id"]]}, {"status": single["status"], "limit": 100}):
            response = await self.client.get("/v1/after-sales", params=params, headers=self._headers(actor))
            found = [item for item in response.json()["items"] if item["id"] == obj["id"]]
            assert found, f"{actor} reads {obj['number']} but does not find it in the list by {params}"
            views += found
        return views

    def known(self, actor: str, action: str) -> Mapping[str, Any]:
        """The customer's photo wherever an action attaches files: every caller here may use it on their order."""
        return {"attachments": [{"id": self.photo}]}

    async def state(self, obj: dict[str, Any]) -> Hashable:
        now = (await self.client.get(f"/v1/after-sales/{obj['id']}", headers=self.auth(Role.ADMIN))).json()
        level = now["approval"]["current_level"] if now["approval"] else None
        received = now["returned_at"] is not None
        return (now["status"], level, received, now["inspection_passed"])  # claiming keeps the state

    async def setup_steps(self, obj: dict[str, Any]) -> list[Step]:
        return []


SCENARIOS = {
    "refund": ({"type": "refund"}, "C-1"),
    "lightning_return": ({"type": "return_refund", "lines": [{"sku": "SKU-1", "quantity": 1}]}, "C-1"),
    "return": ({"type": "return_refund", "lines": [{"sku": "SKU-1", "quantity": 1}]}, "C-2"),
    "exchange": ({"type": "exchange", "lines": [{"sku": "SKU-1", "quantity": 1}]}, "C-1"),
    "compensation": ({"type": "compensation", "compensation_kind": "coupon", "amount": 500}, "C-1"),
}
"""One per table fragment: review and payment (partial refund's table too), the return's two ways, delivery (replenish's
table too), and payment without acceptance."""


@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_every_offered_after_sales_action_is_accepted_and_views_agree(client, auth, scenario):
    await seed_shop(client, auth)
    await put(client, auth(Role.INTEGRATION), "/v1/customers/C-2", customer_body(level="regular"))
    request, customer_no = SCENARIOS[scenario]

    result = await walk(AfterSalesDriver(client, auth, request, customer_no))

    assert result.lies == []
    assert len(result.states) >= 4 and result.checked >= 8, result.states
