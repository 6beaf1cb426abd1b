"""Shaping answers: upserts (201 on create, 200 on replace, always with the resource's ETag), and an answer that is
a resource plus a field or two."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Response
from pydantic import BaseModel

from app.services.revisions import Saved
from app.web.preconditions import set_etag

E = TypeVar("E")
R = TypeVar("R")
M = TypeVar("M", bound=BaseModel)


def saved(response: Response, result: Saved[E], render: Callable[[E], R]) -> R:
    response.status_code = 201 if result.created else 200
    set_etag(response, result.entity.version)  # type: ignore[attr-defined]
    return render(result.entity)


def versioned(response: Response, entity: Any, render: Callable[[Any], R]) -> R:
    set_etag(response, entity.version)
    return render(entity)


def extended(model: BaseModel, as_: type[M], **fields: Any) -> M:
    """`model` as its subclass `as_` with `fields` added. Its values are validated already and are taken as they are:
    dumping them to dicts to validate them again costs five times as much."""
    return as_(**model.__dict__, **fields)
