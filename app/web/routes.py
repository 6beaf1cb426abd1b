"""The app's operations and the permission each declares, for 405 `Allow`, OpenAPI and the route audit."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from app.domain.principal import Role
from app.web.auth import Allow, PublicLink, Signed, SignedDownload

_P = TypeVar("_P", Allow, Signed, PublicLink, SignedDownload)


def operation_id(route: APIRoute) -> str:
    """camelCase of the endpoint function's name (`act_on_after_sales` → `actOnAfterSales`): short, and unchanged
    when the path changes, so generated SDKs keep their method names."""
    first, *rest = route.name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def api_router(*, tags: list[str], prefix: str = "") -> APIRouter:
    """A module's router, with what every operation shares set where its routes are made (FastAPI applies a
    router's id function as it creates each route), so that `mount` can lay them flat."""
    return APIRouter(
        prefix=prefix,
        tags=tags,  # type: ignore[arg-type]
        generate_unique_id_function=operation_id,
    )


def mount(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """The routers' routes straight on the app's own list, as if declared on it. An included router is matched
    through a layer of per-request bookkeeping (about 8% of a small request's CPU, measured); a flat list of
    routes is what Starlette matches fastest, and what the routes of `api_router` need no include for."""
    for router in routers:
        app.router.routes.extend(router.routes)


def api_routes(app: FastAPI) -> Iterator[APIRoute]:
    """Every operation, through included routers too (as FastAPI's own OpenAPI generator walks them)."""
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            yield context.original_route


def _declared(route: APIRoute, permission: type[_P]) -> _P | None:
    """The route's permission of that kind, wherever it sits in the dependency tree."""
    pending: list[Dependant] = [route.dependant]
    while pending:
        dependant = pending.pop()
        if isinstance(dependant.call, permission):
            return dependant.call
        pending.extend(dependant.dependencies)
    return None


def declared_roles(route: APIRoute) -> frozenset[Role] | None:
    """The roles of the route's `Allow` permission, or None when it declares none (an open route)."""
    allow = _declared(route, Allow)
    return allow.roles if allow is not None else None


def is_signed(route: APIRoute) -> bool:
    """Whether the route authenticates its caller by a signed body (`Signed`) rather than by roles."""
    return _declared(route, Signed) is not None


def is_public_link(route: APIRoute) -> bool:
    """Whether the route is a public survey link's, authorized by the token in its path (`PublicLink`)."""
    return _declared(route, PublicLink) is not None


def is_download_link(route: APIRoute) -> bool:
    """Whether the route serves an attachment behind a signed link (`SignedDownload`)."""
    return _declared(route, SignedDownload) is not None


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    return sorted({method for route in api_routes(app) if route.path_regex.match(path) for method in route.methods})
