"""Fixtures: the app on a real, migrated database (SQLite and PostgreSQL), HTTP clients and tokens per role."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from app.domain.clock import SystemClock
from app.domain.principal import Role
from app.main import create_app
from app.settings import Settings
from app.web.logging import configure_logging
from tests.databases import (
    create_postgres_database,
    drop_postgres_database,
    empty_all_tables,
    migrate,
    sqlite_url,
)

configure_logging("INFO", json=True)

TEST_SECRET = "test-secret-0123456789abcdef0123456789abcdef"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`postgres_only` tests run only in the PostgreSQL half (SQLite serialises writers, so races cannot occur)."""
    keep, drop = [], []
    for item in items:
        backend = getattr(item, "callspec", None) and item.callspec.params.get("database_url")
        (drop if item.get_closest_marker("postgres_only") and backend == "sqlite" else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    if request.param == "sqlite":
        url = sqlite_url(tmp_path_factory.mktemp("sqlite"))
        await migrate(url)
        yield url
        return
    url = await create_postgres_database()
    try:
        await migrate(url)
        yield url
    finally:
        await drop_postgres_database(url)


ATTACHMENT_STORE = Path(tempfile.mkdtemp(prefix="aftersales-test-attachments-"))
atexit.register(shutil.rmtree, ATTACHMENT_STORE, ignore_errors=True)
"""Where apps under test keep uploaded files, unless a test names its own store: never the checkout's ./attachments."""


def make_settings(database_url: str, **overrides: object) -> Settings:
    """Background jobs do not run in the app under test: tests drive them directly."""
    return Settings(
        env="test",
        database_url=database_url,
        jwt_secret=TEST_SECRET,
        log_json=True,  # type: ignore[arg-type]
        **{"run_workers_in_process": False, "storage_dir": ATTACHMENT_STORE, **overrides},  # type: ignore[arg-type]
    )


@pytest.fixture(scope="session")
async def app(database_url: str) -> AsyncIterator[FastAPI]:
    application = create_app(make_settings(database_url))
    async with LifespanManager(application):
        yield application


@pytest.fixture(autouse=True)
async def _clean_database(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Tests that use the database start from empty tables."""
    yield
    if "app" in request.fixturenames:
        app: FastAPI = request.getfixturevalue("app")
        await empty_all_tables(app.state.services.database.engine)
        app.state.services.sla.forget_settings()  # the in-process copies of what was just emptied
        app.state.services.dispatcher.forget()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


TokenFor = Callable[..., dict[str, str]]


@pytest.fixture
def auth(app: FastAPI) -> TokenFor:
    """`auth(Role.AGENT)` → headers with a bearer token; customers get `customer_no` (default C-1)."""
    codec = app.state.services.tokens

    def headers(
        role: Role, *, sub: str | None = None, customer_no: str | None = None, business_lines: tuple[str, ...] = ()
    ) -> dict[str, str]:
        if role is Role.CUSTOMER:
            customer_no = customer_no or "C-1"
        token = codec.issue(
            subject=sub or f"{role.value}-1",
            roles=[role],
            customer_no=customer_no,
            business_lines=business_lines,
            now=SystemClock().now(),
            ttl=timedelta(hours=1),
        )
        return {"Authorization": f"Bearer {token}"}

    return headers


@asynccontextmanager
async def client_for(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


@pytest.fixture
def app_with(database_url: str) -> Callable[..., FastAPI]:
    """A separate app on the same database with some settings changed (`app_with(rate_limit_per_minute=2)`)."""
    return lambda **overrides: create_app(make_settings(database_url, **overrides))


class MovableClock:
    """A clock that tests move forward by hand."""

    def __init__(self) -> None:
        self._now = SystemClock().now()

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def timed_client(database_url: str, clock: MovableClock) -> AsyncIterator[httpx.AsyncClient]:
    """A client on an app whose time is `clock`, on the same database."""
    async with client_for(create_app(make_settings(database_url), clock=clock)) as http:
        yield http
