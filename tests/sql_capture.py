"""The SQL an app sends, caught on the engine: to count it (statement budgets) or to explain it (index plans)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncConnection

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK")


@contextmanager
def sent_statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """(statement, parameters) of everything sent while the block runs, transaction control left out."""
    sent: list[tuple[str, Any]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many) -> None:
        if statement.split(None, 1)[0].upper() not in TRANSACTION_CONTROL:
            sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", capture)


async def executed_plans(conn: AsyncConnection, read: Callable[[], Awaitable[Any]]) -> list[dict]:
    """The executed plans (EXPLAIN ANALYZE, JSON) of every SELECT that `read()` sends on `conn`'s engine."""
    with sent_statements(conn.engine.sync_engine) as sent:
        await read()
    plans = []
    for statement, parameters in sent:
        if statement.lstrip().upper().startswith("SELECT"):
            result = await conn.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters)
            plans.append(result.scalar_one()[0])
    return plans


SCANS = frozenset({"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan"})


@dataclass(frozen=True)
class Scanned:
    """What an executed plan read: rows taken from tables and indexes (kept or thrown away by a filter), the
    indexes it went through, and the tables it read sequentially."""

    rows: int
    indexes: frozenset[str]
    sequential: tuple[str, ...]


def scan_nodes(plan: dict) -> list[str]:
    """Each scan of a plan in a line (node, relation, index, rows read, loops): what a failed plan test shows."""
    shown, pending = [], [plan["Plan"]]
    while pending:
        node = pending.pop()
        if node["Node Type"] in SCANS:
            read = node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
            index = node.get("Index Name", "-")
            shown.append(
                f"{node['Node Type']} {node.get('Relation Name')} {index} rows={read} loops={node['Actual Loops']}"
            )
        pending.extend(node.get("Plans", ()))
    return shown


def scanned(plan: dict, relation: str | None = None) -> Scanned:
    """The reads of an EXPLAIN (ANALYZE, FORMAT JSON) plan, of every relation or of `relation` only."""
    rows, indexes, sequential = 0, set(), []
    pending = [plan["Plan"]]
    while pending:
        node = pending.pop()
        if node["Node Type"] in SCANS and relation in (None, node.get("Relation Name")):
            rows += (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)) * node["Actual Loops"]
            if "Index Name" in node:
                indexes.add(node["Index Name"])
            if node["Node Type"] == "Seq Scan":
                sequential.append(node["Relation Name"])
        pending.extend(node.get("Plans", ()))
    return Scanned(rows, frozenset(indexes), tuple(sequential))
