"""Text rules every input shares: PostgreSQL cannot store NUL anywhere, and single-line fields (names, titles)
carry no control characters at all."""

from __future__ import annotations

import re
from typing import Any

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def contains_nul(value: Any) -> bool:
    """Whether a decoded JSON value holds a NUL character in any string, key or nested item."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(contains_nul(item) for item in value)
    return False


def refuse_nul(value: Any) -> Any:
    if contains_nul(value):
        raise ValueError("NUL characters are not allowed")
    return value


def single_line(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("control characters (line breaks included) are not allowed")
    return value
