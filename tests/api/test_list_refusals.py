"""Lists other than tickets refuse, with a 422 naming the parameters, the filter combinations no index serves; the
same filters narrowed to one owner (a customer, an order, a ticket) are answered."""

from __future__ import annotations

import pytest

from app.domain.principal import Role


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("/v1/after-sales?assignee=agent-1&type=refund", ["assignee", "type"]),
        ("/v1/after-sales?created_from=2026-01-01T00:00:00Z&status=refunded", ["created_from"]),
        ("/v1/after-sales?created_to=2026-01-01T00:00:00Z&assignee=me", ["created_to"]),
        ("/v1/tasks?assignee=agent-1&group=east", ["assignee", "group"]),
        ("/v1/tasks?group=east&overdue=true", ["group"]),
        ("/v1/tasks?group=east&due_before=2026-01-01T00:00:00Z", ["group"]),
        ("/v1/inbound-events?source=crm&type=customer.updated", ["source", "type"]),
    ],
)
async def test_a_combination_no_index_serves_is_refused_naming_its_parameters(client, auth, query, fields):
    response = await client.get(query, headers=auth(Role.ADMIN))

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_failed"
    assert sorted(error["parameter"] for error in response.json()["errors"]) == fields


@pytest.mark.parametrize(
    "query",
    [
        "/v1/after-sales?customer_no=C-1&assignee=agent-1&type=refund&created_from=2026-01-01T00:00:00Z",
        "/v1/after-sales?order_no=SO-1&status=refunded&created_to=2026-01-01T00:00:00Z",
        "/v1/tasks?ticket_id=0190f0c4-0000-7000-8000-000000000000&assignee=agent-1&group=east&overdue=true",
    ],
)
async def test_filters_narrowed_to_one_owner_combine_freely(client, auth, query):
    response = await client.get(query, headers=auth(Role.ADMIN))

    assert response.status_code == 200, response.text
    assert response.json()["items"] == []
