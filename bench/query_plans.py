"""EXPLAIN ANALYZE of the exact SQL the service's ticket repository sends for a list page, and which index it uses.

The statement is captured from `SqlTicketRepository.list` itself rather than written again here, so the plan
shown is the plan of the code that ships.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import create_async_engine

from app.domain.pagination import PageRequest
from app.domain.tickets import TicketFilter, TicketSort
from app.persistence.tickets import SqlTicketRepository

_INDEX = re.compile(r"(?:Index(?: Only)? Scan(?: Backward)? using|Bitmap Index Scan on) (\w+)")
_FILTERED = re.compile(r"Rows Removed by Filter: (\d+)")
_SORT_NODE = re.compile(r"(?:->\s+)?(?:Incremental )?Sort(?: \(|$)")  # the node, not a Merge Append's "Sort Key"


@dataclass(frozen=True, slots=True)
class Plan:
    label: str
    lines: list[str]

    @property
    def indexes(self) -> list[str]:
        return list(dict.fromkeys(m.group(1) for line in self.lines if (m := _INDEX.search(line))))

    @property
    def sorts(self) -> bool:
        """A Sort node means every matching row is read before the first is returned: cost grows with matches."""
        return any(_SORT_NODE.match(line.strip()) for line in self.lines)

    @property
    def filtered(self) -> int:
        """Rows read and thrown away: what a page costs beyond its own rows."""
        return sum(int(m.group(1)) for line in self.lines if (m := _FILTERED.search(line)))

    @property
    def summary(self) -> str:
        if not self.indexes:
            return "NO INDEX: sequential scan"
        how = "then sorts every match" if self.sorts else "read in index order"
        return f"{', '.join(self.indexes)} ({how}; {self.filtered:,} rows filtered out)"


async def explain(database_url: str, pages: Mapping[str, tuple[TicketFilter, TicketSort, PageRequest]]) -> list[Plan]:
    """One plan per labelled page."""
    engine = create_async_engine(database_url, pool_size=1)
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        sent.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    plans = []
    try:
        async with engine.connect() as conn:
            for label, (where, sort, page) in pages.items():
                sent.clear()
                await SqlTicketRepository(conn).list(where, sort, page)
                statement, parameters = sent[-1]
                result = await conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {statement}", parameters)
                plans.append(Plan(label, [row[0] for row in result]))
    finally:
        await engine.dispose()
    return plans
