"""The business-line scope of staff reads, as SQL: the one condition every scoped list and report applies."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, or_


def in_business_lines(column: Any, lines: Collection[str] | None) -> list[ColumnElement[bool]]:
    """Staff scoped to business lines see those lines' records and records of no line, as
    `Principal.can_see_business_line` says; no scope (None) adds no condition."""
    return [] if lines is None else [or_(column.is_(None), column.in_(sorted(lines)))]
