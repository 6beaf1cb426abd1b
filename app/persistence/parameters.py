"""Parameters for one statement executed over rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def for_rows(rows: Sequence[dict[str, Any]]) -> dict[str, Any] | list[dict[str, Any]]:
    """One row as a single execution, several as executemany: SQLAlchemy sends even a one-element list through the
    driver's executemany, which costs asyncpg several times a single execution (measured on ticket creates)."""
    return rows[0] if len(rows) == 1 else list(rows)
