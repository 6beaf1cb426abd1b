"""Opaque cursors for keyset pages: `limit` 1..100 (default 20) and `cursor` from the previous page."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar
from uuid import UUID

import orjson
from fastapi import Query
from pydantic import BeforeValidator

from app.domain.errors import FieldError, InvalidInput
from app.domain.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, PageRequest
from app.schemas.common import PageOut

E = TypeVar("E")
R = TypeVar("R")

_ENCODERS = {UUID: "u", datetime: "t", int: "i", str: "s"}
_DECODERS = {"u": UUID, "t": datetime.fromisoformat, "i": int, "s": str}


def _tag(value: Any) -> str:
    # isinstance, not type(): drivers hand back subclasses (asyncpg's UUID).
    return next(tag for kind, tag in _ENCODERS.items() if isinstance(value, kind))


def encode_cursor(key: tuple[Any, ...] | None) -> str | None:
    if key is None:
        return None
    parts = [[_tag(value), value.isoformat() if isinstance(value, datetime) else str(value)] for value in key]
    return base64.urlsafe_b64encode(orjson.dumps(parts)).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, ...]:
    try:
        parts = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return tuple(_DECODERS[tag](value) for tag, value in parts)
    except (binascii.Error, orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(
            "The cursor is not one this service issued; start again without it",
            code="invalid_cursor",
            errors=[FieldError("cursor", "malformed cursor", location="query")],
        ) from exc


def digits(value: object) -> object:
    """A count in a query string is written in digits: `100.0`, `1e2` or `-1` is not one (a BeforeValidator of every
    whole-number query parameter)."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError("must be an integer written in digits")
    return value


async def page_request(
    limit: Annotated[  # Query before the validator, or its ge/le reach the document as unknown keywords
        int, Query(ge=1, le=MAX_LIMIT, description="Items per page."), BeforeValidator(digits)
    ] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Query(min_length=1, max_length=512, description="`next_cursor` of the previous page; omit for the first page."),
    ] = None,
) -> PageRequest:
    return PageRequest(limit=limit, after=decode_cursor(cursor) if cursor else None)


def page_out(page: Page[E], render: Callable[[E], R]) -> PageOut[R]:
    return PageOut(items=[render(item) for item in page.items], next_cursor=encode_cursor(page.next_key))
