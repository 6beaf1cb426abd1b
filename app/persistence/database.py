"""Engine and connection policy for both databases.

SQLite: writers are serialised inside the process by one asyncio lock and open with `BEGIN IMMEDIATE`
(measured: letting writers contend on the busy timeout gives a p99 near 0.9 s; the lock ~45 ms).
"""

from __future__ import annotations

import asyncio
import time
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Any

import orjson
from sqlalchemy import event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

_SQLITE_PRAGMAS = (
    "PRAGMA foreign_keys=ON",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=10000",
)


def _json_text(value: Any) -> str:
    """A JSON column's text. Non-string keys are written as strings, as the standard library writes them."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


JSON_CODEC = {"json_serializer": _json_text, "json_deserializer": orjson.loads}
"""orjson reads and writes JSON columns: the standard library's json took a few percent of a ticket read's CPU."""


PING_AFTER_IDLE_SECONDS = 5.0
"""A pooled PostgreSQL connection idle this long is pinged before use: the server or a proxy may have dropped it."""


class Database:
    """Owns the engine; hands out connections for reading and (serialised on SQLite) for writing."""

    def __init__(
        self, url: str, *, pool_size: int = 20, echo: bool = False, ping_after_idle: float = PING_AFTER_IDLE_SECONDS
    ) -> None:
        self.url = url
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        options: dict[str, Any] = {"echo": echo, **JSON_CODEC}
        if not self.is_sqlite:
            options.update(pool_size=pool_size, max_overflow=0)
        self.engine: AsyncEngine = create_async_engine(url, **options)
        if not self.is_sqlite:
            _install_idle_ping(self.engine, ping_after_idle)
        if self.is_sqlite:
            _install_sqlite_transaction_control(self.engine)
            self.write_engine = self.engine.execution_options(sqlite_begin="BEGIN IMMEDIATE")
        else:
            self.write_engine = self.engine
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    async def read_options(self, conn: AsyncConnection) -> None:
        """A read on PostgreSQL runs in autocommit: no BEGIN and ROLLBACK, two round trips. Under READ COMMITTED
        each statement sees its own snapshot inside a transaction too, so a read sees exactly what it saw before.
        Set per connection (the pool restores it on checkin): an engine with these options would carry an event
        listener, and every statement of every request would pay for walking it."""
        if not self.is_sqlite:
            await conn.execution_options(isolation_level="AUTOCOMMIT")

    def write_slot(self) -> AbstractAsyncContextManager[object]:
        """Held for the whole of a write transaction: the process-wide lock on SQLite, nothing on PostgreSQL."""
        return self._write_lock if self._write_lock is not None else nullcontext()

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def _install_idle_ping(engine: AsyncEngine, ping_after_idle: float) -> None:
    """`pool_pre_ping`, but only for connections that sat idle: a ping is a round trip, and under load (every
    connection back in the pool within milliseconds) it was a request's most expensive statement for nothing.
    A connection that fails its ping is discarded and the pool hands out another (SQLAlchemy's disconnect
    handling: `DisconnectionError` from a checkout listener)."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < ping_after_idle:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise exc.DisconnectionError("a pooled connection failed its ping") from error


def _install_sqlite_transaction_control(engine: AsyncEngine) -> None:
    """Take BEGIN away from the driver so a write transaction can be `BEGIN IMMEDIATE`."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(conn.get_execution_options().get("sqlite_begin", "BEGIN"))


# SQLSTATEs of a database that is gone or refuses connections now: connection exceptions (class 08), too many
# connections, and a backend shut down or terminated by an operator (pg_terminate_backend) or starting up.
_UNAVAILABLE_SQLSTATES = ("08", "53300", "57P01", "57P02", "57P03")
_UNAVAILABLE_SQLITE = ("database is locked", "unable to open database file", "disk i/o error")


def is_unavailable(error: BaseException) -> bool:
    """True when `error` means the database cannot be reached or lost the connection (try again later), as opposed
    to a statement it refused. Walks the causes, because drivers and the pool wrap what the socket said."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if _unavailable_itself(current):
            return True
        pending.extend((current.__cause__, current.__context__, getattr(current, "orig", None)))
    return False


def _unavailable_itself(error: BaseException) -> bool:
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, exc.InterfaceError | exc.DisconnectionError | exc.TimeoutError):
        return True  # InterfaceError: "connection is closed"; TimeoutError: no pool connection in time
    if isinstance(error, ConnectionError | TimeoutError):
        return True  # refused, reset, broken pipe; a connect that timed out
    if type(error).__module__.startswith("asyncpg") and type(error).__name__ in _ASYNCPG_UNAVAILABLE:
        return True
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES):
        return True
    return type(error).__module__ == "sqlite3" and str(error).lower().startswith(_UNAVAILABLE_SQLITE)


_ASYNCPG_UNAVAILABLE = frozenset({"ConnectionDoesNotExistError", "CannotConnectNowError", "InterfaceError"})
