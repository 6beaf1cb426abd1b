"""What the HTTP layer costs per request, held where a test can see it: no dependency runs in the thread pool, the
caller is authenticated once, and an Idempotency-Key costs two small statements on its table."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.dependencies.models import Dependant
from sqlalchemy import event

from app.domain.principal import Role
from app.web.routes import api_routes
from tests.factories import seed_service_desk, ticket_body


def _runs_on_the_event_loop(call: object) -> bool:
    """What FastAPI awaits directly; any other callable (a plain `def`, a sync generator) goes to the thread pool."""
    return inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(type(call).__call__)


def _calls(dependant: Dependant) -> Iterator[object]:
    pending = [dependant]
    while pending:
        current = pending.pop()
        if current.call is not None:
            yield current.call
        pending.extend(current.dependencies)


@contextmanager
def statements_on(app, table: str) -> Iterator[list[str]]:
    """Every statement the app sends that names `table` while the block runs."""
    engine = app.state.services.database.engine.sync_engine
    seen: list[str] = []

    def note(_conn, _cursor, statement, _parameters, _context, _executemany) -> None:
        if table in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_no_endpoint_or_dependency_runs_in_the_thread_pool(app):
    threaded = sorted(
        {
            f"{route.path_format}: {getattr(call, '__qualname__', type(call).__qualname__)}"
            for route in api_routes(app)
            for call in _calls(route.dependant)
            if not _runs_on_the_event_loop(call)
        }
    )

    assert threaded == []


async def test_a_keyed_request_by_api_key_looks_the_key_up_once(app, client, auth):
    await seed_service_desk(client, auth)
    created = await client.post(
        "/v1/api-keys", json={"name": "im-bot", "roles": ["integration"]}, headers=auth(Role.ADMIN)
    )
    headers = {"X-API-Key": created.json()["key"], "Idempotency-Key": "bot-1"}

    with statements_on(app, "api_keys") as lookups:
        response = await client.post("/v1/tickets", json=ticket_body(), headers=headers)

    assert response.status_code == 201, response.text
    assert len(lookups) == 1, lookups


async def test_a_first_keyed_request_sends_two_statements_about_its_key(app, client, auth):
    await seed_service_desk(client, auth)
    headers = {**auth(Role.AGENT), "Idempotency-Key": "first"}

    with statements_on(app, "idempotency_keys") as statements:
        response = await client.post("/v1/tickets", json=ticket_body(), headers=headers)

    assert response.status_code == 201, response.text
    assert [s.split(None, 1)[0].upper() for s in statements] == ["INSERT", "UPDATE"], statements
