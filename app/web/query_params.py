"""Parameters no route could use are refused before it runs: a scalar query parameter given twice (`?limit=5&limit=50`)
rather than silently taking the last, and a NUL character in any query or path parameter (PostgreSQL cannot compare
or store one: it would reach the driver as a 500)."""

from __future__ import annotations

import types
from collections.abc import Iterable
from typing import Any, Union, get_args, get_origin

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from app.domain.errors import FieldError, InvalidInput


def _is_collection(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin in (list, tuple, set, frozenset):
        return True
    return origin in (Union, types.UnionType) and any(_is_collection(arg) for arg in get_args(annotation))


def _scalar_names(route: APIRoute) -> frozenset[str]:
    """Walks the dependency tree itself: FastAPI's flattening helpers are internal and change between releases."""
    names: set[str] = set()
    pending: list[Dependant] = [route.dependant]
    while pending:
        dependant = pending.pop()
        names.update(p.alias for p in dependant.query_params if not _is_collection(p.field_info.annotation))
        pending.extend(dependant.dependencies)
    return frozenset(names)


def refuse_unusable_parameters(request: Request) -> None:
    """Checked by every route's permission (`Allow`, `Signed`, `PublicLink`), once the caller is known: a dependency
    of its own would cost a solve per request."""
    _refuse_nul(request)
    route = request.scope.get("route")
    keys = [key for key, _ in request.query_params.multi_items()]
    if len(keys) == len(set(keys)) or not isinstance(route, APIRoute):
        return  # the common case costs one pass over the query string
    scalars = _scalar_names(route)
    repeated = sorted({key for key in keys if key in scalars and keys.count(key) > 1})
    if repeated:
        raise InvalidInput(
            f"The request has {len(repeated)} invalid field(s)",
            code="validation_failed",
            errors=[
                FieldError(name, "given more than once; it takes one value", location="query") for name in repeated
            ],
        )


def _refuse_nul(request: Request) -> None:
    scope = request.scope
    if b"%00" not in scope["query_string"] and "\x00" not in scope["path"]:
        return  # the common case: two scans of short strings
    named = [(key, "query") for key, value in request.query_params.multi_items() if "\x00" in key + value]
    named += [(key, "path") for key, value in request.path_params.items() if "\x00" in str(value)]
    if named:
        raise InvalidInput(
            f"The request has {len(named)} invalid field(s)",
            code="validation_failed",
            errors=[
                FieldError(name, "holds a NUL character, which no field can hold", location=at) for name, at in named
            ],
        )


def one_of(values: list[str] | None, allowed: Iterable[str], name: str) -> tuple[str, ...]:
    """A repeatable query parameter whose values must come from a set known only at run time (workflow states)."""
    known = set(allowed)
    unknown = [value for value in values or () if value not in known]
    if unknown:
        raise InvalidInput(
            f"Unknown {name} {unknown[0]!r}",
            code="validation_failed",
            errors=[FieldError(name, f"one of {sorted(known)}", location="query")],
        )
    return tuple(values or ())


def _query_names(route: APIRoute) -> frozenset[str]:
    names: set[str] = set()
    pending: list[Dependant] = [route.dependant]
    while pending:
        dependant = pending.pop()
        names.update(p.alias for p in dependant.query_params)
        pending.extend(dependant.dependencies)
    return frozenset(names)


def refuse_unknown_parameters(request: Request) -> None:
    """For routes whose parameters are filters, where a misspelt one silently widening the answer misleads: every
    query parameter must be one the route declares (422 naming each other one)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = _query_names(route)
    unknown = sorted({key for key in request.query_params if key not in known})
    if unknown:
        raise InvalidInput(
            f"The request has {len(unknown)} unknown parameter(s)",
            code="validation_failed",
            errors=[FieldError(name, "is not a parameter of this operation", location="query") for name in unknown],
        )
