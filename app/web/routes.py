"""The app's operations and the permission each declares, for 405 `Allow`, OpenAPI and the route audit."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from app.domain.principal import Role
from app.web.auth import Allow, Signed


def api_routes(app: FastAPI) -> Iterator[APIRoute]:
    """Every operation, through included routers too (as FastAPI's own OpenAPI generator walks them)."""
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            yield context.original_route


def declared_roles(route: APIRoute) -> frozenset[Role] | None:
    """The roles of the route's `Allow` permission, or None when it declares none (an open route)."""
    pending: list[Dependant] = [route.dependant]
    while pending:
        dependant = pending.pop()
        if isinstance(dependant.call, Allow):
            return dependant.call.roles
        pending.extend(dependant.dependencies)
    return None


def is_signed(route: APIRoute) -> bool:
    """Whether the route authenticates its caller by a signed body (`Signed`) rather than by roles."""
    pending: list[Dependant] = [route.dependant]
    while pending:
        dependant = pending.pop()
        if isinstance(dependant.call, Signed):
            return True
        pending.extend(dependant.dependencies)
    return False


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    return sorted({method for route in api_routes(app) if route.path_regex.match(path) for method in route.methods})
